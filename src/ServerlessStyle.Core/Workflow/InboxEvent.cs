using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// A message on the inbox queue that is not an Event Grid storage event: the queue trigger fails on it, and after its
/// tries the message goes to the poison queue (<c>{queue}-poison</c>) with this error in the log.
/// </summary>
public sealed class InboxEventException(string message) : Exception(message);

/// <summary>
/// One message of the inbox queue: the Event Grid event (Event Grid schema) that the storage account's system topic
/// delivers for a blob created in the inbox container. In Azure, Event Grid writes it; locally, where Azurite has no
/// Event Grid, <see cref="ToMessage"/> writes the same JSON for the runner and the tests.
/// </summary>
public sealed record InboxEvent(string EventType, string Container, string BlobName, string ETag)
{
    /// <summary>The queue's name without the deployment's prefix, as infra/scale-rules.json names it.</summary>
    public const string QueueName = "inbox-events";

    public const string BlobCreated = "Microsoft.Storage.BlobCreated";

    private const string SubjectStart = "/blobServices/default/containers/";
    private const string SubjectBlobs = "/blobs/";

    /// <summary>
    /// Reads a message as the JSON of one event (an array of one is accepted too). Event Grid has been seen writing the
    /// event both as plain JSON and base64-encoded, so the app's queues take messages as they are (host.json
    /// <c>extensions.queues.messageEncoding: none</c>) and both spellings are read here.
    /// </summary>
    public static InboxEvent Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.Trim();
        if (text.Length > 0 && text[0] is not ('{' or '['))
        {
            text = DecodeBase64(text);
        }

        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InboxEventException($"inbox message is not JSON: {e.Message} (message starts '{Preview(message)}')");
        }

        if (json is JsonArray array)
        {
            json = array.Count == 1 ? array[0] : throw new InboxEventException($"inbox message holds {array.Count} events; Event Grid's storage queue delivery writes one per message");
        }

        if (json is not JsonObject evt)
        {
            throw new InboxEventException($"inbox message is not an event object (message starts '{Preview(message)}')");
        }

        var eventType = Field(evt, "eventType");
        var subject = Field(evt, "subject");
        if (!subject.StartsWith(SubjectStart, StringComparison.Ordinal) || subject.IndexOf(SubjectBlobs, SubjectStart.Length, StringComparison.Ordinal) is var blobs && blobs < 0)
        {
            throw new InboxEventException($"inbox event field 'subject' is '{subject}', not '{SubjectStart}{{container}}{SubjectBlobs}{{blob}}'");
        }

        var container = subject[SubjectStart.Length..blobs];
        var blobName = subject[(blobs + SubjectBlobs.Length)..];
        var etag = evt["data"] is JsonObject data && data["eTag"] is JsonValue value && value.TryGetValue<string>(out var e2) && e2.Length > 0
            ? e2
            : throw new InboxEventException($"inbox event for '{container}/{blobName}' has no 'data.eTag'; it is needed to start one job per upload");
        if (container.Length == 0 || blobName.Length == 0)
        {
            throw new InboxEventException($"inbox event field 'subject' is '{subject}': no container or blob name");
        }

        return new InboxEvent(eventType, container, blobName, etag);
    }

    /// <summary>The event as Event Grid writes it for a blob created in <paramref name="container"/> (Event Grid schema, one object).</summary>
    public static string ToMessage(string accountName, string container, string blobName, string etag, long contentLength, string contentType)
    {
        var evt = new JsonObject
        {
            ["topic"] = $"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/{accountName}",
            ["subject"] = $"{SubjectStart}{container}{SubjectBlobs}{blobName}",
            ["eventType"] = BlobCreated,
            ["id"] = Guid.NewGuid().ToString(),
            ["data"] = new JsonObject
            {
                ["api"] = "PutBlob",
                ["eTag"] = etag.Trim('"'),
                ["contentType"] = contentType,
                ["contentLength"] = contentLength,
                ["blobType"] = "BlockBlob",
                ["url"] = $"http://127.0.0.1/{accountName}/{container}/{blobName}",
            },
            ["dataVersion"] = "",
            ["metadataVersion"] = "1",
            ["eventTime"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        return evt.ToJsonString();
    }

    private static string Field(JsonObject evt, string name) =>
        evt[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new InboxEventException($"inbox event has no string field '{name}'");

    private static string DecodeBase64(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            throw new InboxEventException($"inbox message is neither JSON nor base64-encoded JSON (message starts '{Preview(text)}')");
        }
    }

    private static string Preview(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
