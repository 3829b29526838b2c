using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>Activity names, one place for the orchestrators, the Functions triggers and the local runner.</summary>
public static class StyleActivityNames
{
    public const string ValidateJob = nameof(ValidateJob);
    public const string PrepareTargets = nameof(PrepareTargets);
    public const string RunChunk = nameof(RunChunk);
    public const string RunTile = nameof(RunTile);
    public const string BlendTiles = nameof(BlendTiles);
    public const string Finalize = nameof(Finalize);
    public const string WriteSummary = nameof(WriteSummary);
}

/// <summary>
/// The activity bodies: each resolves nothing itself and calls <see cref="IStyleWork"/>, so the Functions app and the
/// local runner host the same code. They log one line per call; the work itself lives behind the seam.
/// </summary>
public sealed class StyleActivities(IStyleWork work, ILogger<StyleActivities> logger)
{
    public async Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        var plan = await work.ValidateJobAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId}: validated, {Pairs} pair(s)", input.JobId, plan.Pairs.Count);
        return plan;
    }

    public async Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var prepared = await work.PrepareTargetsAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId} pair {PairId}: targets {How}", input.JobId, input.Pair.PairId, prepared.AlreadyPresent ? "found" : "computed");
        return prepared;
    }

    public async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var outcome = await work.RunChunkAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Job {JobId} pair {PairId}: chunk {Iteration} {How} in {Seconds:0.000} s, loss {Loss:G6}",
            input.JobId, input.Pair.PairId, input.Iteration, outcome.Reused ? "reused" : "computed", clock.Elapsed.TotalSeconds, outcome.Loss);
        return outcome;
    }

    public async Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default)
    {
        var outcome = await work.RunTileAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Job {JobId} pair {PairId}: tile {Tile} of iteration {Iteration} {How} in {Seconds:0.000} s, loss {Loss:G6}",
            input.JobId, input.Pair.PairId, input.Tile, input.Iteration, outcome.Reused ? "reused" : "computed", outcome.Seconds, outcome.Loss);
        return outcome;
    }

    public async Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var outcome = await work.BlendTilesAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Job {JobId} pair {PairId}: iteration {Iteration}'s tiles {How}, loss {Loss:G6}",
            input.JobId, input.Pair.PairId, input.Iteration, outcome.Reused ? "found blended" : "blended", outcome.Loss);
        return outcome;
    }

    public async Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var result = await work.FinalizeAsync(input, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId} pair {PairId}: final image {Image}", input.JobId, input.Pair.PairId, result.FinalImage);
        return result;
    }

    public async Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default)
    {
        await work.WriteSummaryAsync(summary, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId}: {State} {Reason}", summary.JobId, summary.State, summary.Reason);
    }
}
