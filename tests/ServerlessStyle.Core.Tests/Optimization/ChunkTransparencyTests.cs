using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

public class ChunkTransparencyTests
{
    private const int TotalEvaluations = 140;

    [Theory]
    [InlineData(OptimizerKind.Lbfgs, 1)]
    [InlineData(OptimizerKind.Lbfgs, 7)]
    [InlineData(OptimizerKind.Lbfgs, 20)]
    [InlineData(OptimizerKind.Adam, 1)]
    [InlineData(OptimizerKind.Adam, 7)]
    [InlineData(OptimizerKind.Adam, 20)]
    public async Task RunChunkAsync_ChunksThroughCodec_MatchOneRunBitwise(OptimizerKind kind, int chunkSize)
    {
        // Rosenbrock from the classic start keeps the line search busy, so chunk ends fall inside line searches.
        var settings = new OptimizerSettings(kind, LearningRate: 0.05);
        var start = TestProblems.RosenbrockStart(30);
        var whole = OptimizerState.Create(settings, start);
        var wholeLosses = (await ChunkRunner.RunChunkAsync(whole, TestProblems.Rosenbrock, TotalEvaluations)).Losses;

        var chunked = OptimizerState.Create(settings, start);
        var chunkedLosses = new List<double>();
        for (var k = 0; k < TotalEvaluations / chunkSize; k++)
        {
            chunked = await TestProblems.RoundTripAsync(chunked);
            var result = await ChunkRunner.RunChunkAsync(chunked, TestProblems.Rosenbrock, chunkSize);
            chunkedLosses.AddRange(result.Losses);
        }

        Assert.False(whole.Converged);
        Assert.Equal(TotalEvaluations, wholeLosses.Count);
        Assert.Equal(wholeLosses, chunkedLosses);
        Assert.Equal(whole.X, chunked.X);
        Assert.Equal(whole.Loss, chunked.Loss);
        Assert.Equal(whole.Iterations, chunked.Iterations);
        Assert.Equal(await TestProblems.ToBytesAsync(whole), await TestProblems.ToBytesAsync(chunked));
    }

    [Fact]
    public async Task RunChunkAsync_AnyChunkEnd_LeavesXAtAnAcceptedIterateWithItsLoss()
    {
        // X must be a point the optimiser accepted (an evaluated point, with its loss), never a trial point;
        // accepted losses satisfy the sufficient-decrease condition, so they never go up.
        var state = OptimizerState.Create(new OptimizerSettings(), TestProblems.RosenbrockStart(6));
        var points = new List<float[]>();
        var losses = new List<double>();
        var recording = TestProblems.Recording(TestProblems.Rosenbrock, points);
        var sawTrialAhead = false;
        var previousLoss = double.PositiveInfinity;
        for (var k = 0; k < 120; k++)
        {
            losses.AddRange((await ChunkRunner.RunChunkAsync(state, recording, 1)).Losses);
            var index = points.FindLastIndex(p => p.AsSpan().SequenceEqual(state.X));
            Assert.True(index >= 0, $"after evaluation {k + 1} X is not a point that was evaluated");
            Assert.Equal(losses[index], state.Loss);
            Assert.True(state.Loss <= previousLoss, $"accepted loss rose from {previousLoss} to {state.Loss}");
            previousLoss = state.Loss!.Value;
            sawTrialAhead |= index < points.Count - 1;
        }

        // Some chunk ended with a rejected or unfinished trial, so the check above was not vacuous.
        Assert.True(sawTrialAhead);
    }

    [Fact]
    public async Task RunChunkAsync_CutInsideTheLineSearchsFirstStage_ResumesAsIfUncut()
    {
        // A chunk ends while the More-Thuente search is in its first stage, and the next chunk's evaluation does not end
        // that search: the resumed state must equal the uncut one to the byte, the stage included (a codec that forgot
        // the stage would leave it 0 here, which the check below shows is visible).
        var settings = new OptimizerSettings();
        var start = TestProblems.RosenbrockStart(30);
        for (var k = 1; k < 300; k++)
        {
            var whole = await CutAtAsync(settings, start, k);
            if (whole is not LbfgsState { Phase: LbfgsState.LbfgsPhase.LineSearch, Search.Stage: 1 })
            {
                continue;
            }

            var resumed = await TestProblems.RoundTripAsync(await CutAtAsync(settings, start, k));
            var forgetful = (LbfgsState)await TestProblems.RoundTripAsync(await CutAtAsync(settings, start, k));
            forgetful.Search.Stage = 0;
            var trials = ((LbfgsState)whole).LineSearchEvaluations;
            var uncutLoss = (await ChunkRunner.RunChunkAsync(whole, TestProblems.Rosenbrock, 1)).Losses;
            if (whole is not LbfgsState { Phase: LbfgsState.LbfgsPhase.LineSearch } searching || searching.LineSearchEvaluations != trials + 1)
            {
                // That evaluation ended the search (a new one starts in stage 1 whatever came before): not the case.
                continue;
            }

            Assert.Equal(uncutLoss, (await ChunkRunner.RunChunkAsync(resumed, TestProblems.Rosenbrock, 1)).Losses);
            Assert.Equal(await TestProblems.ToBytesAsync(whole), await TestProblems.ToBytesAsync(resumed));
            await ChunkRunner.RunChunkAsync(forgetful, TestProblems.Rosenbrock, 1);
            Assert.NotEqual(await TestProblems.ToBytesAsync(whole), await TestProblems.ToBytesAsync(forgetful));
            return;
        }

        Assert.Fail("No cut inside a first-stage line search that the next evaluation does not end, within 300 evaluations.");
    }

    private static async Task<OptimizerState> CutAtAsync(OptimizerSettings settings, float[] start, int evaluations)
    {
        var state = OptimizerState.Create(settings, start);
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, evaluations);
        return state;
    }
}
