using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Runs each activity's work counting its start and end durably (<see cref="ActivityAttempts"/>). An activity whose
/// worker died <see cref="WorkflowOptions.MaxWorkerDeaths"/> times while running it (starts that never ended: killed,
/// out of memory, a native crash) is not run again: it fails as bad input, which is never retried, with a reason that
/// says so, instead of stalling every job behind it.
/// </summary>
public sealed class GuardedStyleWork(
    IStyleWork inner, JobStorage storage, IOptions<WorkflowOptions> workflow, ILogger<GuardedStyleWork> logger) : IStyleWork
{
    private readonly JobCancellation _cancellation = new(storage, TimeSpan.FromSeconds(workflow.Value.CancelCheckIntervalSeconds), logger);

    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(input.JobId, "validate", "validating the job", () => inner.ValidateJobAsync(input, cancellationToken), cancellationToken);

    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(
            input.JobId, $"{input.Pair.PairId}/prepare", $"preparing {input.Pair.PairId}", () => inner.PrepareTargetsAsync(input, cancellationToken), cancellationToken);

    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(
            input.JobId, $"{input.Pair.PairId}/chunk-{input.Iteration:0000}", $"chunk {input.Iteration} of {input.Pair.PairId}",
            () => inner.RunChunkAsync(input, cancellationToken), cancellationToken);

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(
            input.JobId, $"{input.Pair.PairId}/tile-{input.Tile:000}-{input.Iteration:0000}", $"tile {input.Tile} of iteration {input.Iteration} of {input.Pair.PairId}",
            () => inner.RunTileAsync(input, cancellationToken), cancellationToken);

    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(
            input.JobId, $"{input.Pair.PairId}/blend-{input.Iteration:0000}", $"blending iteration {input.Iteration} of {input.Pair.PairId}",
            () => inner.BlendTilesAsync(input, cancellationToken), cancellationToken);

    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(
            input.JobId, $"{input.Pair.PairId}/finalize", $"finishing {input.Pair.PairId}", () => inner.FinalizeAsync(input, cancellationToken), cancellationToken);

    /// <summary>Not counted: it records how the job ended, so it must run whatever its activities did.</summary>
    public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) =>
        inner.WriteSummaryAsync(summary, cancellationToken);

    private async Task<T> GuardedAsync<T>(string jobId, string activity, string what, Func<Task<T>> run, CancellationToken cancellationToken)
    {
        // Before the count, so that a late delivery for a canceled or purged job leaves no counter behind.
        await _cancellation.ThrowIfCanceledAsync(jobId, what, cancellationToken).ConfigureAwait(false);
        var before = await storage.Attempts.StartAsync(jobId, activity, cancellationToken).ConfigureAwait(false);
        try
        {
            if (before.Unended >= workflow.Value.MaxWorkerDeaths)
            {
                throw new JobRequestException(
                    "input",
                    $"{what} stopped the worker {before.Unended} times (it was killed, ran out of memory or crashed while running it), so it is not started again; a smaller height or other images may fit");
            }

            return await run().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await storage.Attempts.EndAsync(jobId, activity, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not recorded, this attempt counts as a worker that died: one more than the truth, never fewer.
                logger.LogWarning(e, "Job {JobId}: the end of {Activity} could not be recorded: {Reason}", jobId, activity, e.Message);
            }
        }
    }
}
