using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using ServerlessStyle.Core.Tests.Evaluation;
using static ServerlessStyle.Core.Graph.OnnxProtos;
using static ServerlessStyle.Core.Tests.Graph.TestNetworks;

namespace ServerlessStyle.Core.Tests.Graph;

/// <summary>
/// Each backward rule against central finite differences of the float32 graph's own loss, on a tiny network built
/// around the op under test.
/// </summary>
public sealed class BackwardRuleTests : IDisposable
{
    // Images are caffe-space sized (|x| up to 50). A step of 0.05 (1e-3 of that) keeps the O(h^2) truncation of the
    // quartic style term negligible, and the float32 rounding of the loss (relative ~1e-7 but summed by ReduceSum,
    // divided by 2h) near 2e-4 of the gradient. A step that crosses a Relu or max-pool kink spoils that one coordinate
    // by order 1, so up to 2% of the coordinates (at least 2) may disagree by more than 1% of the largest component;
    // the rest must agree to 2e-3 in the norm. A wrong rule spoils most coordinates by order 1.
    private const float Step = 0.05f;
    private const double Tolerance = 2e-3;
    private const double KinkFraction = 0.02;

    private readonly StyleEvaluator _evaluator = new(new EvaluatorOptions());

    public void Dispose() => _evaluator.Dispose();

    private static NodeProto Conv(string input, string weight, string output, long[]? strides = null, long[]? pads = null) =>
        Node("Conv", [input, weight], [output], output, Ints("strides", strides ?? [1, 1]), Ints("pads", pads ?? [1, 1, 1, 1]));

    private void AssertGradientMatches(LossNetwork network, int height, int width, LossWeights? weights = null, ConvInputGradient gradient = ConvInputGradient.ConvTranspose, float step = Step)
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions { ConvGradient = gradient });
        weights ??= new LossWeights(1, 1, 0);
        var targets = evaluator.ComputeTargets(network, GradientChecks.RandomImage(height, width, 1), [(GradientChecks.RandomImage(height, width, 2), 1.0)]);
        var x = GradientChecks.RandomImage(height, width, 3).Data;
        var analytic = new float[x.Length];
        evaluator.Evaluate(network, targets, weights, x, analytic);
        var numeric = GradientChecks.CentralDifferences(evaluator, network, targets, weights, x, step);
        var largest = numeric.Max(Math.Abs);
        var kinks = Enumerable.Range(0, x.Length).Where(i => Math.Abs(numeric[i] - analytic[i]) > 0.01 * largest).ToHashSet();
        Assert.True(kinks.Count <= Math.Max(2, KinkFraction * x.Length), $"{kinks.Count} of {x.Length} coordinates disagree by more than 1% of the largest component");
        var kept = Enumerable.Range(0, x.Length).Where(i => !kinks.Contains(i)).ToArray();
        var error = GradientChecks.RelativeError(kept.Select(i => numeric[i]).ToArray(), kept.Select(i => analytic[i]).ToArray());
        Assert.True(error < Tolerance, $"relative gradient error {error:g3} >= {Tolerance}");
    }

    [Theory]
    [InlineData(ConvInputGradient.ConvTranspose)]
    [InlineData(ConvInputGradient.FlippedConv)]
    public void Conv_Stride2AsymmetricPads_GradientMatchesFiniteDifferences(ConvInputGradient gradient)
    {
        var network = Build(
            $"conv_s2_{gradient}",
            [Conv("input", "w1", "c1", strides: [2, 2], pads: [0, 1, 2, 1]), Node("Relu", ["c1"], ["r1"], "r1"), Conv("r1", "w2", "c2")],
            [RandomWeights("w1", [4, 3, 3, 3], 11, 0.3), RandomWeights("w2", [3, 4, 3, 3], 12, 0.3)],
            "c2", ["r1", "c2"]);
        AssertGradientMatches(network, 9, 8, gradient: gradient);
    }

    [Fact]
    public void MaxPool_Overlapping3x3Stride2WithPads_GradientMatchesFiniteDifferences()
    {
        var network = Build(
            "maxpool_overlap",
            [Conv("input", "w1", "c1"), Node("MaxPool", ["c1"], ["p1"], "p1", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1))],
            [RandomWeights("w1", [4, 3, 3, 3], 21, 0.3)],
            "p1", ["p1"]);
        AssertGradientMatches(network, 9, 10);
    }

    [Fact]
    public void BatchNormalization_InferenceMode_GradientMatchesFiniteDifferences()
    {
        var network = Build(
            "batchnorm",
            [Conv("input", "w1", "c1"), Node("BatchNormalization", ["c1", "scale", "bias", "mean", "var"], ["b1"], "b1", Float("epsilon", 1e-3f)), Node("Relu", ["b1"], ["r1"], "r1")],
            [RandomWeights("w1", [4, 3, 3, 3], 31, 0.3), Constant("scale", [4], 0.5f, 2f, -1f, 1.5f), Constant("bias", [4], 1f, -2f, 0.5f, 0f),
             Constant("mean", [4], 3f, -1f, 0f, 2f), Constant("var", [4], 4f, 0.25f, 9f, 1f)],
            "r1", ["r1"]);
        AssertGradientMatches(network, 7, 6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void AveragePool_Stride2WithPads_GradientMatchesFiniteDifferences(int countIncludePad)
    {
        var network = Build(
            $"avgpool_{countIncludePad}",
            [Conv("input", "w1", "c1"), Node("AveragePool", ["c1"], ["a1"], "a1", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 0, 0, 1), Int("count_include_pad", countIncludePad))],
            [RandomWeights("w1", [4, 3, 3, 3], 41, 0.3)],
            "a1", ["a1"]);
        AssertGradientMatches(network, 9, 8);
    }

    [Fact]
    public void AddSubMulDiv_TensorConsumedTwice_GradientMatchesFiniteDifferences()
    {
        // c1 feeds both the Relu and the Add, r1 feeds the Add and a style tap: their gradients must be summed.
        var network = Build(
            "add_twice",
            [Conv("input", "w1", "c1"), Node("Relu", ["c1"], ["r1"], "r1"), Node("Add", ["r1", "c1"], ["s1"], "s1"),
             Node("Mul", ["s1", "k"], ["m1"], "m1"), Node("Div", ["m1", "d"], ["q1"], "q1"), Node("Sub", ["q1", "k"], ["o1"], "o1"), Node("Relu", ["o1"], ["r2"], "r2")],
            [RandomWeights("w1", [4, 3, 3, 3], 51, 0.3), Constant("k", [1, 4, 1, 1], 0.5f, -1.5f, 2f, 1f), Constant("d", [], 1.7f)],
            "r2", ["r1", "r2"]);
        AssertGradientMatches(network, 7, 8);
    }

    [Fact]
    public void ReshapeTranspose_RoundTrip_GradientMatchesFiniteDifferences()
    {
        var network = Build(
            "reshape_transpose",
            [Conv("input", "w1", "c1"), Node("Reshape", ["c1", "flat"], ["f1"], "f1"), Node("Relu", ["f1"], ["r1"], "r1"),
             Node("Reshape", ["r1", "back"], ["u1"], "u1"), Node("Transpose", ["u1"], ["t1"], "t1", Ints("perm", 0, 1, 3, 2))],
            [RandomWeights("w1", [4, 3, 3, 3], 61, 0.3), Int64Tensor("flat", [3], [1, 4, -1]), Int64Tensor("back", [4], [1, 4, 7, 6])],
            "t1", ["t1"]);
        AssertGradientMatches(network, 7, 6);
    }

    [Fact]
    public void Normalization_TorchRgbStd_GradientMatchesFiniteDifferences()
    {
        var network = Build(
            "torch_input",
            [Conv("input", "w1", "c1"), Node("Relu", ["c1"], ["r1"], "r1")],
            [RandomWeights("w1", [4, 3, 3, 3], 71, 0.3)],
            "r1", ["r1"], InputNormalization.Torch);
        AssertGradientMatches(network, 6, 7);
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(0, 1, 0)]
    [InlineData(0, 0, 1)]
    public void LossTerm_Alone_GradientMatchesFiniteDifferences(double content, double style, double tv)
    {
        var network = RandomVgg19.CreateVggStyle($"tiny_term_{content}_{style}_{tv}", [4, RandomVgg19.Pool, 6], seed: 5);
        AssertGradientMatches(network, 8, 7, new LossWeights(content, style, tv));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Softmax_ActivationSmoothing_GradientMatchesFiniteDifferences(double temperature)
    {
        // The smoothing (Reshape, Mul by 1/T, Softmax over all C*h*w elements, Mul by N, Reshape) on a style tap that is
        // also read by a later layer, and on the content tap: its gradient joins the later layer's. The softmax couples
        // every element, so a Relu kink within the step spoils more coordinates than elsewhere (3 to 6 of 126 at the
        // step of 0.05, seen in a dump, each a coordinate that agreed at 0.01), while at 0.01 the float32 rounding of
        // the loss (about 40, so ~4e-6 / 0.02) reaches 2.5e-3 of the gradient's norm: 0.02 keeps both in bounds.
        var plain = Build(
            $"swag_{temperature}",
            [Conv("input", "w1", "c1"), Node("Relu", ["c1"], ["r1"], "r1"), Conv("r1", "w2", "c2"), Node("Relu", ["c2"], ["r2"], "r2")],
            [RandomWeights("w1", [4, 3, 3, 3], 81, 0.05), RandomWeights("w2", [3, 4, 3, 3], 82, 0.3)],
            "r2", ["r1", "r2"]);
        var smoothed = LossNetworkVariants.WithActivationSmoothing(plain, plain.Name + "[swag]", on: true, temperature);
        Assert.Contains(StyleGraphBuilder.BuildEvaluation(smoothed, 7, 6).Model.Graph.Node, n => n.OpType == "Softmax");
        AssertGradientMatches(smoothed, 7, 6, step: 0.02f);
    }

    [Fact]
    public void BuildEvaluation_UnsupportedOperator_ThrowsNamingIt()
    {
        var network = Build(
            "unsupported", [Conv("input", "w1", "c1"), Node("Softmax", ["c1"], ["s1"], "s1")], [RandomWeights("w1", [4, 3, 3, 3], 1, 0.3)], "s1", ["s1"]);
        var error = Assert.Throws<GraphBuildException>(() => StyleGraphBuilder.BuildEvaluation(network, 8, 8));
        Assert.Contains("Softmax", error.Message);
    }
}
