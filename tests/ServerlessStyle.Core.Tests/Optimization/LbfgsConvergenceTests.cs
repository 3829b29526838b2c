using ServerlessStyle.Core.Optimization;
using Xunit.Abstractions;

namespace ServerlessStyle.Core.Tests.Optimization;

public class LbfgsConvergenceTests(ITestOutputHelper output)
{
    // Evaluation counts of scipy 1.10.1 fmin_l_bfgs_b (defaults, evaluation limits raised) from the same
    // starts: reference/scipy_lbfgsb.txt, produced by reference/scipy_lbfgsb.py (command in its header).
    public static TheoryData<string, int, int> Problems => new()
    {
        { "rosenbrock", 2, 44 },
        { "rosenbrock", 100, 604 },
        { "quadratic", 100, 66 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public Task RunChunkAsync_SmoothProblem_ConvergesWithinScipyEvaluationBudget(string problem, int n, int scipyEvaluations) =>
        ConvergesWithinScipyEvaluationBudgetAsync(problem, n, scipyEvaluations);

    // About 57 600 evaluations of a 10 000-variable problem: over a minute on a shared 2-core machine, so it
    // carries a trait that lets a quick run leave it out (--filter "Category!=Slow"); CI runs it.
    [Fact]
    [Trait("Category", "Slow")]
    public Task RunChunkAsync_Rosenbrock10000_ConvergesWithinScipyEvaluationBudget() =>
        ConvergesWithinScipyEvaluationBudgetAsync("rosenbrock", 10000, 57571);

    private async Task ConvergesWithinScipyEvaluationBudgetAsync(string problem, int n, int scipyEvaluations)
    {
        var (objective, start, minimiser) = problem == "rosenbrock"
            ? (TestProblems.Rosenbrock, TestProblems.RosenbrockStart(n), Enumerable.Repeat(1.0, n).ToArray())
            : (TestProblems.Quadratic, new float[n], Enumerable.Range(0, n).Select(TestProblems.QuadraticMinimiser).ToArray());
        var state = OptimizerState.Create(new OptimizerSettings(), start);

        await ChunkRunner.RunChunkAsync(state, objective, maxEvaluations: 4 * scipyEvaluations);

        output.WriteLine($"{problem}-{n}: {state.Evaluations} evaluations (scipy {scipyEvaluations}), {state.Iterations} iterations, loss {state.Loss:e6}, {state.ConvergenceReason}");
        Assert.True(state.Converged, $"not converged after {state.Evaluations} evaluations, loss {state.Loss}");
        Assert.StartsWith("CONVERGENCE", state.ConvergenceReason);

        // scipy stops on the same tests and ends within 2e-5 of the minimiser (maxerr in scipy_lbfgsb.txt).
        // 1e-3 leaves room for the float32 iterate (spacing 6e-8 near 1) and the float32-rounded gradient,
        // which change the path in the last iterations; a wrong direction or line search misses by far more.
        var error = state.X.Select((v, i) => Math.Abs(v - minimiser[i])).Max();
        Assert.True(error <= 1e-3, $"max |x - x*| = {error}");

        // The brief's bound: within 1.5x of scipy's count either way.
        Assert.InRange(state.Evaluations, scipyEvaluations / 1.5, scipyEvaluations * 1.5);
    }

    [Fact]
    public async Task RunChunkAsync_FirstIteration_TakesScipysFirstStepOfOneOverGradientNorm()
    {
        // On the quadratic from 0, g0 = -a*c, so scipy's first trial is x0 - g0/|g0| (lnsrlb: stp = 1/|d| at iter 0).
        const int n = 10;
        var points = new List<float[]>();
        var state = OptimizerState.Create(new OptimizerSettings(), new float[n]);

        await ChunkRunner.RunChunkAsync(state, TestProblems.Recording(TestProblems.Quadratic, points), maxEvaluations: 2);

        var g0 = Enumerable.Range(0, n).Select(i => -TestProblems.QuadraticCurvature(i, n) * TestProblems.QuadraticMinimiser(i)).ToArray();
        var norm = Math.Sqrt(g0.Sum(v => v * v));
        Assert.Equal(new float[n], points[0]);
        for (var i = 0; i < n; i++)
        {
            // One float32 rounding of a value below 1 in size: 1e-7 is a few ulps.
            Assert.Equal(-g0[i] / norm, points[1][i], 1e-7);
        }
    }

    [Fact]
    public async Task RunChunkAsync_ConvergedState_DoesNoMoreEvaluations()
    {
        var state = OptimizerState.Create(new OptimizerSettings(), new float[4]);
        await ChunkRunner.RunChunkAsync(state, TestProblems.Quadratic, maxEvaluations: 10_000);
        Assert.True(state.Converged);
        var evaluations = state.Evaluations;

        var calls = 0;
        var result = await ChunkRunner.RunChunkAsync(
            state, (x, g, ct) => { calls++; return TestProblems.Quadratic(x, g, ct); }, maxEvaluations: 20);

        Assert.Equal(0, calls);
        Assert.Empty(result.Losses);
        Assert.Equal(evaluations, state.Evaluations);
    }

    [Fact]
    public async Task RunChunkAsync_NonFiniteLoss_ThrowsAndLeavesStateUnchanged()
    {
        var state = OptimizerState.Create(new OptimizerSettings(), TestProblems.RosenbrockStart(4));
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, maxEvaluations: 5);
        var before = await TestProblems.ToBytesAsync(state);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => ChunkRunner.RunChunkAsync(
            state, (_, _, _) => ValueTask.FromResult(double.NaN), maxEvaluations: 1));

        Assert.Contains("non-finite loss", error.Message);
        Assert.Equal(before, await TestProblems.ToBytesAsync(state));
    }

    [Fact]
    public void Create_BadSettingsOrStart_ThrowsNamingTheProblem()
    {
        Assert.Equal("History", Assert.Throws<ArgumentOutOfRangeException>(
            () => OptimizerState.Create(new OptimizerSettings(History: 0), [1f])).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(
            () => OptimizerState.Create(new OptimizerSettings(OptimizerKind.Adam, LearningRate: -1), [1f])).ParamName);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(
            () => OptimizerState.Create(new OptimizerSettings(), ReadOnlySpan<float>.Empty)).Message);
        Assert.Contains("index 1", Assert.Throws<ArgumentException>(
            () => OptimizerState.Create(new OptimizerSettings(), [0f, float.NaN])).Message);
    }
}
