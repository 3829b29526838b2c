using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The inbox queue outside Azure. Azurite has no Event Grid, so <see cref="DropAsync"/> does what Azure does for an
/// upload to the inbox container: stores the blob, then puts the Event Grid event of it on the queue. A worker's
/// <see cref="ListenAsync"/> consumes the queue as the Functions queue trigger does: each message goes through
/// <see cref="InboxStarter"/>; one that throws is tried again, and after <see cref="MaxDequeueCount"/> tries (host.json
/// queues.maxDequeueCount) it moves to the poison queue <c>{queue}-poison</c>.
/// </summary>
public sealed class InboxQueue
{
    /// <summary>Tries of a failing message before it is poison: host.json's extensions.queues.maxDequeueCount.</summary>
    public const int MaxDequeueCount = 5;

    private static readonly TimeSpan MaxIdleDelay = TimeSpan.FromSeconds(2);

    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private readonly JobStorage _storage;

    public InboxQueue(string connectionString, JobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        var name = storage.Options.Container(InboxEvent.QueueName);
        // Messages as they are, like the app (host.json queues.messageEncoding none): Event Grid's JSON.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        _queue = new QueueClient(connectionString, name, options);
        _poison = new QueueClient(connectionString, name + "-poison", options);
    }

    public string Name => _queue.Name;

    public string PoisonName => _poison.Name;

    /// <summary>
    /// Uploads <paramref name="content"/> to <c>inbox/{blobName}</c> with the request fields as metadata, then queues its
    /// BlobCreated event; the upload's ETag, which with the name gives the job's id (<c>JobIds.FromBlob</c>).
    /// </summary>
    public async Task<string> DropAsync(
        string blobName, BinaryData content, IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        var container = _storage.Options.Container(_storage.Options.Inbox);
        var etag = await _storage.Inputs.UploadWithMetadataAsync($"inbox/{blobName}", content, metadata ?? new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        await SendAsync(InboxEvent.ToMessage(_queue.AccountName, container, blobName, etag.ToString(), content.ToMemory().Length, "application/octet-stream"), cancellationToken).ConfigureAwait(false);
        return etag.ToString();
    }

    /// <summary>Puts a message on the inbox queue as it is.</summary>
    public async Task SendAsync(string message, CancellationToken cancellationToken = default)
    {
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _queue.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the job of every message until <paramref name="cancellationToken"/> is canceled.</summary>
    public async Task ListenAsync(InboxStarter starter, DurableTaskClient client, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(starter);
        ArgumentNullException.ThrowIfNull(logger);
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var idle = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            QueueMessage[] messages;
            try
            {
                messages = (await _queue.ReceiveMessagesAsync(maxMessages: 1, visibilityTimeout: TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException e)
            {
                // Storage away for a moment (Azurite restarting): the worker keeps listening, as the trigger does.
                logger.LogWarning("Inbox queue {Queue} could not be read: {Message}", _queue.Name, e.Message);
                await Task.Delay(MaxIdleDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (messages.Length == 0)
            {
                await Task.Delay(idle, cancellationToken).ConfigureAwait(false);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, MaxIdleDelay.Ticks));
                continue;
            }

            idle = TimeSpan.FromMilliseconds(100);
            await HandleAsync(messages[0], starter, client, logger, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(QueueMessage message, InboxStarter starter, DurableTaskClient client, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await starter.StartAsync(message.Body.ToString(), client, cancellationToken).ConfigureAwait(false);
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (message.DequeueCount >= MaxDequeueCount)
            {
                logger.LogError("Inbox message {MessageId} moved to {Poison} after {Tries} tries: {Error}: {Message}", message.MessageId, _poison.Name, message.DequeueCount, e.GetType().Name, e.Message);
                await _poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await _poison.SendMessageAsync(message.Body.ToString(), cancellationToken).ConfigureAwait(false);
                await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
                return;
            }

            logger.LogWarning("Inbox message {MessageId} failed (try {Try} of {Tries}): {Error}: {Message}", message.MessageId, message.DequeueCount, MaxDequeueCount, e.GetType().Name, e.Message);
            // Visible again at once, as the Functions queue trigger does by default (visibilityTimeout 0).
            await _queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}
