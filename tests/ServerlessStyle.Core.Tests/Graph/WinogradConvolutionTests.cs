using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using ServerlessStyle.Core.Tests.Evaluation;
using Xunit.Abstractions;
using static ServerlessStyle.Core.Graph.OnnxProtos;
using static ServerlessStyle.Core.Tests.Graph.TestNetworks;

namespace ServerlessStyle.Core.Tests.Graph;

/// <summary>The Winograd F(4x4,3x3) rewrite against the same evaluation graph with direct convolutions.</summary>
public sealed class WinogradConvolutionTests(ITestOutputHelper output)
{
    // Threshold low enough for this small network: every conv but the first (3 input channels) and the first's input
    // gradient (3 output channels) has >= 8 channels on both sides.
    private const int MinChannels = 8;

    // Three 8/16-channel convs forward and their three flipped input-gradient convs.
    private const int EligibleConvs = 6;

    // F(4,3) in float32 differs from a direct conv by ~5e-6 of the output's largest value per conv (the transforms'
    // coefficients up to 8 and 1/6 round, measured 5e-6 to 1e-5 on VGG19 shapes), against ~2e-7 for the direct conv.
    // Three rewritten convs in a row forward and three back, and a style loss that is quartic in the features (relative
    // error x4), stay below 1e-4; a wrong transform, tile offset or crop changes these by order 1.
    private const double Tolerance = 1e-4;

    // No total variation (it involves no conv and would hide the network's gradient); the style weight brings the style
    // term to the content term's order here (~1e6 each), so both parts of the gradient count.
    private static readonly LossWeights Weights = new(1.0, 1000.0, 0.0);

    /// <summary>VGG-shaped: two convs, a 2x2 max pool, two convs, with biases and ReLUs; style on every ReLU.</summary>
    private static LossNetwork SmallVgg()
    {
        static NodeProto Conv(string input, string layer) =>
            Node("Conv", [input, $"{layer}/w", $"{layer}/b"], [$"{layer}/y"], layer, Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));

        static NodeProto Relu(string layer) => Node("Relu", [$"{layer}/y"], [$"{layer}/r"], $"{layer}/relu");

        (string Layer, long Cin, long Cout)[] layers = [("c1", 3, 8), ("c2", 8, 8), ("c3", 8, 16), ("c4", 16, 16)];
        var initializers = layers.SelectMany((l, i) => new[]
        {
            RandomWeights($"{l.Layer}/w", [l.Cout, l.Cin, 3, 3], 100 + i, Math.Sqrt(6.0 / (9 * l.Cin))),
            RandomWeights($"{l.Layer}/b", [l.Cout], 200 + i, 0.5),
        });
        NodeProto[] nodes =
        [
            Conv("input", "c1"), Relu("c1"), Conv("c1/r", "c2"), Relu("c2"),
            Node("MaxPool", ["c2/r"], ["p1"], "p1", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            Conv("p1", "c3"), Relu("c3"), Conv("c3/r", "c4"), Relu("c4"),
        ];
        return Build("winograd_small_vgg", nodes, initializers, "c4/r", ["c1/r", "c2/r", "c3/r", "c4/r"]);
    }

    private static int Count(ModelProto model, string opType) => model.Graph.Node.Count(n => n.OpType == opType);

    private static int Count3x3Convs(ModelProto model) =>
        model.Graph.Node.Count(n => n.OpType == "Conv" && (GetInts(n, "kernel_shape") ?? [3, 3]).SequenceEqual([3L, 3L]));

    [Theory]
    [InlineData(32, 40)]
    [InlineData(30, 26)]
    public void BuildEvaluation_MinChannelsLowered_ReplacesEveryEligibleConv(int height, int width)
    {
        var network = SmallVgg();
        var direct = StyleGraphBuilder.BuildEvaluation(network, height, width, ConvInputGradient.FlippedConv).Model;
        var winograd = StyleGraphBuilder.BuildEvaluation(network, height, width, ConvInputGradient.FlippedConv, MinChannels).Model;

        Assert.Equal(0, Count(direct, "DepthToSpace"));
        Assert.Equal(EligibleConvs, Count(winograd, "DepthToSpace"));
        Assert.Equal(Count3x3Convs(direct) - EligibleConvs, Count3x3Convs(winograd));

        // One 6x6 depthwise input transform per replaced conv.
        Assert.Equal(EligibleConvs, winograd.Graph.Node.Count(n => n.OpType == "Conv" && GetInt(n, "group", 1) > 1));
    }

    [Fact]
    public void BuildEvaluation_WinogradRewrite_OneFedUPerForwardConvSharedWithItsInputGradient()
    {
        var network = SmallVgg();
        var graph = StyleGraphBuilder.BuildEvaluation(network, 32, 40, ConvInputGradient.FlippedConv, MinChannels);
        var model = graph.Model;
        var kernels = network.Graph.Initializer.ToDictionary(t => t.Name, t => ReadFloats(t));

        // One U [36, Cout, Cin] per replaced forward conv, used by its MatMul and, transposed, by its input-gradient conv's.
        Assert.Equal(EligibleConvs / 2, graph.Fed.Count);
        foreach (var fed in graph.Fed)
        {
            var users = model.Graph.Node.Where(n => n.Input.Contains(fed.Name)).Select(n => n.OpType).Order();
            Assert.Equal(["MatMul", "Transpose"], users);
        }

        // Each U is a graph input after the per-run ones and no initializer, and holds G g G^T of one forward weight.
        Assert.Equal(graph.Fed.Select(f => f.Name), model.Graph.Input.Skip(model.Graph.Input.Count - graph.Fed.Count).Select(i => i.Name));
        Assert.DoesNotContain(model.Graph.Initializer, t => t.Name.Contains(WinogradConvolution.WeightsHint, StringComparison.Ordinal));
        var expected = new[] { "c2/w", "c3/w", "c4/w" }.Select(w =>
        {
            var dims = network.Graph.Initializer.Single(t => t.Name == w).Dims;
            return WinogradConvolution.TransformWeights(kernels[w], dims[0], dims[1]);
        });
        Assert.Equal(expected, graph.Fed.Select(f => f.Values));
        Assert.All(graph.Fed, f => Assert.Equal(36, f.Dims[0]));
    }

    [Fact]
    public void BuildEvaluation_DefaultMinChannels_LeavesSmallConvsAlone()
    {
        var model = StyleGraphBuilder.BuildEvaluation(SmallVgg(), 32, 32, ConvInputGradient.FlippedConv, WinogradConvolution.DefaultMinChannels).Model;

        Assert.Equal(0, Count(model, "DepthToSpace"));
    }

    [Theory]
    [InlineData(32, 40)]
    [InlineData(30, 26)]
    public void Evaluate_WinogradRewrite_MatchesDirectConvolutions(int height, int width)
    {
        var network = SmallVgg();
        using var direct = new StyleEvaluator(new EvaluatorOptions { Winograd = false });
        using var winograd = new StyleEvaluator(new EvaluatorOptions { Winograd = true, WinogradMinChannels = MinChannels });
        var targets = direct.ComputeTargets(network, GradientChecks.RandomImage(height, width, 1), [(GradientChecks.RandomImage(height, width, 2), 1.0)]);
        var x = GradientChecks.RandomImage(height, width, 3).Data;
        var expectedGradient = new float[x.Length];
        var actualGradient = new float[x.Length];

        var expected = direct.Evaluate(network, targets, Weights, x, expectedGradient);
        var actual = winograd.Evaluate(network, targets, Weights, x, actualGradient);

        output.WriteLine($"direct:   {expected}");
        output.WriteLine($"winograd: {actual}");
        Assert.True(expected.Content > 0 && expected.Style > 0, $"content and style should be active: {expected}");
        foreach (var (name, e, a) in new[] { ("loss", expected.Total, actual.Total), ("content", expected.Content, actual.Content), ("style", expected.Style, actual.Style) })
        {
            var relative = Math.Abs(a - e) / Math.Abs(e);
            output.WriteLine($"{name}: relative difference {relative:g3}");
            Assert.True(relative < Tolerance, $"{name}: winograd {a:g9} vs direct {e:g9} (relative {relative:g3})");
        }

        var gradientError = GradientChecks.RelativeError(expectedGradient.Select(v => (double)v).ToArray(), actualGradient);
        output.WriteLine($"gradient: relative difference {gradientError:g3}");
        Assert.True(gradientError < Tolerance, $"gradient relative difference {gradientError:g3} >= {Tolerance}");
    }

    [Fact]
    public void Evaluate_RandomVgg19DefaultThreshold_MatchesDirectConvolutions()
    {
        // The real configuration: every conv with >= 128 channels on both sides, forward and input gradient, and
        // 36x44 gives spatial sizes 36x44, 18x22, 9x11, 4x5, 2x2, most of them not multiples of 4. Sixteen layers compound
        // the per-conv error, so 1e-4 is also the bound here.
        const int Height = 36, Width = 44;
        var network = RandomVgg19.Create();
        var weights = new LossWeights(0.1, 1.0, 0.0);
        using var direct = new StyleEvaluator(new EvaluatorOptions { Winograd = false });
        using var winograd = new StyleEvaluator(new EvaluatorOptions { Winograd = true });
        var targets = direct.ComputeTargets(network, GradientChecks.PatternImage(Height, Width, 1), [(GradientChecks.PatternImage(Height, Width, 2), 1.0)]);
        var x = GradientChecks.RandomImage(Height, Width, 3).Data;
        var expectedGradient = new float[x.Length];
        var actualGradient = new float[x.Length];

        var expected = direct.Evaluate(network, targets, weights, x, expectedGradient);
        var actual = winograd.Evaluate(network, targets, weights, x, actualGradient);

        output.WriteLine($"direct:   {expected}");
        output.WriteLine($"winograd: {actual}");
        var lossError = Math.Abs(actual.Total - expected.Total) / expected.Total;
        var gradientError = GradientChecks.RelativeError(expectedGradient.Select(v => (double)v).ToArray(), actualGradient);
        output.WriteLine($"loss: relative difference {lossError:g3}; gradient: {gradientError:g3}");
        Assert.True(lossError < Tolerance, $"loss relative difference {lossError:g3} >= {Tolerance}");
        Assert.True(gradientError < Tolerance, $"gradient relative difference {gradientError:g3} >= {Tolerance}");
    }

    [Fact]
    public void WinogradMinChannels_CudaProvider_NoRewrite()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions { Winograd = true });

        Assert.Null(evaluator.WinogradMinChannels(ExecutionProvider.Cuda, 224, 224));
        Assert.Equal(WinogradConvolution.DefaultMinChannels, evaluator.WinogradMinChannels(ExecutionProvider.Cpu, 224, 224));
        Assert.Equal(WinogradConvolution.DefaultMinChannels, evaluator.WinogradMinChannels(ExecutionProvider.Cpu, 768, 768));
        // Over the pixel limit the memory it costs outweighs the speed: direct convs.
        Assert.Null(evaluator.WinogradMinChannels(ExecutionProvider.Cpu, 768, 769));
    }
}
