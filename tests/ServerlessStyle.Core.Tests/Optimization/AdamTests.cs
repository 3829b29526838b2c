using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

public class AdamTests
{
    [Fact]
    public async Task RunChunkAsync_Adam_DecreasesQuadratic()
    {
        var state = OptimizerState.Create(new OptimizerSettings(OptimizerKind.Adam, LearningRate: 0.1), new float[50]);

        var losses = (await ChunkRunner.RunChunkAsync(state, TestProblems.Quadratic, 300)).Losses;

        // Adam moves each coordinate about lr per step at first, and every |c_i| <= 3, so 300 steps of 0.1
        // reach the minimiser's neighbourhood; a hundredfold drop is far from what a wrong sign or bias
        // correction would give.
        Assert.True(losses[^1] < losses[0] / 100, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.Equal(300, state.Evaluations);
        Assert.Equal(losses[^1], state.Loss);
    }

    [Fact]
    public async Task RunChunkAsync_AdamFirstSteps_MoveEachCoordinateByLearningRate()
    {
        // With bias correction the first step is lr * g / (|g| + eps) per coordinate: exactly lr against the sign.
        var points = new List<float[]>();
        var state = OptimizerState.Create(new OptimizerSettings(OptimizerKind.Adam, LearningRate: 0.5), new float[10]);

        await ChunkRunner.RunChunkAsync(state, TestProblems.Recording(TestProblems.Quadratic, points), 2);

        for (var i = 0; i < 10; i++)
        {
            var expected = 0.5 * Math.Sign(TestProblems.QuadraticMinimiser(i));
            Assert.Equal(expected, points[1][i], 1e-6);  // eps = 1e-8 against |g| >= 1 changes the step by < 1e-8
        }
    }
}
