using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting;

/// <summary>
/// Hands the worker's stop signal to the work: Durable Task's activity context carries no cancellation token, so the
/// activities call <see cref="IStyleWork"/> without one. A stopped chunk ends at its next evaluation, writes nothing
/// (its checkpoint is written last) and is run again by whichever worker gets its message next.
/// </summary>
internal sealed class StoppableStyleWork(IStyleWork inner, ActivityGate gate) : IStyleWork
{
    /// <summary>Wraps the <see cref="IStyleWork"/> registered last (a benchmark's decorator included) in this class.</summary>
    public static void Decorate(IServiceCollection services, ActivityGate gate)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IStyleWork))
            ?? throw new InvalidOperationException("No IStyleWork is registered: call AddServerlessStyle first.");
        services.Remove(registered);
        services.AddSingleton<IStyleWork>(sp => new StoppableStyleWork(Create(sp, registered), gate));
    }

    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.ValidateJobAsync(input, token), cancellationToken);

    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.PrepareTargetsAsync(input, token), cancellationToken);

    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.RunChunkAsync(input, token), cancellationToken);

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.RunTileAsync(input, token), cancellationToken);

    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.BlendTilesAsync(input, token), cancellationToken);

    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        RunAsync((work, token) => work.FinalizeAsync(input, token), cancellationToken);

    public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) =>
        RunAsync(async (work, token) =>
        {
            await work.WriteSummaryAsync(summary, token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> RunAsync<T>(Func<IStyleWork, CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, gate.Stopping);
        return await run(inner, linked.Token).ConfigureAwait(false);
    }

    private static IStyleWork Create(IServiceProvider services, ServiceDescriptor registered) => registered switch
    {
        { ImplementationInstance: IStyleWork instance } => instance,
        { ImplementationFactory: { } factory } => (IStyleWork)factory(services),
        { ImplementationType: { } type } => (IStyleWork)ActivatorUtilities.CreateInstance(services, type),
        _ => throw new InvalidOperationException($"Cannot wrap the IStyleWork registration {registered}."),
    };
}
