using System.Diagnostics;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Bench.Engine;

/// <summary>Timing of one evaluation (forward + gradient) in milliseconds, after warm-up.</summary>
public sealed record EvaluationTiming(string Network, int Height, int Width, ExecutionProvider Provider, ConvInputGradient ConvGradient, int Runs, double MedianMs, double MinMs)
{
    /// <summary>ONNX Runtime's profile of the evaluation session (warm-up runs included), when profiling was asked for.</summary>
    public string? ProfileFile { get; init; }

    /// <summary>Whether the evaluation graph's eligible convs ran as Winograd F(4x4,3x3) (asked for and on the CPU provider).</summary>
    public bool Winograd { get; init; }
}

/// <summary>Measures evaluations per second of a loss network, for the `bench` command and the engine's reports.</summary>
public static class EvaluationBenchmark
{
    /// <summary>Untimed evaluations before the timed ones: the first builds the session and fills the memory arena.</summary>
    public const int WarmUpRuns = 2;

    /// <summary>Times <paramref name="runs"/> evaluations at height x width on generated images, after <see cref="WarmUpRuns"/> warm-up runs.</summary>
    public static EvaluationTiming Run(LossNetwork network, int height, int width, EvaluatorOptions options, int runs = 5) =>
        RunSideBySide(network, height, width, [options], runs)[0];

    /// <summary>
    /// Times several settings in one process, one evaluator each, alternating evaluations (A, B, A, B, ...) so that a
    /// change in the machine's load hits every setting alike; warm-up runs of every setting come first.
    /// </summary>
    public static IReadOnlyList<EvaluationTiming> RunSideBySide(LossNetwork network, int height, int width, IReadOnlyList<EvaluatorOptions> options, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        ArgumentOutOfRangeException.ThrowIfZero(options.Count);
        var evaluators = options.Select(o => new StyleEvaluator(o)).ToList();
        try
        {
            var content = Pattern(height, width, 1);
            var style = Pattern(height, width, 2);
            var targets = evaluators.Select(e => e.ComputeTargets(network, content, [(style, 1.0)])).ToList();
            var x = (float[])content.Data.Clone();
            var gradient = new float[x.Length];
            for (var e = 0; e < evaluators.Count; e++)
            {
                for (var i = 0; i < WarmUpRuns; i++)
                {
                    evaluators[e].Evaluate(network, targets[e], network.DefaultWeights, x, gradient);
                }
            }

            var times = evaluators.Select(_ => new double[runs]).ToList();
            for (var i = 0; i < runs; i++)
            {
                for (var e = 0; e < evaluators.Count; e++)
                {
                    var start = Stopwatch.GetTimestamp();
                    evaluators[e].Evaluate(network, targets[e], network.DefaultWeights, x, gradient);
                    times[e][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }

            return evaluators.Select((evaluator, e) =>
            {
                return new EvaluationTiming(network.Name, height, width, evaluator.ActiveProvider, options[e].ConvGradient, runs, Statistics.Median(times[e]), times[e].Min())
                {
                    ProfileFile = evaluator.EndProfiling().FirstOrDefault(),
                    Winograd = evaluator.WinogradMinChannels(evaluator.ActiveProvider, height, width) is not null,
                };
            }).ToList();
        }
        finally
        {
            foreach (var evaluator in evaluators)
            {
                evaluator.Dispose();
            }
        }
    }

    /// <summary>A smooth pattern with a little noise: an input whose loss and gradient exercise every term (no photo needed).</summary>
    internal static ImageTensor Pattern(int height, int width, int seed)
    {
        var random = new Random(seed);
        var data = new float[3 * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            var y = i / width % height;
            var x = i % width;
            data[i] = (float)((60 * Math.Sin((y * 0.05) + seed) * Math.Cos(x * 0.07)) + (5 * random.NextDouble()));
        }

        return new ImageTensor(height, width, data);
    }
}
