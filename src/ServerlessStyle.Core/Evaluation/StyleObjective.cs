using System.Diagnostics;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>The Gatys loss as the optimiser sees it: one definition for the activities, the benchmarks and the GPU check.</summary>
public static class StyleObjective
{
    /// <summary>
    /// The loss and gradient of <paramref name="network"/> against <paramref name="targets"/>;
    /// <paramref name="evaluated"/>, when given, hears each evaluation's terms and seconds.
    /// </summary>
    public static Objective Create(
        StyleEvaluator evaluator, LossNetwork network, StyleTargets targets, LossWeights weights, Action<LossTerms, double>? evaluated = null)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(targets);
        return (x, gradient, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            var terms = evaluator.Evaluate(network, targets, weights, x.Span, gradient.Span);
            evaluated?.Invoke(terms, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return ValueTask.FromResult(terms.Total);
        };
    }
}
