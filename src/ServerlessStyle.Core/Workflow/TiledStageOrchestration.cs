using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// A tiled stage of the StylePair orchestration: every iteration fans out one RunTile per tile, then fans in with one
/// BlendTiles, which makes that iteration's whole image; then Finalize. An iteration costs its tiles plus one activities
/// of the generation's budget (<see cref="WorkflowSettings.ChunksPerGeneration"/>), and a generation runs at least one
/// iteration however many tiles there are, so history stays bounded by the tile count.
/// </summary>
internal static class TiledStageOrchestration
{
    /// <summary>Runs the stage from <paramref name="pair"/>'s next iteration; null when it continued as new first.</summary>
    public static async Task<(PairResult? Result, int Chunks)> RunAsync(
        TaskOrchestrationContext context, PairInput pair, PairInput stage, int budget, IReadOnlyList<StagePlan> stages,
        ILogger logger, TaskOptions retry)
    {
        var last = pair.LastOutcome;
        var iteration = pair.NextChunk;
        var used = 0;
        var cost = stage.Tiles + 1;
        while (iteration < stage.Request.Iterations && last?.Converged != true)
        {
            if (used >= budget || (used > 0 && used + cost > budget))
            {
                logger.LogInformation("Pair {PairId}: continuing as new at stage {Stage}, iteration {Iteration} of {Tiles} tiles", pair.Pair.PairId, pair.Stage, iteration, stage.Tiles);
                context.ContinueAsNew(pair with { NextChunk = iteration, Generation = pair.Generation + 1, LastOutcome = last });
                return (null, used);
            }

            var tiles = Enumerable.Range(0, stage.Tiles).Select(t => context.CallActivityAsync<TileOutcome>(
                StyleActivityNames.RunTile, new TileInput(stage.JobId, stage.Pair, stage.Request, iteration, t), retry));
            await Task.WhenAll(tiles);
            last = await context.CallActivityAsync<ChunkOutcome>(
                StyleActivityNames.BlendTiles, new ChunkInput(stage.JobId, stage.Pair, stage.Request, iteration), retry);
            iteration++;
            used += cost;
            context.SetCustomStatus(StylePairOrchestration.Status(pair, stages, iteration, last));
        }

        var result = await context.CallActivityAsync<PairResult>(
            StyleActivityNames.Finalize, stage with { NextChunk = iteration, LastOutcome = last }, retry);
        return (result, used);
    }
}
