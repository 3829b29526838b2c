using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The StylePair orchestration: PrepareTargets -> RunChunk once per iteration (retried on transient faults) -> Finalize.
/// A request with scales runs that chain once per stage, coarse to fine, each stage starting from the previous one's
/// last checkpoint. A stage that PrepareTargets splits into tiles runs as <see cref="TiledStageOrchestration"/> instead. Every <see cref="WorkflowSettings.ChunksPerGeneration"/> chunks it continues as new with the stage
/// and next chunk index, so its history stays bounded however many iterations a job asks for. An activity refused or
/// stopped because the job was canceled ends the pair at once, without a retry, with no result (null).
/// </summary>
public static class StylePairOrchestration
{
    public static async Task<PairResult?> RunAsync(TaskOrchestrationContext context, PairInput input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(StylePairOrchestration));
        try
        {
            return await RunStagesAsync(context, input, logger);
        }
        catch (TaskFailedException e) when (WorkflowRetry.IsCanceled(e.FailureDetails))
        {
            logger.LogInformation("Pair {PairId}: job {JobId} was canceled; the pair ends here", input.Pair.PairId, input.JobId);
            return null;
        }
    }

    private static async Task<PairResult?> RunStagesAsync(TaskOrchestrationContext context, PairInput input, ILogger logger)
    {
        var retry = WorkflowRetry.Options(input.Settings);
        var budget = Math.Max(1, input.Settings.ChunksPerGeneration);
        var stages = Stages.Of(input.Request);
        if (stages.Count == 0)
        {
            var (result, _) = await RunChainAsync(context, input, input, budget, [], logger, retry);
            return result;
        }

        var current = input;
        for (var k = input.Stage; k < stages.Count; k++)
        {
            var (stagePair, stageRequest) = Stages.Of(current.Pair, current.Request, stages[k], current.StageStart);
            var stage = current with { Pair = stagePair, Request = stageRequest, EarlierStage = k < stages.Count - 1 };
            var (result, used) = await RunChainAsync(context, current, stage, budget, stages, logger, retry);
            if (result is null)
            {
                return null;
            }

            if (k == stages.Count - 1)
            {
                // The pair's result is its last stage's: final image and loss log in that stage's folder.
                return result with { PairId = input.Pair.PairId };
            }

            budget -= used;
            current = current with { Stage = k + 1, NextChunk = 0, LastOutcome = null, StageStart = new StageStart(stage.Pair.PairId, result.Iterations), Tiles = 0 };
        }

        throw new InvalidOperationException($"Pair {input.Pair.PairId} has no stage {input.Stage}.");
    }

    /// <summary>
    /// One chain of chunks for <paramref name="stage"/> (the whole pair when there are no stages); null when the chunk
    /// budget of this generation ran out and it continued as new with <paramref name="pair"/> advanced.
    /// </summary>
    private static async Task<(PairResult? Result, int Chunks)> RunChainAsync(
        TaskOrchestrationContext context, PairInput pair, PairInput stage, int budget, IReadOnlyList<StagePlan> stages,
        ILogger logger, TaskOptions retry)
    {
        var last = pair.LastOutcome;
        context.SetCustomStatus(Status(pair, stages, pair.NextChunk, last));
        var tiles = pair.Tiles;
        if (pair.NextChunk == 0 && budget > 0)
        {
            tiles = (await context.CallActivityAsync<PairPrepared>(StyleActivityNames.PrepareTargets, stage, retry)).Tiles;
        }

        if (tiles > 0)
        {
            return await TiledStageOrchestration.RunAsync(context, pair with { Tiles = tiles }, stage with { Tiles = tiles }, budget, stages, logger, retry);
        }

        var chunk = pair.NextChunk;
        var used = 0;
        while (chunk < stage.Request.Iterations && last?.Converged != true)
        {
            if (used >= budget)
            {
                logger.LogInformation("Pair {PairId}: continuing as new at stage {Stage}, chunk {Chunk}", pair.Pair.PairId, pair.Stage, chunk);
                context.ContinueAsNew(pair with { NextChunk = chunk, Generation = pair.Generation + 1, LastOutcome = last });
                return (null, used);
            }

            last = await context.CallActivityAsync<ChunkOutcome>(
                StyleActivityNames.RunChunk, new ChunkInput(stage.JobId, stage.Pair, stage.Request, chunk), retry);
            chunk++;
            used++;
            context.SetCustomStatus(Status(pair, stages, chunk, last));
        }

        var result = await context.CallActivityAsync<PairResult>(
            StyleActivityNames.Finalize, stage with { NextChunk = chunk, LastOutcome = last }, retry);
        return (result, used);
    }

    /// <summary>Progress over the whole pair: earlier stages count with their planned iterations.</summary>
    internal static PairStatus Status(PairInput input, IReadOnlyList<StagePlan> stages, int done, ChunkOutcome? last)
    {
        var total = stages.Count == 0 ? input.Request.Iterations : stages.Sum(s => s.Iterations);
        var before = stages.Take(input.Stage).Sum(s => s.Iterations);
        return new(input.Pair.PairId, before + done, total, last?.Loss, last?.Image, last?.SecondsPerEvaluation, input.Generation);
    }
}
