using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>Registers the orchestrations and activities with a Durable Task worker (local runner, in-process tests).</summary>
public static class StyleWorkflow
{
    /// <summary>Adds StyleJob, StylePair and the seven activities; activities resolve <see cref="IStyleWork"/> from the host's services.</summary>
    public static DurableTaskRegistry AddStyleWorkflow(this DurableTaskRegistry registry)
    {
        registry.AddOrchestratorFunc<JobInput, JobSummary>(StyleOrchestrationNames.StyleJob, (context, input) => StyleJobOrchestration.RunAsync(context, input));
        registry.AddOrchestratorFunc<PairInput, PairResult?>(StyleOrchestrationNames.StylePair, (context, input) => StylePairOrchestration.RunAsync(context, input));
        Add<JobInput, JobPlan>(registry, StyleActivityNames.ValidateJob, (a, i) => a.ValidateJobAsync(i));
        Add<PairInput, PairPrepared>(registry, StyleActivityNames.PrepareTargets, (a, i) => a.PrepareTargetsAsync(i));
        Add<ChunkInput, ChunkOutcome>(registry, StyleActivityNames.RunChunk, (a, i) => a.RunChunkAsync(i));
        Add<TileInput, TileOutcome>(registry, StyleActivityNames.RunTile, (a, i) => a.RunTileAsync(i));
        Add<ChunkInput, ChunkOutcome>(registry, StyleActivityNames.BlendTiles, (a, i) => a.BlendTilesAsync(i));
        Add<PairInput, PairResult>(registry, StyleActivityNames.Finalize, (a, i) => a.FinalizeAsync(i));
        Add<JobSummary, bool>(registry, StyleActivityNames.WriteSummary, async (a, i) =>
        {
            await a.WriteSummaryAsync(i).ConfigureAwait(false);
            return true;
        });
        return registry;
    }

    private static void Add<TInput, TOutput>(
        DurableTaskRegistry registry, string name, Func<StyleActivities, TInput, Task<TOutput>> run) =>
        registry.AddActivity(name, services =>
            new DelegateActivity<TInput, TOutput>(input => run(ActivatorUtilities.GetServiceOrCreateInstance<StyleActivities>(services), input)));

    private sealed class DelegateActivity<TInput, TOutput>(Func<TInput, Task<TOutput>> run) : TaskActivity<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => run(input);
    }
}
