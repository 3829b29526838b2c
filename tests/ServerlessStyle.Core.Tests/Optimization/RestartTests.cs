using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

public class RestartTests
{
    [Fact]
    public async Task RunChunkAsync_RestartEachIteration_ChunkEqualsFreshOptimiserFromItsStart()
    {
        var start = TestProblems.RosenbrockStart(20);
        var boundary = await FirstEvaluationCountWithIterationsAsync(start, iterations: 5);

        var restarting = OptimizerState.Create(new OptimizerSettings(RestartEachIteration: true), start);
        var keeping = OptimizerState.Create(new OptimizerSettings(), start);
        var firstRestarting = (await ChunkRunner.RunChunkAsync(restarting, TestProblems.Rosenbrock, boundary)).Losses;
        var firstKeeping = (await ChunkRunner.RunChunkAsync(keeping, TestProblems.Rosenbrock, boundary)).Losses;

        // The first chunk starts from nothing either way.
        Assert.Equal(firstKeeping, firstRestarting);
        Assert.Equal(keeping.X, restarting.X);

        var chunkStart = restarting.X.ToArray();
        restarting = await TestProblems.RoundTripAsync(restarting);
        var secondRestarting = (await ChunkRunner.RunChunkAsync(restarting, TestProblems.Rosenbrock, 15)).Losses;
        var secondKeeping = (await ChunkRunner.RunChunkAsync(keeping, TestProblems.Rosenbrock, 15)).Losses;

        // A fresh optimiser from the chunk's start spends one evaluation on the start point, which the
        // restarting state already knows; after that the two must agree bit for bit.
        var fresh = OptimizerState.Create(new OptimizerSettings(), chunkStart);
        var freshLosses = (await ChunkRunner.RunChunkAsync(fresh, TestProblems.Rosenbrock, 16)).Losses;

        Assert.NotEqual(secondKeeping, secondRestarting);
        Assert.Equal(freshLosses.Skip(1), secondRestarting);
        Assert.Equal(fresh.X, restarting.X);
    }

    [Fact]
    public async Task RunChunkAsync_RestartInsideLineSearch_FinishesTheSearchWithoutRepeatingEvaluations()
    {
        // Chunks of one evaluation would repeat the same first trial forever if a restart threw away
        // the unfinished line search; the pending restart lets the search finish and the loss go down.
        var state = OptimizerState.Create(new OptimizerSettings(RestartEachIteration: true), TestProblems.RosenbrockStart(4));
        var losses = new List<double>();
        for (var k = 0; k < 60; k++)
        {
            losses.AddRange((await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 1)).Losses);
        }

        Assert.True(state.Iterations >= 5, $"only {state.Iterations} iterations in 60 evaluations");
        Assert.True(state.Loss < losses[0] / 2, $"loss {state.Loss} from {losses[0]}");
    }

    private static async Task<int> FirstEvaluationCountWithIterationsAsync(float[] start, int iterations)
    {
        var probe = OptimizerState.Create(new OptimizerSettings(), start);
        while (probe.Iterations < iterations)
        {
            await ChunkRunner.RunChunkAsync(probe, TestProblems.Rosenbrock, 1);
        }

        return probe.Evaluations;
    }
}
