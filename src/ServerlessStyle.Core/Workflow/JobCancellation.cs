using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// How the work notices a canceled job: job.json says Canceled (StyleJobClient marks it before it ends the
/// orchestration). An activity of a canceled job is not started, and a running chunk stops at its next evaluation.
/// </summary>
public sealed class JobCancellation(JobStorage storage, TimeSpan checkInterval, ILogger logger)
{
    /// <summary>Throws when the job was canceled (or purged): a retry or a late delivery does no work and writes nothing.</summary>
    public async Task ThrowIfCanceledAsync(string jobId, string what, CancellationToken cancellationToken)
    {
        if ((await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false))?.State == JobState.Canceled)
        {
            throw new OperationCanceledException($"Job {jobId} was canceled: {what} is not started.");
        }
    }

    /// <summary>
    /// Runs a chunk's computation, reading the job's state every check interval meanwhile: when the job was canceled the
    /// computation's token is cancelled and an <see cref="OperationCanceledException"/> that says so (<paramref name="what"/>
    /// stopped, writing nothing) ends it.
    /// </summary>
    public async Task<T> RunWatchedAsync<T>(string jobId, Func<string> what, Func<CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(what);
        ArgumentNullException.ThrowIfNull(run);
        using var canceled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = WatchAsync(jobId, canceled);
        try
        {
            return await run(canceled.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (canceled.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Job {jobId} was canceled: {what()}, writing nothing.");
        }
        finally
        {
            await canceled.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the job's state every check interval while a chunk computes and cancels <paramref name="chunk"/> when the
    /// job was canceled; ends when <paramref name="chunk"/> is cancelled. A read that fails is not a cancel.
    /// </summary>
    private Task WatchAsync(string jobId, CancellationTokenSource chunk) => Task.Run(async () =>
    {
        try
        {
            while (!chunk.IsCancellationRequested)
            {
                await Task.Delay(checkInterval, chunk.Token).ConfigureAwait(false);
                try
                {
                    if ((await storage.Documents.ReadAsync(jobId, chunk.Token).ConfigureAwait(false))?.State == JobState.Canceled)
                    {
                        await chunk.CancelAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug(e, "Job {JobId}: its state could not be read for a cancel: {Reason}", jobId, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    });
}
