using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>A started (or found) job: <see cref="AlreadyExisted"/> is true when a duplicate delivery found it.</summary>
public sealed record StartedJob(string JobId, bool AlreadyExisted);

/// <summary>A job's progress for <c>GET /api/jobs/{id}</c>: its state, and per pair the latest iteration, loss and image.</summary>
public sealed record JobProgress(
    string JobId, string State, string RuntimeStatus, string? Reason, IReadOnlyList<PairStatus> Pairs, JobSummary? Summary);

/// <summary>Starts, reads and cancels StyleJob instances through a Durable Task client; shared by every host.</summary>
public static class StyleJobClient
{
    /// <summary>
    /// Starts the job unless an instance with its id exists already (a blob delivered twice, a retried POST with the
    /// same Idempotency-Key): then it starts nothing and reports the existing one. A start the backend refuses because
    /// the instance exists is reported as the existing job, not as an error. Callers that race to start one id may
    /// still all be told they created it: Durable Task's Azure Storage backend checks and creates an instance in two
    /// steps. <see cref="JobStartClaim"/> makes "exactly one created it" hold.
    /// </summary>
    public static async Task<StartedJob> StartAsync(DurableTaskClient client, JobInput input, CancellationToken cancellationToken = default)
    {
        var existing = await client.GetInstanceAsync(input.JobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return new StartedJob(input.JobId, AlreadyExisted: true);
        }

        try
        {
            // Every status deduplicates: without that a backend may replace a Pending instance, and two racing starts both "create" it.
            await client.ScheduleNewOrchestrationInstanceAsync(
                StyleOrchestrationNames.StyleJob, input, new StartOrchestrationOptions(input.JobId).WithDedupeStatuses(EveryStatus), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Each client says "exists" its own way (DurableTask.Core's OrchestrationAlreadyExistsException, a gRPC
            // AlreadyExists, InvalidOperationException): the instance being there now is what decides.
            if (await client.GetInstanceAsync(input.JobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }

            return new StartedJob(input.JobId, AlreadyExisted: true);
        }

        return new StartedJob(input.JobId, AlreadyExisted: false);
    }

    private static readonly OrchestrationRuntimeStatus[] EveryStatus =
    [
        OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended,
        OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated,
    ];

    /// <summary>The job an Idempotency-Key already started, or null (no key, or no such job yet).</summary>
    public static async Task<StartedJob?> FindAsync(DurableTaskClient client, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey))
        {
            return null;
        }

        var jobId = JobIds.FromIdempotencyKey(idempotencyKey);
        return await client.GetInstanceAsync(jobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is null
            ? null
            : new StartedJob(jobId, AlreadyExisted: true);
    }

    /// <summary>The job's progress, or null when no job has that id.</summary>
    public static async Task<JobProgress?> GetProgressAsync(DurableTaskClient client, string jobId, CancellationToken cancellationToken = default)
    {
        var job = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (job is null || job.Name != StyleOrchestrationNames.StyleJob)
        {
            return null;
        }

        var pairs = new List<PairStatus>();
        foreach (var pairId in job.ReadCustomStatusAs<JobStatus>()?.PairInstanceIds ?? [])
        {
            // The custom status only comes with inputs and outputs: ReadCustomStatusAs throws on metadata fetched without them.
            var pair = await client.GetInstanceAsync(pairId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (pair?.ReadCustomStatusAs<PairStatus>() is { } status)
            {
                pairs.Add(status);
            }
        }

        // A job whose work failed still completes its orchestration (it wrote a Failed summary); the state comes from there.
        var summary = job.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? job.ReadOutputAs<JobSummary>() : null;
        var state = summary?.State.ToString() ?? job.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Failed => nameof(JobState.Failed),
            OrchestrationRuntimeStatus.Terminated => "Canceled",
            OrchestrationRuntimeStatus.Pending => "Pending",
            _ => nameof(JobState.Running),
        };
        return new JobProgress(jobId, state, job.RuntimeStatus.ToString(), summary?.Reason ?? job.FailureDetails?.ErrorMessage, pairs, summary);
    }

    /// <summary>
    /// Cancels a job: writes Canceled to its job.json, each pair Canceled unless it finished (the viewer stops polling, a
    /// running chunk notices and stops without a checkpoint, a retry or a late delivery does no work), terminates its
    /// orchestration and then each of its pairs that still runs, and with <paramref name="purge"/> deletes its blobs and
    /// history. False when no job has that id. The pairs are terminated one by one: a backend that does not terminate
    /// sub-orchestrations with their parent (Durable Functions on Azure Storage) would leave them running.
    /// </summary>
    public static async Task<bool> CancelAsync(
        DurableTaskClient client, JobStorage storage, string jobId, bool purge = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var job = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        var document = await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        if ((job is null || job.Name != StyleOrchestrationNames.StyleJob) && document is null)
        {
            return false;
        }

        var pairs = new List<OrchestrationMetadata>();
        foreach (var pairId in PairInstanceIds(jobId, job, document))
        {
            if (await client.GetInstanceAsync(pairId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false) is { } pair)
            {
                pairs.Add(pair);
            }
        }

        if (document is not null)
        {
            var finished = pairs
                .Where(p => p.RuntimeStatus == OrchestrationRuntimeStatus.Completed && p.ReadOutputAs<PairResult>() is not null)
                .Select(p => p.ReadOutputAs<PairResult>()!)
                .ToDictionary(r => r.PairId, StringComparer.Ordinal);
            document = await storage.Documents.UpdateAsync(jobId, d => (d ?? document).Canceled(CanceledReason, finished), cancellationToken).ConfigureAwait(false);
        }

        var terminate = new TerminateInstanceOptions { Output = CanceledReason, Recursive = true };
        if (job is not null && IsUnfinished(job))
        {
            await client.TerminateInstanceAsync(jobId, terminate, cancellationToken).ConfigureAwait(false);
        }

        foreach (var pair in pairs.Where(IsUnfinished))
        {
            await client.TerminateInstanceAsync(pair.InstanceId, terminate, cancellationToken).ConfigureAwait(false);
        }

        if (purge && job is not null && IsUnfinished(job))
        {
            // A history can be purged only once the termination has landed.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(30));
            await client.WaitForInstanceCompletionAsync(jobId, getInputsAndOutputs: false, wait.Token).ConfigureAwait(false);
        }

        if (purge && document is not null)
        {
            await JobRetention.DeleteJobAsync(storage, job is null ? null : client, document, results: true, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private const string CanceledReason = "canceled by request";

    private static bool IsUnfinished(OrchestrationMetadata instance) =>
        instance.IsRunning || instance.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended;

    /// <summary>
    /// The job's pair instances: those its status lists once it fanned out, else one per pair job.json planned (a job
    /// canceled while it validated may still create them).
    /// </summary>
    private static IEnumerable<string> PairInstanceIds(string jobId, OrchestrationMetadata? job, JobDocument? document)
    {
        var listed = job?.Name == StyleOrchestrationNames.StyleJob ? job.ReadCustomStatusAs<JobStatus>()?.PairInstanceIds ?? [] : [];
        var planned = Enumerable.Range(0, document?.Pairs.Count ?? 0).Select(k => JobIds.Pair(jobId, k));
        return listed.Concat(planned).Distinct(StringComparer.Ordinal);
    }
}
