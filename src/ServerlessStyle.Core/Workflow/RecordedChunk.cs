using System.Diagnostics;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>What <see cref="RecordedChunk.RunAsync"/> gives: the chunk, its seconds in all and in evaluations.</summary>
internal sealed record RecordedChunkResult(ChunkResult Chunk, double Seconds, double EvaluationSeconds)
{
    public double SecondsPerEvaluation => Chunk.Losses.Count > 0 ? EvaluationSeconds / Chunk.Losses.Count : 0;
}

/// <summary>
/// One chunk of a pair's or a tile's optimisation as the activities run it: at most the request's evaluations per
/// iteration under its objective, each evaluation's terms added to the loss rows, stopped (writing nothing) when the
/// job is canceled meanwhile.
/// </summary>
internal static class RecordedChunk
{
    public static async Task<RecordedChunkResult> RunAsync(
        StyleEngine engine, JobCancellation cancellation, string jobId, JobRequest request, StyleTargets targets, OptimizerState state,
        LossCsvRows rows, Func<string> stopped, CancellationToken cancellationToken)
    {
        var evaluationSeconds = 0.0;
        var clock = Stopwatch.StartNew();
        var objective = await engine.ObjectiveAsync(request, targets, (terms, seconds) =>
        {
            rows.Add(terms);
            evaluationSeconds += seconds;
        }, cancellationToken).ConfigureAwait(false);
        var chunk = await cancellation.RunWatchedAsync(
            jobId, stopped, token => ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, token), cancellationToken).ConfigureAwait(false);
        return new RecordedChunkResult(chunk, clock.Elapsed.TotalSeconds, evaluationSeconds);
    }
}
