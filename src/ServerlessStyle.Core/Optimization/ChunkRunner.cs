namespace ServerlessStyle.Core.Optimization;

/// <summary>Advances an optimiser by at most a given number of loss evaluations: the unit of work between checkpoints.</summary>
public static class ChunkRunner
{
    /// <summary>
    /// Evaluates <paramref name="evaluate"/> at most <paramref name="maxEvaluations"/> times, advancing
    /// <paramref name="state"/> in place. A chunk may end anywhere, inside a line search too; the state then
    /// resumes exactly there. With <see cref="OptimizerSettings.RestartEachIteration"/> the memory is cleared first.
    /// </summary>
    public static async Task<ChunkResult> RunChunkAsync(
        OptimizerState state, Objective evaluate, int maxEvaluations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(evaluate);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEvaluations);

        if (state.Settings.RestartEachIteration)
        {
            state.Restart();
        }

        var point = new float[state.Length];
        var gradient = new float[state.Length];
        var losses = new List<double>(Math.Min(maxEvaluations, 1024));
        while (!state.Converged && losses.Count < maxEvaluations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            state.WritePendingPoint(point);
            var loss = await evaluate(point, gradient, cancellationToken).ConfigureAwait(false);
            state.Tell(loss, gradient);
            losses.Add(loss);
        }

        return new ChunkResult(state, losses);
    }
}
