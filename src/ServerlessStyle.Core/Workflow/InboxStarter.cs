using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>What one inbox message did.</summary>
public enum InboxOutcome
{
    /// <summary>The drop's job was scheduled.</summary>
    Started,

    /// <summary>The drop's job exists already (the same upload delivered again).</summary>
    AlreadyExisted,

    /// <summary>The drop is not a valid job; its job.json says Failed and why.</summary>
    Rejected,

    /// <summary>The event is not a blob created in this deployment's inbox container.</summary>
    Ignored,

    /// <summary>The blob was overwritten or deleted since the event: the newer upload's own event starts its job.</summary>
    Superseded,
}

/// <summary>
/// Starts the job of an inbox drop from its queue message, the same way for the Functions queue trigger and for the
/// workers' queue listener: the job id hashes container, blob name and the event's ETag, so a message delivered twice
/// starts one job, and each upload of a name is a job of its own.
/// </summary>
public sealed class InboxStarter(JobIntake intake, JobStorage storage, ILogger<InboxStarter> logger)
{
    /// <summary>The inbox queue's name in this deployment: the container prefix applies to it as to the containers.</summary>
    public string QueueName => storage.Options.Container(InboxEvent.QueueName);

    /// <summary>Throws <see cref="InboxEventException"/> for a message that is no storage event (the caller's retries then poison it).</summary>
    public async Task<InboxOutcome> StartAsync(string message, DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        var evt = InboxEvent.Parse(message);
        var inbox = storage.Options.Container(storage.Options.Inbox);
        if (evt.EventType != InboxEvent.BlobCreated || evt.Container != inbox)
        {
            logger.LogWarning("Inbox event {EventType} for {Container}/{Blob} ignored: only {Expected} in {Inbox} starts jobs", evt.EventType, evt.Container, evt.BlobName, InboxEvent.BlobCreated, inbox);
            return InboxOutcome.Ignored;
        }

        // The metadata (the request's options) is read from the blob; it must still be the upload the event is about, or
        // the job would run another upload's image under this one's id.
        var current = await storage.Inputs.TryGetPropertiesAsync($"inbox/{evt.BlobName}", cancellationToken).ConfigureAwait(false);
        if (current is not { } blob || blob.ETag.ToString().Trim('"') != evt.ETag.Trim('"'))
        {
            logger.LogWarning("Inbox blob {Blob} (ETag {ETag}) skipped: it was {What} since", evt.BlobName, evt.ETag, current is null ? "deleted" : "overwritten");
            return InboxOutcome.Superseded;
        }

        try
        {
            var input = await intake.FromInboxBlobAsync(evt.BlobName, evt.ETag, blob.Metadata, cancellationToken).ConfigureAwait(false);
            var started = await StyleJobClient.StartAsync(client, input, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Inbox blob {Blob}: job {JobId} {How}", evt.BlobName, started.JobId, started.AlreadyExisted ? "already exists" : "started");
            return started.AlreadyExisted ? InboxOutcome.AlreadyExisted : InboxOutcome.Started;
        }
        catch (JobRequestException e)
        {
            // A bad drop fails the same way on every try: it ends here, with job.json saying why, not in the poison queue.
            logger.LogError("Inbox blob {Blob} rejected: {Reason}", evt.BlobName, e.Message);
            return InboxOutcome.Rejected;
        }
    }
}
