using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>An emitted ONNX model with the static shapes of its target tensors.</summary>
/// <param name="Model">The model (opset 17).</param>
/// <param name="ContentShape">Shape of the content tap, [1, C, h, w].</param>
/// <param name="StyleChannels">Channels of each style layer (its Gram is C x C).</param>
/// <param name="StylePositions">h * w of each style layer's feature map.</param>
/// <param name="Fed">Constants fed on every run, declared as the model's last inputs in this order (see <see cref="FedTensor"/>).</param>
public sealed record StyleGraph(ModelProto Model, long[] ContentShape, IReadOnlyList<long> StyleChannels, IReadOnlyList<long> StylePositions, IReadOnlyList<FedTensor> Fed);

/// <summary>
/// Builds, for a loss network and an image size, the targets graph (content features and style Grams of an image)
/// and the evaluation graph (the Gatys loss of the Keras example and its gradient with respect to the image).
/// </summary>
public static class StyleGraphBuilder
{
    public const string Image = "image";
    public const string ContentFeatures = "content_features";
    public const string ContentTarget = "content_target";
    public const string ContentWeight = "content_weight";
    public const string StyleWeight = "style_weight";
    public const string TotalVariationWeight = "tv_weight";
    public const string StyleLayerWeights = "style_layer_weights";
    public const string Loss = "loss";
    public const string ContentLoss = "content_loss";
    public const string StyleLoss = "style_loss";
    public const string TotalVariationLoss = "tv_loss";
    public const string Gradient = "gradient";

    public static string Gram(int layer) => $"gram_{layer}";

    public static string GramTarget(int layer) => $"gram_target_{layer}";

    /// <summary>image [1,3,H,W] in the optimisation space -> content features and one C x C Gram per style layer.</summary>
    public static StyleGraph BuildTargets(LossNetwork network, int height, int width)
    {
        var ctx = new GraphContext(ConvInputGradient.ConvTranspose);
        var (taps, content, style) = Taps(ctx, network, height, width);
        var outputs = new List<ValueInfoProto> { FloatValue(ContentFeatures, ctx.Shape(content)) };
        ctx.Nodes.Add(Node("Identity", [content], [ContentFeatures], "ss/content_features"));
        for (var l = 0; l < style.Count; l++)
        {
            var (gram, _) = GramOf(ctx, style[l]);
            ctx.Nodes.Add(Node("Identity", [gram], [Gram(l)], ctx.Fresh("gram_identity")));
            outputs.Add(FloatValue(Gram(l), ctx.Shape(gram)));
        }

        var graph = ctx.ToGraph($"{network.Name}_targets", [FloatValue(Image, [1, 3, height, width])], outputs);
        return Describe(ctx, graph, content, style);
    }

    /// <summary>
    /// Inputs: image [1,3,H,W], content_target [1,C,h,w], gram_target_l [C_l,C_l], the three weights (scalars) and
    /// style_layer_weights [L]. Outputs: loss, content_loss, style_loss, tv_loss (weighted scalars) and gradient
    /// d loss / d image [1,3,H,W].
    /// </summary>
    /// <param name="winogradMinChannels">
    /// When set, the finished graph's eligible 3x3 convs (forward and flipped input-gradient ones) with at least this many
    /// input and output channels are rewritten as Winograd F(4x4,3x3) (<see cref="WinogradConvolution"/>); the outputs
    /// keep their meaning, within float32 rounding.
    /// </param>
    public static StyleGraph BuildEvaluation(
        LossNetwork network, int height, int width, ConvInputGradient convGradient = ConvInputGradient.ConvTranspose, int? winogradMinChannels = null) =>
        Evaluation(network, height, width, convGradient, winogradMinChannels).ToModel();

    /// <summary>The evaluation graph's nodes with every tensor's shape, for cost counts.</summary>
    internal static GraphContext EvaluationContext(LossNetwork network, int height, int width, ConvInputGradient convGradient)
    {
        // Unrewritten: cost counts are the nominal direct-conv work, whatever the evaluator runs. No model is made, so
        // no constant is computed or copied for it.
        return Evaluation(network, height, width, convGradient, winogradMinChannels: null).Context;
    }

    /// <summary>The evaluation graph's nodes, and how to make them into a model (which computes the constants it uses).</summary>
    private static (GraphContext Context, Func<StyleGraph> ToModel) Evaluation(
        LossNetwork network, int height, int width, ConvInputGradient convGradient, int? winogradMinChannels)
    {
        var ctx = new GraphContext(convGradient);
        var (_, content, style) = Taps(ctx, network, height, width);
        var inputs = new List<ValueInfoProto>
        {
            FloatValue(Image, [1, 3, height, width]),
            FloatValue(ContentTarget, ctx.Shape(content)),
        };
        var tapGradients = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void AddTapGradient(string tap, string g)
        {
            if (!tapGradients.TryGetValue(tap, out var list))
            {
                tapGradients[tap] = list = [];
            }

            list.Add(g);
        }

        // content = w_c * sum((F(x) - F(c))^2); dF = 2 w_c (F(x) - F(c)).
        var contentShape = ctx.Shape(content);
        var contentDiff = ctx.Emit("Sub", [content, ContentTarget], contentShape, "content_diff");
        var contentSum = SumOfSquares(ctx, contentDiff, "content");
        var contentLoss = ctx.Emit("Mul", [contentSum, ContentWeight], [], "content_loss");
        var twiceContentWeight = ctx.Emit("Mul", [ContentWeight, ctx.Scalar(2f, "two")], [], "twice_content_weight");
        AddTapGradient(content, ctx.Emit("Mul", [contentDiff, twiceContentWeight], contentShape, "d_content"));

        // style = w_s * sum_l weight_l * sum((G_l(s) - G_l(x))^2) / (4 * 3^2 * (H*W)^2): the image size and the
        // fixed 3 channels are the Keras example's, kept for fidelity. dF_l = 4 c_l (G_l(x) - G_l(s)) F_l, G symmetric.
        var denominator = 4.0 * 9.0 * Math.Pow((double)height * width, 2);
        var styleScale = ctx.Emit("Div", [StyleWeight, ctx.Scalar((float)denominator, "style_denominator")], [], "style_scale");
        var styleTerms = new List<string>();
        for (var l = 0; l < style.Count; l++)
        {
            var (gram, flat) = GramOf(ctx, style[l]);
            var gramShape = ctx.Shape(gram);
            inputs.Add(FloatValue(GramTarget(l), gramShape));
            var diff = ctx.Emit("Sub", [gram, GramTarget(l)], gramShape, "gram_diff");
            var layerWeight = ctx.Emit("Gather", [StyleLayerWeights, ctx.ConstInt64s([], [l], "layer_index")], [], "layer_weight", Int("axis", 0));
            var coefficient = ctx.Emit("Mul", [styleScale, layerWeight], [], "style_coefficient");
            styleTerms.Add(ctx.Emit("Mul", [SumOfSquares(ctx, diff, "style"), coefficient], [], "style_term"));
            var fourCoefficient = ctx.Emit("Mul", [coefficient, ctx.Scalar(4f, "four")], [], "four_coefficient");

            // Scaling the C x C difference before the MatMul costs C^2 multiplies instead of C * h * w after it.
            var diffScaled = ctx.Emit("Mul", [diff, fourCoefficient], gramShape, "gram_diff_scaled");
            var dFlat = ctx.Emit("MatMul", [diffScaled, flat], ctx.Shape(flat), "d_gram");
            AddTapGradient(style[l], BackwardRules.ReshapeTo(ctx, dFlat, ctx.Shape(style[l])));
        }

        var styleLoss = styleTerms.Count switch
        {
            0 => ctx.Scalar(0f, "no_style"),
            1 => styleTerms[0],
            _ => ctx.Emit("Sum", [.. styleTerms], [], "style_sum"),
        };

        var (tvLoss, tvGradient) = TotalVariation(ctx, height, width);

        var imageGradient = Backward(ctx, tapGradients);
        var gradient = imageGradient is null ? tvGradient : ctx.Emit("Add", [imageGradient, tvGradient], [1, 3, height, width], "image_gradient");

        ctx.Nodes.Add(Node("Identity", [contentLoss], [ContentLoss], "ss/out_content"));
        ctx.Nodes.Add(Node("Identity", [styleLoss], [StyleLoss], "ss/out_style"));
        ctx.Nodes.Add(Node("Identity", [tvLoss], [TotalVariationLoss], "ss/out_tv"));
        ctx.Nodes.Add(Node("Sum", [contentLoss, styleLoss, tvLoss], [Loss], "ss/out_loss"));
        ctx.Nodes.Add(Node("Identity", [gradient], [Gradient], "ss/out_gradient"));
        if (winogradMinChannels is { } minChannels)
        {
            WinogradConvolution.Rewrite(ctx, minChannels);
        }

        inputs.Add(FloatValue(ContentWeight, []));
        inputs.Add(FloatValue(StyleWeight, []));
        inputs.Add(FloatValue(TotalVariationWeight, []));
        inputs.Add(FloatValue(StyleLayerWeights, [style.Count]));
        ValueInfoProto[] outputs =
        [
            FloatValue(Loss, []), FloatValue(ContentLoss, []), FloatValue(StyleLoss, []), FloatValue(TotalVariationLoss, []),
            FloatValue(Gradient, [1, 3, height, width]),
        ];
        return (ctx, () => Describe(ctx, ctx.ToGraph($"{network.Name}_evaluation", inputs, outputs), content, style));
    }

    private static (List<string> Taps, string Content, List<string> Style) Taps(GraphContext ctx, LossNetwork network, int height, int width)
    {
        if (height < 2 || width < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(height), $"Image size {height}x{width} is too small: the total variation needs at least 2x2.");
        }

        var style = network.StyleLayers.Select(s => s.Tensor).ToList();
        var taps = style.Append(network.ContentLayer).Distinct(StringComparer.Ordinal).ToList();
        ForwardPass.Append(ctx, network, Image, height, width, taps);
        if (!network.ActivationSmoothing)
        {
            return (taps, network.ContentLayer, style);
        }

        // Each tap is smoothed once, whether style, content or both read it; the losses then read the smoothed tensor.
        var smoothed = taps.ToDictionary(t => t, t => ForwardPass.AppendSmoothing(ctx, t, network.SmoothingTemperature), StringComparer.Ordinal);
        return (taps, smoothed[network.ContentLayer], style.Select(s => smoothed[s]).ToList());
    }

    private static StyleGraph Describe(GraphContext ctx, GraphProto graph, string content, List<string> style) =>
        new(Model(graph), ctx.Shape(content), style.Select(s => ctx.Shape(s)[1]).ToList(), style.Select(s => ctx.Shape(s)[2] * ctx.Shape(s)[3]).ToList(), ctx.UsedFed());

    /// <summary>G = F F^T with F the post-ReLU (or smoothed) activation reshaped to [C, h*w]; returns G and F.</summary>
    private static (string Gram, string Flat) GramOf(GraphContext ctx, string tap)
    {
        var shape = ctx.Shape(tap);
        if (shape.Length != 4 || shape[0] != 1)
        {
            throw new GraphBuildException($"Style layer '{tap}' has shape [{string.Join(',', shape)}]; an NCHW tensor with N = 1 is needed.");
        }

        long channels = shape[1], positions = shape[2] * shape[3];
        var flat = BackwardRules.ReshapeTo(ctx, tap, [channels, positions]);
        var transposed = ctx.Emit("Transpose", [flat], [positions, channels], "flat_t", Ints("perm", 1, 0));
        return (ctx.Emit("MatMul", [flat, transposed], [channels, channels], "gram"), flat);
    }

    private static string SumOfSquares(GraphContext ctx, string tensor, string hint)
    {
        var squared = ctx.Emit("Mul", [tensor, tensor], ctx.Shape(tensor), $"{hint}_squared");
        return ctx.Emit("ReduceSum", [squared], [], $"{hint}_sum", Int("keepdims", 0));
    }

    /// <summary>
    /// tv = w_tv * sum((a + b)^1.25), a = (x[:H-1,:W-1] - x[1:,:W-1])^2, b = (x[:H-1,:W-1] - x[:H-1,1:])^2 on the
    /// optimisation-space image. d(s^1.25)/ds = 1.25 s^0.25 is 0 at s = 0, so Pow(s, 0.25) gives no NaN there.
    /// </summary>
    private static (string Loss, string Gradient) TotalVariation(GraphContext ctx, int height, int width)
    {
        long[] full = [1, 3, height, width];
        long[] inner = [1, 3, height - 1, width - 1];
        string Crop(long rowStart, long colStart, string hint) => ctx.Emit(
            "Slice",
            [Image, ctx.ConstInt64s([2], [rowStart, colStart], "starts"), ctx.ConstInt64s([2], [rowStart + height - 1, colStart + width - 1], "ends"), ctx.ConstInt64s([2], [2, 3], "axes")],
            inner, hint);

        var corner = Crop(0, 0, "tv_corner");
        var down = ctx.Emit("Sub", [corner, Crop(1, 0, "tv_down")], inner, "tv_dv");
        var right = ctx.Emit("Sub", [corner, Crop(0, 1, "tv_right")], inner, "tv_dh");
        var s = ctx.Emit(
            "Add", [ctx.Emit("Mul", [down, down], inner, "tv_a"), ctx.Emit("Mul", [right, right], inner, "tv_b")], inner, "tv_s");
        var root = ctx.Emit("Pow", [s, ctx.Scalar(0.25f, "quarter")], inner, "tv_root");
        var sum = ctx.Emit("ReduceSum", [ctx.Emit("Mul", [s, root], inner, "tv_pow")], [], "tv_sum", Int("keepdims", 0));
        var loss = ctx.Emit("Mul", [sum, TotalVariationWeight], [], "tv_loss");

        // d tv / d s = 1.25 w_tv s^0.25; each difference d contributes 2 d ds to its first pixel and -2 d ds to its second.
        var ds = ctx.Emit("Mul", [root, ctx.Emit("Mul", [TotalVariationWeight, ctx.Scalar(2.5f, "two_and_half")], [], "tv_factor")], inner, "tv_ds");
        var gDown = ctx.Emit("Mul", [down, ds], inner, "tv_g_down");
        var gRight = ctx.Emit("Mul", [right, ds], inner, "tv_g_right");
        var gCorner = ctx.Emit("Add", [gDown, gRight], inner, "tv_g_corner");
        string PadTo(string g, long top, long left, string hint) => ctx.Emit(
            "Pad", [g, ctx.ConstInt64s([8], [0, 0, top, left, 0, 0, 1 - top, 1 - left], "pads")], full, hint);

        var fromCorner = PadTo(gCorner, 0, 0, "tv_g_corner_full");
        var fromDown = PadTo(gDown, 1, 0, "tv_g_down_full");
        var fromRight = PadTo(gRight, 0, 1, "tv_g_right_full");
        var gradient = ctx.Emit("Sub", [fromCorner, ctx.Emit("Add", [fromDown, fromRight], full, "tv_g_second")], full, "tv_gradient");
        return (loss, gradient);
    }

    /// <summary>Reverse sweep over the forward nodes, from the tap gradients to the gradient of the image.</summary>
    private static string? Backward(GraphContext ctx, Dictionary<string, List<string>> gradients)
    {
        string? Take(string tensor)
        {
            if (!gradients.Remove(tensor, out var list))
            {
                return null;
            }

            // A tensor consumed more than once receives the sum of its consumers' gradients.
            return list.Count == 1 ? list[0] : ctx.Emit("Sum", [.. list], ctx.Shape(tensor), "d_sum");
        }

        var forward = ctx.Nodes.Where(n => n.Output.Count > 0 && ctx.IsDifferentiable(n.Output[0])).ToList();
        for (var i = forward.Count - 1; i >= 0; i--)
        {
            var node = forward[i];
            var dy = Take(node.Output[0]);
            if (dy is null)
            {
                continue;
            }

            if (!BackwardRules.Table.TryGetValue(node.OpType, out var rule))
            {
                throw new GraphBuildException($"Operator '{node.OpType}' (node '{node.Name}') has no backward rule.");
            }

            var dx = rule(ctx, node, dy);
            for (var j = 0; j < node.Input.Count && j < dx.Length; j++)
            {
                if (dx[j] is { } g && ctx.IsDifferentiable(node.Input[j]))
                {
                    if (!gradients.TryGetValue(node.Input[j], out var list))
                    {
                        gradients[node.Input[j]] = list = [];
                    }

                    list.Add(g);
                }
            }
        }

        return Take(Image);
    }
}
