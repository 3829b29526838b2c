using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>An image sent with a multipart request: its file name and its bytes (read within the size limit).</summary>
public sealed record UploadedImage(string FileName, BinaryData Content);

/// <summary>Turns what a starter received (an inbox blob, a JSON body, an upload) into a validated <see cref="JobInput"/>.</summary>
public sealed class JobIntake(JobStorage storage, IOptions<LimitsOptions> limits, IOptions<WorkflowOptions> workflow)
{
    /// <summary>Extensions a style in the library may have, in the order of preference when several match.</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    /// <summary>
    /// An inbox blob <c>{styles}/{file}</c> (name inside the inbox container): the styles segment names library styles
    /// joined by '+', the metadata may set the other request fields; the id hashes container, name and ETag.
    /// A rejected drop still gets a job: <c>results/{id}/job.json</c> says Failed and why, then the
    /// <see cref="JobRequestException"/> is rethrown (the drop starts nothing).
    /// </summary>
    public async Task<JobInput> FromInboxBlobAsync(
        string blobName, string etag, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        var jobId = JobIds.FromBlob(storage.Options.Container(storage.Options.Inbox), blobName, etag);
        try
        {
            var slash = blobName.IndexOf('/');
            if (slash <= 0 || slash == blobName.Length - 1)
            {
                throw new JobRequestException("blob", $"'{blobName}' is not inbox/{{styles}}/{{file}}");
            }

            var styles = await ResolveStylesAsync(blobName[..slash], cancellationToken).ConfigureAwait(false);
            var request = JobRequestParser.FromMetadata(metadata, $"inbox/{blobName}", styles, limits.Value);
            return new JobInput(jobId, request, workflow.Value.ToSettings());
        }
        catch (JobRequestException e)
        {
            await WriteRejectedAsync(jobId, $"inbox/{blobName}", e, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Writes job.json as Failed for a request that never became an orchestration, so its id still tells the user why;
    /// a job that already has a document (an earlier delivery of the same drop started it) is left as it is.
    /// </summary>
    private Task WriteRejectedAsync(string jobId, string source, JobRequestException error, CancellationToken cancellationToken) =>
        storage.Documents.UpdateAsync(jobId, job => job ?? JobDocument.Rejected(jobId, source, error.Message), cancellationToken);

    /// <summary>A JSON request v1; the id comes from the Idempotency-Key when there is one.</summary>
    public JobInput FromJson(string json, string? idempotencyKey)
    {
        var request = JobRequestParser.Parse(json, limits.Value);
        return new JobInput(NewJobId(idempotencyKey), request, workflow.Value.ToSettings());
    }

    /// <summary>
    /// A multipart upload: checks every file (size, image header) and the request built from them and the optional JSON
    /// <paramref name="optionsJson"/> (request fields other than content and styles), and only then stores the images
    /// under <c>uploads/{job}/</c>, each only if no blob of that name exists: a refused request leaves nothing behind,
    /// and an earlier attempt's inputs are never overwritten.
    /// </summary>
    public async Task<JobInput> FromUploadAsync(
        UploadedImage content, IReadOnlyList<UploadedImage> styles, string? optionsJson, string? idempotencyKey,
        CancellationToken cancellationToken = default)
    {
        var options = ParseOptions(optionsJson);
        if (styles.Count == 0)
        {
            throw new JobRequestException("styles", "at least one style image is required");
        }

        var jobId = NewJobId(idempotencyKey);
        var contentSize = Check(content, "content");
        for (var i = 0; i < styles.Count; i++)
        {
            Check(styles[i], $"styles[{i}]");
        }

        var files = styles.Select((style, i) => (Name: UploadName(jobId, $"style{i}", style), File: style)).Prepend((Name: UploadName(jobId, "content", content), File: content)).ToList();
        options["content"] = files[0].Name;
        options["styles"] = new JsonArray([.. files.Skip(1).Select(f => (JsonNode)new JsonObject { ["blob"] = f.Name })]);
        var request = JobRequestParser.Parse(options.ToJsonString(), limits.Value);
        JobSizes.Check(request, [contentSize], limits.Value);

        foreach (var (name, file) in files)
        {
            await storage.Inputs.TryCreateAsync(name, file.Content, cancellationToken).ConfigureAwait(false);
        }

        return new JobInput(jobId, request, workflow.Value.ToSettings());
    }

    /// <summary>Resolves '+'-joined style names to blobs of the styles container; a missing style is a request error.</summary>
    public async Task<IReadOnlyList<string>> ResolveStylesAsync(string styles, CancellationToken cancellationToken = default)
    {
        var names = styles.Split('+');
        if (names.Any(string.IsNullOrWhiteSpace))
        {
            throw new JobRequestException("styles", $"'{styles}' has an empty style name (names are joined by '+')");
        }

        var available = await storage.Inputs.ListStylesAsync(cancellationToken).ConfigureAwait(false);
        return ResolveStyles(names, available);
    }

    /// <summary>Each name matches <c>{name}.{image extension}</c> in <paramref name="available"/>; gives request blob names <c>styles/...</c>.</summary>
    public static IReadOnlyList<string> ResolveStyles(IReadOnlyList<string> names, IReadOnlyList<string> available)
    {
        var resolved = new List<string>();
        foreach (var name in names)
        {
            var match = ImageExtensions
                .Select(ext => available.FirstOrDefault(a => string.Equals(a, name + ext, StringComparison.OrdinalIgnoreCase)))
                .FirstOrDefault(a => a is not null)
                ?? throw new JobRequestException(
                    "styles",
                    $"style '{name}' is not in the styles container; available: {string.Join(", ", available.Take(20).Select(JobIds.Stem))}");
            resolved.Add($"styles/{match}");
        }

        return resolved;
    }

    private static string NewJobId(string? idempotencyKey) =>
        string.IsNullOrWhiteSpace(idempotencyKey) ? JobIds.New() : JobIds.FromIdempotencyKey(idempotencyKey);

    private static JsonObject ParseOptions(string? optionsJson)
    {
        if (string.IsNullOrWhiteSpace(optionsJson))
        {
            return [];
        }

        try
        {
            var node = JsonNode.Parse(optionsJson, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            var options = node as JsonObject ?? throw new JobRequestException("request", "the request part must be a JSON object");
            foreach (var field in new[] { "content", "styles" })
            {
                if (options.ContainsKey(field))
                {
                    throw new JobRequestException(field, "comes from the uploaded files in a multipart request; leave it out of the request part");
                }
            }

            return options;
        }
        catch (JsonException e)
        {
            throw new JobRequestException("request", "the request part is not valid JSON: " + e.Message, e);
        }
    }

    /// <summary>An uploaded file's size and image header within the limits; its width and height.</summary>
    private (int Width, int Height) Check(UploadedImage file, string field)
    {
        try
        {
            return ImageLoader.ReadSize(file.Content.ToArray(), limits.Value.InputImageLimits);
        }
        catch (InvalidImageException e)
        {
            throw new JobRequestException(field, $"'{file.FileName}': {e.Message}", e);
        }
    }

    private static string UploadName(string jobId, string role, UploadedImage file) =>
        $"uploads/{BlobLayout.Upload(jobId, $"{role}-{BlobLayout.SafeFileName(file.FileName)}")}";
}
