using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Networks;
using Xunit.Abstractions;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>The full VGG19-shaped network: the gradient's directional derivatives against central differences.</summary>
[Trait("Category", "Slow")]
public sealed class RandomVgg19GradientTests(ITestOutputHelper output)
{
    private static readonly LossNetwork Network = RandomVgg19.Create();

    // Directions are random magnitudes in [0, 1] per pixel with the signs of the computed gradient: a direction with
    // zero-mean random signs gives a derivative that cancels down to ~1e-4 of sum |g_i d_i|, below the float32
    // rounding of the gradient itself, so it could not tell a right gradient from a wrong one. A wrong gradient still
    // disagrees here, since finite differences measure the true derivative along the same direction.
    // Step 0.005 (pixels span about +-100): the loss changes by ~1e3, far above its float32 rounding (~0.02), and the
    // step rarely crosses a Relu or max-pool kink (0.05 already gave a 2% error); noise added to the point keeps
    // max-pool windows free of ties.
    private const float Step = 0.005f;
    private const double Tolerance = 1e-2;

    // With the default weights the total variation of the noisy point is ~100x the other terms and would hide an error
    // in the network's gradient; these weights make the three terms of the same order here (each ~1e5).
    private static readonly LossWeights Balanced = new(0.1, 1.0, 0.005);

    [Theory]
    [InlineData(224, 224)]
    [InlineData(96, 160)]
    public void Evaluate_Vgg19Shaped_DirectionalDerivativesMatchFiniteDifferences(int height, int width)
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(height, width, 1);
        var targets = evaluator.ComputeTargets(Network, content, [(GradientChecks.PatternImage(height, width, 2), 1.0)]);
        var noise = GradientChecks.RandomImage(height, width, 3, scale: 5);
        var x = content.Data.Select((v, i) => v + noise.Data[i]).ToArray();
        var gradient = new float[x.Length];
        var terms = evaluator.Evaluate(Network, targets, Balanced, x, gradient);
        output.WriteLine($"{terms}");
        Assert.True(terms.Content > 0 && terms.Style > 0 && terms.TotalVariation > 0, $"every term should be active: {terms}");

        for (var seed = 10; seed < 12; seed++)
        {
            var (analytic, numeric) = GradientChecks.DirectionalDerivative(evaluator, Network, targets, Balanced, x, gradient, seed, Step);
            output.WriteLine($"direction {seed}: analytic {analytic:g6}, numeric {numeric:g6}");
            Assert.True(Math.Abs(analytic - numeric) <= Tolerance * Math.Abs(numeric), $"direction {seed}: analytic {analytic:g6} vs numeric {numeric:g6}");
        }
    }
}
