using Microsoft.Azure.Functions.Worker;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>The activity triggers: each hands its input to the shared <see cref="StyleActivities"/>.</summary>
public sealed class StyleActivityFunctions(StyleActivities activities)
{
    [Function(StyleActivityNames.ValidateJob)]
    public Task<JobPlan> ValidateJob([ActivityTrigger] JobInput input, FunctionContext context) =>
        activities.ValidateJobAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.PrepareTargets)]
    public Task<PairPrepared> PrepareTargets([ActivityTrigger] PairInput input, FunctionContext context) =>
        activities.PrepareTargetsAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.RunChunk)]
    public Task<ChunkOutcome> RunChunk([ActivityTrigger] ChunkInput input, FunctionContext context) =>
        activities.RunChunkAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.RunTile)]
    public Task<TileOutcome> RunTile([ActivityTrigger] TileInput input, FunctionContext context) =>
        activities.RunTileAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.BlendTiles)]
    public Task<ChunkOutcome> BlendTiles([ActivityTrigger] ChunkInput input, FunctionContext context) =>
        activities.BlendTilesAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.Finalize)]
    public Task<PairResult> Finalize([ActivityTrigger] PairInput input, FunctionContext context) =>
        activities.FinalizeAsync(input, context.CancellationToken);

    [Function(StyleActivityNames.WriteSummary)]
    public Task WriteSummary([ActivityTrigger] JobSummary input, FunctionContext context) =>
        activities.WriteSummaryAsync(input, context.CancellationToken);
}
