using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>Passes every call to <paramref name="inner"/>; test decorators override what they inject or observe.</summary>
internal class DelegatingStyleWork(IStyleWork inner) : IStyleWork
{
    protected IStyleWork Inner { get; } = inner;

    public virtual Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) => Inner.ValidateJobAsync(input, cancellationToken);

    public virtual Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) => Inner.PrepareTargetsAsync(input, cancellationToken);

    public virtual Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) => Inner.RunChunkAsync(input, cancellationToken);

    public virtual Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) => Inner.RunTileAsync(input, cancellationToken);

    public virtual Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) => Inner.BlendTilesAsync(input, cancellationToken);

    public virtual Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) => Inner.FinalizeAsync(input, cancellationToken);

    public virtual Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => Inner.WriteSummaryAsync(summary, cancellationToken);
}
