using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The StylePair orchestration: PrepareTargets -> RunChunk once per iteration (retried on transient faults) -> Finalize.
/// Every <see cref="WorkflowSettings.ChunksPerGeneration"/> chunks it continues as new with the next chunk index, so
/// its history stays bounded however many iterations a job asks for.
/// </summary>
public static class StylePairOrchestration
{
    public static async Task<PairResult> RunAsync(TaskOrchestrationContext context, PairInput input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(StylePairOrchestration));
        var retry = WorkflowRetry.Options(input.Settings);
        var total = input.Request.Iterations;
        var last = input.LastOutcome;
        context.SetCustomStatus(Status(input, input.NextChunk, last));

        if (input.NextChunk == 0 && input.Generation == 0)
        {
            await context.CallActivityAsync<PairPrepared>(StyleActivityNames.PrepareTargets, input, retry);
        }

        var chunk = input.NextChunk;
        var perGeneration = Math.Max(1, input.Settings.ChunksPerGeneration);
        while (chunk < total && last?.Converged != true)
        {
            if (chunk - input.NextChunk >= perGeneration)
            {
                logger.LogInformation("Pair {PairId}: continuing as new at chunk {Chunk}", input.Pair.PairId, chunk);
                context.ContinueAsNew(input with { NextChunk = chunk, Generation = input.Generation + 1, LastOutcome = last });
                return null!;
            }

            last = await context.CallActivityAsync<ChunkOutcome>(
                StyleActivityNames.RunChunk, new ChunkInput(input.JobId, input.Pair, input.Request, chunk), retry);
            chunk++;
            context.SetCustomStatus(Status(input, chunk, last));
        }

        return await context.CallActivityAsync<PairResult>(
            StyleActivityNames.Finalize, input with { NextChunk = chunk, LastOutcome = last }, retry);
    }

    private static PairStatus Status(PairInput input, int done, ChunkOutcome? last) =>
        new(input.Pair.PairId, done, input.Request.Iterations, last?.Loss, last?.Image, last?.SecondsPerEvaluation, input.Generation);
}
