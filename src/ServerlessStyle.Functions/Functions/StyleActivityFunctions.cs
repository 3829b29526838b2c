using Microsoft.Azure.Functions.Worker;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Functions;

/// <summary>The activity triggers: each hands its input to the shared <see cref="StyleActivities"/>.</summary>
public sealed class StyleActivityFunctions(StyleActivities activities)
{
    [Function(nameof(ValidateJob))]
    public Task<JobPlan> ValidateJob([ActivityTrigger] JobInput input, FunctionContext context) =>
        activities.ValidateJobAsync(input, context.CancellationToken);

    [Function(nameof(PrepareTargets))]
    public Task<PairPrepared> PrepareTargets([ActivityTrigger] PairInput input, FunctionContext context) =>
        activities.PrepareTargetsAsync(input, context.CancellationToken);

    [Function(nameof(RunChunk))]
    public Task<ChunkOutcome> RunChunk([ActivityTrigger] ChunkInput input, FunctionContext context) =>
        activities.RunChunkAsync(input, context.CancellationToken);

    [Function(nameof(Finalize))]
    public Task<PairResult> Finalize([ActivityTrigger] PairInput input, FunctionContext context) =>
        activities.FinalizeAsync(input, context.CancellationToken);

    [Function(nameof(WriteSummary))]
    public Task WriteSummary([ActivityTrigger] JobSummary input, FunctionContext context) =>
        activities.WriteSummaryAsync(input, context.CancellationToken);
}
