using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>
/// Copies the part of a loss network's forward graph that the taps need into a <see cref="GraphContext"/>, after the
/// conversion from the optimisation space, normalising each node on the way (explicit pads, MaxPool Indices output)
/// and inferring every shape.
/// </summary>
internal static class ForwardPass
{
    public static void Append(GraphContext ctx, LossNetwork network, string image, int height, int width, IReadOnlyCollection<string> taps)
    {
        ctx.Shapes[image] = [1, 3, height, width];
        ctx.Differentiable.Add(image);
        foreach (var initializer in network.Graph.Initializer)
        {
            ctx.Constants[initializer.Name] = initializer;
            ctx.Shapes[initializer.Name] = initializer.Dims.ToArray();
        }

        AppendNormalization(ctx, network, image);

        foreach (var node in Prune(network, taps))
        {
            if (node.OpType == "Constant")
            {
                var value = Find(node, "value")?.T ?? throw new GraphBuildException($"Constant node '{node.Name}' has no tensor 'value'.");
                var tensor = value.Clone();
                tensor.Name = node.Output[0];
                ctx.Constants[tensor.Name] = tensor;
                ctx.Shapes[tensor.Name] = tensor.Dims.ToArray();
                continue;
            }

            var copy = Normalize(ctx, node);
            ShapeInference.Infer(ctx, copy);
            if (copy.Input.Any(ctx.IsDifferentiable))
            {
                ctx.Differentiable.Add(copy.Output[0]);
            }

            ctx.Nodes.Add(copy);
        }

        foreach (var tap in taps)
        {
            if (!ctx.Shapes.ContainsKey(tap))
            {
                throw new GraphBuildException($"Network '{network.Name}' has no tensor '{tap}' to tap.");
            }

            if (!ctx.IsDifferentiable(tap))
            {
                throw new GraphBuildException($"Tap '{tap}' of network '{network.Name}' does not depend on the input '{network.InputName}'.");
            }
        }
    }

    /// <summary>
    /// Optimisation space (BGR, caffe mean subtracted) to the network's input: pixel = x + caffe mean, then
    /// input[c] = (pixel[order[c]] * Scale - Mean[c]) / Std[c], which is one per-channel affine map after a reorder.
    /// </summary>
    private static void AppendNormalization(GraphContext ctx, LossNetwork network, string image)
    {
        var n = network.Input;
        if (n.Mean.Length != 3 || n.Std.Length != 3)
        {
            throw new GraphBuildException($"Network '{network.Name}': input normalisation needs 3 means and 3 stds, got {n.Mean.Length} and {n.Std.Length}.");
        }

        int[] order = n.Order == ChannelOrder.Bgr ? [0, 1, 2] : [2, 1, 0];
        var scale = new float[3];
        var shift = new float[3];
        for (var c = 0; c < 3; c++)
        {
            scale[c] = n.Scale / n.Std[c];
            shift[c] = ((CaffeSpace.Mean[order[c]] * n.Scale) - n.Mean[c]) / n.Std[c];
        }

        var current = image;
        long[] shape = [1, 3, ctx.Shape(image)[2], ctx.Shape(image)[3]];
        if (n.Order == ChannelOrder.Rgb)
        {
            current = Forward(ctx, "Gather", [current, ctx.ConstInt64s([3], [2, 1, 0], "rgb_order")], shape, "to_rgb", Int("axis", 1));
        }

        if (scale.Any(s => s != 1f))
        {
            current = Forward(ctx, "Mul", [current, ctx.ConstFloats([1, 3, 1, 1], scale, "input_scale")], shape, "input_scaled");
        }

        if (shift.Any(s => s != 0f))
        {
            current = Forward(ctx, "Add", [current, ctx.ConstFloats([1, 3, 1, 1], shift, "input_shift")], shape, "input_shifted");
        }

        ctx.Nodes.Add(Node("Identity", [current], [network.InputName], "ss/network_input"));
        ctx.Shapes[network.InputName] = shape;
        ctx.Differentiable.Add(network.InputName);
    }

    /// <summary>
    /// SWAG's activation smoothing (Wang, Li and Vasconcelos, CVPR 2021): a softmax over the whole activation tensor, all
    /// channels and positions at once, as the authors' <c>softmax3d</c>, of the activations divided by a temperature
    /// (theirs is 1; see <see cref="LossNetwork.SmoothingTemperature"/> for why ResNet18's is not). The result is multiplied by
    /// the element count N so that it averages 1, like the raw activations, instead of 1/N: the paper's values make a
    /// layer's style term near 1e-22 at 256 px, so weights near 1e22 and gradients as tiny. The factor is a constant per
    /// layer, which the style layers' start-point normalisation and the content weight absorb.
    /// </summary>
    internal static string AppendSmoothing(GraphContext ctx, string tap, double temperature)
    {
        var shape = ctx.Shape(tap);
        var count = shape.Aggregate(1L, (p, d) => p * d);
        var flat = Forward(ctx, "Reshape", [tap, ctx.ConstInt64s([2], [1, count], "swag_flat_shape")], [1, count], "swag_flat");
        if (temperature != 1)
        {
            flat = Forward(ctx, "Mul", [flat, ctx.Scalar((float)(1 / temperature), "swag_inverse_temperature")], [1, count], "swag_tempered");
        }

        var softmax = Forward(ctx, "Softmax", [flat], [1, count], "swag_softmax", Int("axis", 1));
        var scaled = Forward(ctx, "Mul", [softmax, ctx.Scalar(count, "swag_count")], [1, count], "swag_scaled");
        return Forward(ctx, "Reshape", [scaled, ctx.ConstInt64s([shape.Length], shape, "swag_shape")], shape, "swag");
    }

    private static string Forward(GraphContext ctx, string op, string[] inputs, long[] shape, string hint, params AttributeProto[] attributes)
    {
        var output = ctx.Emit(op, inputs, shape, hint, attributes);
        ctx.Differentiable.Add(output);
        return output;
    }

    /// <summary>The nodes that some tap depends on, in the graph's (topological) order.</summary>
    private static List<NodeProto> Prune(LossNetwork network, IReadOnlyCollection<string> taps)
    {
        var needed = new HashSet<string>(taps, StringComparer.Ordinal);
        var kept = new List<NodeProto>();
        for (var i = network.Graph.Node.Count - 1; i >= 0; i--)
        {
            var node = network.Graph.Node[i];
            if (node.Output.Any(needed.Contains))
            {
                kept.Add(node);
                foreach (var input in node.Input.Where(s => s.Length > 0))
                {
                    needed.Add(input);
                }
            }
        }

        kept.Reverse();
        return kept;
    }

    /// <summary>
    /// A copy of the node in the form the backward rules expect: explicit pads instead of auto_pad, a MaxPool Indices
    /// output, and attributes of older opsets that opset 17 rejects removed.
    /// </summary>
    private static NodeProto Normalize(GraphContext ctx, NodeProto node)
    {
        var copy = node.Clone();
        if (string.IsNullOrEmpty(copy.Name))
        {
            copy.Name = ctx.Fresh(copy.OpType);
        }

        switch (copy.OpType)
        {
            case "Conv":
            case "MaxPool":
            case "AveragePool":
                ResolvePads(ctx, copy);
                break;
            case "BatchNormalization":
                // "spatial" (opset <= 8, always 1 in CNTK exports) is not part of opset 17.
                RemoveAttribute(copy, "spatial");
                RemoveAttribute(copy, "consumed_inputs");
                if (copy.Output.Count > 1)
                {
                    var y = copy.Output[0];
                    copy.Output.Clear();
                    copy.Output.Add(y);
                }

                break;
            case "Dropout":
                if (copy.Output.Count > 1)
                {
                    copy.Output.RemoveAt(1);
                }

                RemoveAttribute(copy, "is_test");
                break;
        }

        if (copy.OpType == "MaxPool")
        {
            if (copy.Output.Count == 1)
            {
                copy.Output.Add(ctx.Fresh("maxpool_indices"));
            }
        }

        return copy;
    }

    private static void RemoveAttribute(NodeProto node, string name)
    {
        var attribute = Find(node, name);
        if (attribute is not null)
        {
            node.Attribute.Remove(attribute);
        }
    }

    private static void ResolvePads(GraphContext ctx, NodeProto node)
    {
        var x = ctx.Shape(node.Input[0]);
        var kernel = KernelShape(ctx, node);
        var strides = GetInts(node, "strides") ?? [1, 1];
        var dilations = GetInts(node, "dilations") ?? [1, 1];
        var autoPad = GetString(node, "auto_pad", "NOTSET");
        long[] pads;
        switch (autoPad)
        {
            case "NOTSET":
                pads = GetInts(node, "pads") ?? new long[2 * kernel.Length];
                break;
            case "VALID":
                pads = new long[2 * kernel.Length];
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                pads = new long[2 * kernel.Length];
                for (var i = 0; i < kernel.Length; i++)
                {
                    var size = x[2 + i];
                    var output = (size + strides[i] - 1) / strides[i];
                    var total = Math.Max(0, ((output - 1) * strides[i]) + ((kernel[i] - 1) * dilations[i]) + 1 - size);
                    var small = total / 2;
                    pads[i] = autoPad == "SAME_UPPER" ? small : total - small;
                    pads[i + kernel.Length] = total - pads[i];
                }

                break;
            default:
                throw new GraphBuildException($"Node '{node.Name}': auto_pad '{autoPad}' is not supported.");
        }

        RemoveAttribute(node, "auto_pad");
        RemoveAttribute(node, "pads");
        node.Attribute.Add(Ints("pads", pads));
    }

    public static long[] KernelShape(GraphContext ctx, NodeProto node) =>
        GetInts(node, "kernel_shape")
        ?? (node.OpType == "Conv" ? ctx.Shape(node.Input[1])[2..] : throw new GraphBuildException($"Node '{node.Name}' ({node.OpType}) has no kernel_shape."));
}
