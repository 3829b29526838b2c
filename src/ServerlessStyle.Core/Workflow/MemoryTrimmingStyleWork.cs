using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Keeps a worker's memory to what the activity under way needs, so that its peak is the largest activity's and not
/// their sum (docs/performance.md, "Posters"). Before an activity that evaluates nothing (the blend of a tiled stage,
/// targets, the final image) the evaluator's cached sessions go (<see cref="StyleEvaluator.ReleaseSessions"/>): their
/// arena holds a whole evaluation's activations between runs. After every activity a full, compacting collection gives
/// its garbage back to the system: a tile leaves its L-BFGS state and checkpoint buffers (hundreds of bytes a pixel),
/// a blend its whole-image copies, and the collector's own budget let them pile up across tens of tiles before; then
/// the C heap's free pages go back too (<see cref="NativeHeap"/>).
/// </summary>
public sealed class MemoryTrimmingStyleWork(IStyleWork inner, StyleEvaluator evaluator, ILogger<MemoryTrimmingStyleWork> logger) : IStyleWork
{
    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(ValidateJobAsync), evaluates: false, () => inner.ValidateJobAsync(input, cancellationToken));

    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(PrepareTargetsAsync), evaluates: false, () => inner.PrepareTargetsAsync(input, cancellationToken));

    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(RunChunkAsync), evaluates: true, () => inner.RunChunkAsync(input, cancellationToken));

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(RunTileAsync), evaluates: true, () => inner.RunTileAsync(input, cancellationToken));

    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(BlendTilesAsync), evaluates: false, () => inner.BlendTilesAsync(input, cancellationToken));

    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(FinalizeAsync), evaluates: false, () => inner.FinalizeAsync(input, cancellationToken));

    public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) =>
        TrimmedAsync(nameof(WriteSummaryAsync), evaluates: false, async () =>
        {
            await inner.WriteSummaryAsync(summary, cancellationToken).ConfigureAwait(false);
            return true;
        });

    private async Task<T> TrimmedAsync<T>(string activity, bool evaluates, Func<Task<T>> run)
    {
        if (!evaluates)
        {
            // The sessions' memory goes back before the activity needs its own: their managed Winograd weights and the
            // C heap pages ONNX Runtime freed.
            evaluator.ReleaseSessions();
            NativeHeap.CollectAndTrim();
        }

        try
        {
            return await run().ConfigureAwait(false);
        }
        finally
        {
            var clock = Stopwatch.StartNew();
            NativeHeap.CollectAndTrim();
            if (logger.IsEnabled(LogLevel.Debug))
            {
                using var process = Process.GetCurrentProcess();
                logger.LogDebug(
                    "{Activity}: RSS {Rss} MB after a {Milliseconds} ms collection, peak {Peak} MB so far, managed heap {Managed} MB",
                    activity, process.WorkingSet64 >> 20, clock.ElapsedMilliseconds, process.PeakWorkingSet64 >> 20, GC.GetTotalMemory(forceFullCollection: false) >> 20);
            }
        }
    }
}
