using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

/// <summary>A tile's optimiser moved to its blended crop (OptimizerState.MoveTo) keeps its L-BFGS memory.</summary>
public sealed class MoveToTests
{
    [Fact]
    public async Task MoveTo_NextEvaluationIsAtTheNewPoint_AndTheStateRoundTripsThroughACheckpoint()
    {
        var state = OptimizerState.Create(new OptimizerSettings(), TestProblems.RosenbrockStart(12));
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 17);
        var moved = state.X.Select((v, i) => v + (i % 3 == 0 ? 0.01f : 0f)).ToArray();

        state.MoveTo(moved);
        state = await TestProblems.RoundTripAsync(state);
        var points = new List<float[]>();
        await ChunkRunner.RunChunkAsync(state, TestProblems.Recording(TestProblems.Rosenbrock, points), 5);

        Assert.Equal(moved, points[0]);
        Assert.Equal(22, state.Evaluations);
        Assert.True(state.Loss < (await LossAtAsync(moved)), $"loss {state.Loss} not below the moved point's");
    }

    [Fact]
    public async Task MoveTo_KeepsTheMemory_ConvergesFasterThanAFreshOptimiserFromTheSamePoint()
    {
        // An ill-conditioned quadratic (curvatures 1..100): the (s, y) pairs learnt before the move still describe it,
        // so the moved optimiser takes better steps than one that starts from steepest descent at the same point.
        const int n = 50;
        var start = Enumerable.Repeat(5f, n).ToArray();
        var state = OptimizerState.Create(new OptimizerSettings(), start);
        await ChunkRunner.RunChunkAsync(state, TestProblems.Quadratic, 15);
        var point = state.X.Select((v, i) => v + (i % 5 == 0 ? 0.5f : 0f)).ToArray();

        state.MoveTo(point);
        var fresh = OptimizerState.Create(new OptimizerSettings(), point);
        var movedLosses = (await ChunkRunner.RunChunkAsync(state, TestProblems.Quadratic, 12)).Losses;
        var freshLosses = (await ChunkRunner.RunChunkAsync(fresh, TestProblems.Quadratic, 12)).Losses;

        Assert.Equal(freshLosses[0], movedLosses[0]);
        // Deterministic: 0.35 against 0.44 when written. Both lose the first evaluation to the new point.
        Assert.True(state.Loss < fresh.Loss, $"after 12 evaluations: moved {state.Loss}, fresh {fresh.Loss}");
    }

    [Fact]
    public async Task MoveTo_WithRestartEachIteration_ForgetsTheMemoryLikeAFreshOptimiser()
    {
        // The request's restartEachIteration still holds for a tile: its chunk starts without memory, exactly as a
        // fresh optimiser at the moved point would.
        var settings = new OptimizerSettings(RestartEachIteration: true);
        var state = OptimizerState.Create(settings, TestProblems.RosenbrockStart(8));
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 20);
        var point = state.X.Select(v => v + 0.01f).ToArray();

        state.MoveTo(point);
        var fresh = OptimizerState.Create(settings, point);
        var moved = (await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 10)).Losses;

        Assert.Equal((await ChunkRunner.RunChunkAsync(fresh, TestProblems.Rosenbrock, 10)).Losses, moved);
        Assert.Equal(fresh.X, state.X);
    }

    [Fact]
    public void MoveTo_WrongLengthOrNonFinite_Throws()
    {
        var state = OptimizerState.Create(new OptimizerSettings(), [1f, 2f]);

        Assert.Throws<ArgumentException>(() => state.MoveTo([1f]));
        Assert.Throws<ArgumentException>(() => state.MoveTo([1f, float.NaN]));
    }

    private static async Task<double> LossAtAsync(float[] x) =>
        await TestProblems.Rosenbrock(x, new float[x.Length], CancellationToken.None);
}
