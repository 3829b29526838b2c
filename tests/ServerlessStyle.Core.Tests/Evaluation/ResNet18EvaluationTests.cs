using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Networks;
using Xunit.Abstractions;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>The packaged ResNet18 (BatchNormalization, residual Adds, an overlapping max-pool) through targets and evaluation.</summary>
public sealed class ResNet18EvaluationTests(ITestOutputHelper output)
{
    private static readonly LossNetwork Network = ResNet18.Load();

    // Same reasoning as the VGG19-shaped check: a direction with the gradient's signs and random magnitudes, a step
    // small against the pixel scale (+-100) so it rarely crosses a ReLU or max-pool kink, noise against pool ties.
    private const float Step = 0.005f;
    private const double Tolerance = 1e-2;

    [Theory]
    [InlineData(224, 224)]
    [InlineData(160, 240)]
    public void Evaluate_PackagedResNet18_RunsAtAnySizeAndMatchesFiniteDifferences(int height, int width)
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(height, width, 1);
        var targets = evaluator.ComputeTargets(Network, content, [(GradientChecks.PatternImage(height, width, 2), 1.0)]);
        Assert.Equal(3, targets.Grams.Count);

        var noise = GradientChecks.RandomImage(height, width, 3, scale: 5);
        var x = content.Data.Select((v, i) => v + noise.Data[i]).ToArray();
        var gradient = new float[x.Length];
        var weights = new LossWeights(1.0, 10.0, 1e-4);
        var terms = evaluator.Evaluate(Network, targets, weights, x, gradient);
        output.WriteLine($"{terms}");
        Assert.True(terms.Content > 0 && terms.Style > 0 && terms.TotalVariation > 0, $"every term should be active: {terms}");
        // The graph's loss is one float32 Sum of the three float32 terms, so it differs from their double sum by float32
        // rounding only (at most about 2.4e-7 of the total): 1e-6 leaves room for that and for nothing else.
        Assert.Equal(terms.Total, terms.Content + terms.Style + terms.TotalVariation, 1e-6 * terms.Total);

        var (analytic, numeric) = GradientChecks.DirectionalDerivative(evaluator, Network, targets, weights, x, gradient, seed: 10, Step);
        output.WriteLine($"analytic {analytic:g6}, numeric {numeric:g6}");
        Assert.True(Math.Abs(analytic - numeric) <= Tolerance * Math.Abs(numeric), $"analytic {analytic:g6} vs numeric {numeric:g6}");
    }
}

/// <summary>ResNet18's default weights leave the style term in charge, the failure that made results merely blurred.</summary>
public sealed class ResNet18DefaultWeightsTests
{
    [Fact]
    public void DefaultWeights_RealPhotoAndPaintingAtStart_StyleTermOutweighsContentAndTv()
    {
        var network = ResNet18.Load();
        var content = ServerlessStyle.Core.Imaging.ImageLoader.LoadToHeight(File.ReadAllBytes(TestPaths.Sample("content/chelsea.png")), 96);
        var style = ServerlessStyle.Core.Imaging.ImageLoader.LoadExact(File.ReadAllBytes(TestPaths.Sample("styles/starry_night.jpg")), content.Height, content.Width);
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var gradient = new float[content.Length];

        // At the start point (the content image) the content term is 0 and the normalised style term is the style weight.
        // 1e-3 relative: each layer's normaliser is summed in double over float32 Grams, while the graph sums the same
        // squared differences in float32 over up to 256 x 256 Gram entries per layer, from Grams it computes again; a
        // wrong normalisation would be off by a layer's whole loss, orders of magnitude more.
        var start = evaluator.Evaluate(network, targets, network.DefaultWeights, content.Data, gradient);
        Assert.Equal(network.DefaultWeights.Style, start.Style, 1e-3 * network.DefaultWeights.Style);
        Assert.True(start.TotalVariation < start.Style / 2, $"TV {start.TotalVariation} should not rival style {start.Style} at the start");

        // One pixel-sized step along the gradient: the content term it adds stays small against the style term.
        var step = 1.0f / MathF.Max(1e-12f, gradient.Max(MathF.Abs));
        var moved = content.Data.Select((v, i) => v - (step * gradient[i])).ToArray();
        var after = evaluator.Evaluate(network, targets, network.DefaultWeights, moved, gradient);
        Assert.True(after.Content < after.Style, $"content {after.Content} should stay below style {after.Style} after one step");
    }
}
