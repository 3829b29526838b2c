using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Tests.Graph;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>Average pooling and other taps on the VGG19-shaped network, run by ONNX Runtime.</summary>
public sealed class LossNetworkVariantsTests
{
    private static readonly LossNetwork Max = RandomVgg19.Create();
    private static readonly LossNetwork Average = LossNetworkVariants.WithAveragePooling(Max, "random_vgg19[avg]");

    // Step and tolerance as in RandomVgg19GradientTests: average pooling has no kinks, ReLU's are the only ones left.
    private const float Step = 0.005f;
    private const double Tolerance = 1e-2;
    private static readonly LossWeights Balanced = new(0.1, 1.0, 0.005);

    [Fact]
    public void WithAveragePooling_RandomVgg19_ReplacesEveryMaxPool()
    {
        Assert.Equal(4, Max.Graph.Node.Count(n => n.OpType == "MaxPool"));
        Assert.DoesNotContain(Average.Graph.Node, n => n.OpType == "MaxPool");
        Assert.Equal(4, Average.Graph.Node.Count(n => n.OpType == "AveragePool"));
        // The original is left as it was: variants clone the graph.
        Assert.Equal(4, Max.Graph.Node.Count(n => n.OpType == "MaxPool"));
    }

    [Fact]
    public void Evaluate_AveragePooling_DirectionalDerivativesMatchFiniteDifferences()
    {
        const int height = 48, width = 64;
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(height, width, 1);
        var targets = evaluator.ComputeTargets(Average, content, [(GradientChecks.PatternImage(height, width, 2), 1.0)]);
        var noise = GradientChecks.RandomImage(height, width, 3, scale: 5);
        var x = content.Data.Select((v, i) => v + noise.Data[i]).ToArray();
        var gradient = new float[x.Length];
        var terms = evaluator.Evaluate(Average, targets, Balanced, x, gradient);
        Assert.True(terms.Content > 0 && terms.Style > 0 && terms.TotalVariation > 0, $"every term should be active: {terms}");

        var (analytic, numeric) = GradientChecks.DirectionalDerivative(evaluator, Average, targets, Balanced, x, gradient, seed: 10, Step);
        Assert.True(Math.Abs(analytic - numeric) <= Tolerance * Math.Abs(numeric), $"analytic {analytic:g6} vs numeric {numeric:g6}");
    }

    [Fact]
    public void ActivationSmoothing_OffByDefaultForVgg19AndOnForResNet18_OnlyOnAddsSoftmax()
    {
        Assert.False(Max.ActivationSmoothing);
        Assert.True(ResNet18.Load().ActivationSmoothing);
        Assert.DoesNotContain(StyleGraphBuilder.BuildEvaluation(Max, 32, 32).Model.Graph.Node, n => n.OpType == "Softmax");
        var smoothed = LossNetworkVariants.WithActivationSmoothing(Max, "random_vgg19[swag]", on: true);
        var softmaxes = StyleGraphBuilder.BuildEvaluation(smoothed, 32, 32).Model.Graph.Node.Count(n => n.OpType == "Softmax");

        // One per distinct tap: five style layers and the content layer.
        Assert.Equal(Max.StyleLayers.Select(s => s.Tensor).Append(Max.ContentLayer).Distinct().Count(), softmaxes);
    }

    [Fact]
    public void WithActivationSmoothing_ResNet18Off_TakesTheWeightsTunedWithoutIt()
    {
        var resnet = ResNet18.Load();
        var off = LossNetworkVariants.WithActivationSmoothing(resnet, "resnet18[swag=off]", on: false);
        Assert.Equal((false, ResNet18.UnsmoothedWeights), (off.ActivationSmoothing, off.DefaultWeights));
        var on = LossNetworkVariants.WithActivationSmoothing(off, "resnet18[swag=on]", on: true);
        Assert.Equal((true, ResNet18.DefaultWeights, ResNet18.SmoothingTemperature), (on.ActivationSmoothing, on.DefaultWeights, on.SmoothingTemperature));

        // A network tuned one way only keeps its weights either way.
        Assert.Equal(Max.DefaultWeights, LossNetworkVariants.WithActivationSmoothing(Max, "random_vgg19[swag=on]", on: true).DefaultWeights);
    }

    [Fact]
    public void ComputeTargets_ActivationSmoothing_ContentFeaturesAverageOne()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var smoothed = LossNetworkVariants.WithActivationSmoothing(Max, "random_vgg19[swag;t=10]", on: true, temperature: 10);
        var targets = evaluator.ComputeTargets(smoothed, GradientChecks.PatternImage(32, 48, 1), [(GradientChecks.PatternImage(32, 48, 2), 1.0)]);

        // N * softmax sums to N: a mean of 1 up to float32 summation (1e-4), and every element positive.
        Assert.Equal(1.0, targets.ContentFeatures.Average(v => (double)v), 1e-4);
        Assert.All(targets.ContentFeatures, v => Assert.True(v > 0));
    }

    [Fact]
    public void ComputeTargets_AveragePooling_ChangesTheDeepFeaturesOnly()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(32, 48, 1);
        var styles = new[] { (GradientChecks.PatternImage(32, 48, 2), 1.0) };
        var max = evaluator.ComputeTargets(Max, content, styles);
        var average = evaluator.ComputeTargets(Average, content, styles);

        // block1_conv1 comes before any pooling: the same computation, so the same Gram up to float32 summation order
        // of ORT's kernels (1e-5 relative); the layers after a pool see other inputs.
        var scale = max.Grams[0].Max(Math.Abs);
        Assert.All(Enumerable.Range(0, max.Grams[0].Length), i => Assert.Equal(max.Grams[0][i], average.Grams[0][i], scale * 1e-5));
        Assert.NotEqual(max.Grams[1], average.Grams[1]);
        Assert.NotEqual(max.ContentFeatures, average.ContentFeatures);
    }

    [Fact]
    public void WithLayers_UnknownTensor_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => LossNetworkVariants.WithLayers(Max, "x", [new StyleLayer("block9_conv1", 1)], "block5_conv2"));
        Assert.Contains("'block9_conv1'", e.Message, StringComparison.Ordinal);
    }
}
