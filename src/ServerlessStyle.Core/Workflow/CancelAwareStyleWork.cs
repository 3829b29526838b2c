using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Tells a job's cancel apart from other cancellations: an <see cref="OperationCanceledException"/> from the work, while
/// the caller's own token was not cancelled and job.json says Canceled, leaves as a <see cref="JobCanceledException"/>,
/// which the orchestrations end on at once instead of retrying. job.json is read only when such an exception occurs.
/// </summary>
public sealed class CancelAwareStyleWork(IStyleWork inner, JobStorage storage) : IStyleWork
{
    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.ValidateJobAsync(input, token), cancellationToken);

    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.PrepareTargetsAsync(input, token), cancellationToken);

    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.RunChunkAsync(input, token), cancellationToken);

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.RunTileAsync(input, token), cancellationToken);

    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.BlendTilesAsync(input, token), cancellationToken);

    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        RunAsync(input.JobId, token => inner.FinalizeAsync(input, token), cancellationToken);

    public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) =>
        RunAsync(summary.JobId, async token =>
        {
            await inner.WriteSummaryAsync(summary, token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> RunAsync<T>(string jobId, Func<CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        try
        {
            return await run(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (e is not JobCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (await IsCanceledAsync(jobId, cancellationToken).ConfigureAwait(false))
            {
                throw new JobCanceledException(e.Message, e);
            }

            throw;
        }
    }

    private async Task<bool> IsCanceledAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            return (await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false))?.State == JobState.Canceled;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unreadable now: the original exception stays, and is retried like any transient fault.
            return false;
        }
    }
}
