using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>Generated images and finite-difference checks shared by the graph and evaluator tests.</summary>
internal static class GradientChecks
{
    public static ImageTensor RandomImage(int height, int width, int seed, double scale = 50)
    {
        var random = new Random(seed);
        var data = new float[3 * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(scale * ((2 * random.NextDouble()) - 1));
        }

        return new ImageTensor(height, width, data);
    }

    /// <summary>A smooth pattern (sums of sinusoids) plus a little noise, closer to a photo than white noise.</summary>
    public static ImageTensor PatternImage(int height, int width, int seed, double noise = 2)
    {
        var random = new Random(seed);
        var data = new float[3 * height * width];
        for (var c = 0; c < 3; c++)
        {
            double fy = 1 + random.Next(4), fx = 1 + random.Next(4), phase = random.NextDouble() * 6;
            for (var i = 0; i < height; i++)
            {
                for (var j = 0; j < width; j++)
                {
                    data[(((c * height) + i) * width) + j] = (float)((60 * Math.Sin((fy * i / height * 6) + phase) * Math.Cos(fx * j / width * 6)) + (noise * ((2 * random.NextDouble()) - 1)));
                }
            }
        }

        return new ImageTensor(height, width, data);
    }

    public static double Loss(StyleEvaluator evaluator, LossNetwork network, StyleTargets targets, LossWeights weights, float[] x) =>
        evaluator.Evaluate(network, targets, weights, x, new float[x.Length]).Total;

    /// <summary>
    /// The full gradient by central differences, each coordinate stepped by <paramref name="step"/>, the difference
    /// taken in double between two float32 loss values.
    /// </summary>
    public static double[] CentralDifferences(StyleEvaluator evaluator, LossNetwork network, StyleTargets targets, LossWeights weights, float[] x, float step)
    {
        var gradient = new double[x.Length];
        var probe = (float[])x.Clone();
        var scratch = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + step;
            var up = evaluator.Evaluate(network, targets, weights, probe, scratch).Total;
            var upStep = (double)probe[i] - x[i];
            probe[i] = x[i] - step;
            var down = evaluator.Evaluate(network, targets, weights, probe, scratch).Total;
            var downStep = (double)x[i] - probe[i];
            probe[i] = x[i];
            gradient[i] = (up - down) / (upStep + downStep);
        }

        return gradient;
    }

    /// <summary>
    /// The gradient's directional derivative and central differences of the loss along one direction: random magnitudes
    /// with the signs of the computed gradient (a direction with random signs cancels to below float32 noise, so it could
    /// not tell a right gradient from a wrong one; finite differences still measure the true derivative along it).
    /// </summary>
    public static (double Analytic, double Numeric) DirectionalDerivative(
        StyleEvaluator evaluator, LossNetwork network, StyleTargets targets, LossWeights weights, float[] x, float[] gradient, int seed, float step)
    {
        var magnitudes = RandomImage(targets.Height, targets.Width, seed, scale: 1).Data;
        var direction = magnitudes.Select((m, i) => Math.Abs(m) * MathF.Sign(gradient[i])).ToArray();
        var analytic = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            analytic += (double)gradient[i] * direction[i];
        }

        var scratch = new float[x.Length];
        var plus = x.Select((v, i) => v + (step * direction[i])).ToArray();
        var minus = x.Select((v, i) => v - (step * direction[i])).ToArray();
        var numeric = (evaluator.Evaluate(network, targets, weights, plus, scratch).Total
            - evaluator.Evaluate(network, targets, weights, minus, scratch).Total) / (2.0 * step);
        return (analytic, numeric);
    }

    public static double RelativeError(double[] expected, float[] actual)
    {
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            difference += Math.Pow(expected[i] - actual[i], 2);
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(difference / norm);
    }
}
