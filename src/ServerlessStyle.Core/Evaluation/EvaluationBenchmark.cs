using System.Diagnostics;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>Timing of one evaluation (forward + gradient) in milliseconds, after warm-up.</summary>
public sealed record EvaluationTiming(string Network, int Height, int Width, ExecutionProvider Provider, ConvInputGradient ConvGradient, int Runs, double MedianMs, double MinMs)
{
    /// <summary>ONNX Runtime's profile of the evaluation session (warm-up runs included), when profiling was asked for.</summary>
    public string? ProfileFile { get; init; }
}

/// <summary>Measures evaluations per second of a loss network, for the `bench` command and the engine's reports.</summary>
public static class EvaluationBenchmark
{
    /// <summary>Untimed evaluations before the timed ones: the first builds the session and fills the memory arena.</summary>
    public const int WarmUpRuns = 2;

    /// <summary>Times <paramref name="runs"/> evaluations at height x width on generated images, after <see cref="WarmUpRuns"/> warm-up runs.</summary>
    public static EvaluationTiming Run(LossNetwork network, int height, int width, EvaluatorOptions options, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        using var evaluator = new StyleEvaluator(options);
        var content = Pattern(height, width, 1);
        var targets = evaluator.ComputeTargets(network, content, [(Pattern(height, width, 2), 1.0)]);
        var x = (float[])content.Data.Clone();
        var gradient = new float[x.Length];
        for (var i = 0; i < WarmUpRuns; i++)
        {
            evaluator.Evaluate(network, targets, network.DefaultWeights, x, gradient);
        }

        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            evaluator.Evaluate(network, targets, network.DefaultWeights, x, gradient);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        var median = runs % 2 == 1 ? times[runs / 2] : (times[(runs / 2) - 1] + times[runs / 2]) / 2;
        return new EvaluationTiming(network.Name, height, width, evaluator.ActiveProvider, options.ConvGradient, runs, median, times[0])
        {
            ProfileFile = evaluator.EndProfiling().FirstOrDefault(),
        };
    }

    private static ImageTensor Pattern(int height, int width, int seed)
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
