using Microsoft.Extensions.Logging.Abstractions;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Tests.Evaluation;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// A worker keeps its evaluation session from tile to tile, and drops it for the activities that evaluate nothing (a
/// blend, targets, the final image), whose whole-image work would otherwise come on top of its arena.
/// </summary>
public sealed class MemoryTrimmingStyleWorkTests
{
    private static readonly LossNetwork Tiny = RandomVgg19.CreateVggStyle("tiny_trimming", [4, RandomVgg19.Pool, 6], seed: 5);
    private static readonly JobRequest Request = new() { Content = ["uploads/j/a.png"], Styles = [new StyleInput("styles/s.jpg")] };
    private static readonly PairPlan Pair = new(0, "p0-s", "uploads/j/a.png", Request.Styles);

    [Fact]
    public async Task Activities_TileBlendTile_SessionKeptAcrossTilesAndReleasedForTheBlend()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var probe = new EvaluatingWork(evaluator);
        var work = new MemoryTrimmingStyleWork(probe, evaluator, NullLogger<MemoryTrimmingStyleWork>.Instance);

        await work.RunTileAsync(new TileInput("j", Pair, Request, 0, 0));
        await work.RunTileAsync(new TileInput("j", Pair, Request, 0, 1));
        Assert.Equal([0, 1], probe.SessionsAtStart);
        Assert.Equal(1, evaluator.CachedSessions);

        await work.BlendTilesAsync(new ChunkInput("j", Pair, Request, 0));
        Assert.Equal(0, probe.SessionsAtBlend);

        await work.RunTileAsync(new TileInput("j", Pair, Request, 1, 0));
        Assert.Equal([0, 1, 0], probe.SessionsAtStart);
        Assert.Equal(1, evaluator.CachedSessions);
    }

    /// <summary>A tile that evaluates the tiny network once, and a blend that only looks; records the sessions each saw.</summary>
    private sealed class EvaluatingWork(StyleEvaluator evaluator) : DelegatingStyleWork(null!)
    {
        private readonly StyleTargets _targets = evaluator.ComputeTargets(
            Tiny, GradientChecks.PatternImage(8, 10, 1), [(GradientChecks.PatternImage(8, 10, 2), 1.0)]);

        public List<int> SessionsAtStart { get; } = [];

        public int SessionsAtBlend { get; private set; } = -1;

        public override Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default)
        {
            SessionsAtStart.Add(evaluator.CachedSessions);
            var x = GradientChecks.PatternImage(8, 10, 3).Data;
            var terms = evaluator.Evaluate(Tiny, _targets, Tiny.DefaultWeights, x, new float[x.Length]);
            return Task.FromResult(new TileOutcome(input.Tile, input.Iteration, 1, terms.Total, 0, false, Reused: false));
        }

        public override Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            SessionsAtBlend = evaluator.CachedSessions;
            return Task.FromResult(new ChunkOutcome(input.Iteration, 1, 0, string.Empty, 0, 0, false, Reused: false));
        }
    }
}
