using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>How the input gradient of a Conv is computed: both are exact; which is faster is measured.</summary>
public enum ConvInputGradient
{
    /// <summary>ConvTranspose of the output gradient with the forward weight (shared, no copy).</summary>
    ConvTranspose,

    /// <summary>A stride-1 Conv over the spatially flipped, in/out-transposed weight (a second weight copy); strided convs still use ConvTranspose.</summary>
    FlippedConv,
}

/// <summary>
/// Reverse-mode rules keyed by op type: each takes the forward node and the gradient of its first output and emits
/// the nodes computing the gradient of each input (null where an input is constant). Adding an op is one entry.
/// </summary>
internal static class BackwardRules
{
    public delegate string?[] Rule(GraphContext ctx, NodeProto node, string dy);

    public static readonly IReadOnlyDictionary<string, Rule> Table = new Dictionary<string, Rule>(StringComparer.Ordinal)
    {
        ["Conv"] = Conv,
        ["Relu"] = Relu,
        ["MaxPool"] = MaxPool,
        ["AveragePool"] = AveragePool,
        ["BatchNormalization"] = BatchNormalization,
        ["Add"] = (ctx, n, dy) => [Unbroadcast(ctx, n, 0, dy), Unbroadcast(ctx, n, 1, dy)],
        ["Sum"] = (ctx, n, dy) => n.Input.Select((_, i) => Unbroadcast(ctx, n, i, dy)).ToArray(),
        ["Sub"] = (ctx, n, dy) => [Unbroadcast(ctx, n, 0, dy), Unbroadcast(ctx, n, 1, Neg(ctx, n, 1, dy))],
        ["Mul"] = Mul,
        ["Div"] = Div,
        ["Neg"] = (ctx, n, dy) => [ctx.Emit("Neg", [dy], ctx.Shape(dy), "d_neg")],
        ["Identity"] = (_, _, dy) => [dy],
        ["Dropout"] = (_, n, dy) => [dy, .. new string?[n.Input.Count - 1]],
        ["Reshape"] = (ctx, n, dy) => [ReshapeTo(ctx, dy, ctx.Shape(n.Input[0])), null],
        ["Flatten"] = (ctx, n, dy) => [ReshapeTo(ctx, dy, ctx.Shape(n.Input[0]))],
        ["Transpose"] = Transpose,
        ["Gather"] = Gather,
        ["Softmax"] = Softmax,
    };

    private static string?[] Conv(GraphContext ctx, NodeProto node, string dy)
    {
        var x = ctx.Shape(node.Input[0]);
        var w = ctx.Shape(node.Input[1]);
        if (ctx.IsDifferentiable(node.Input[1]))
        {
            throw new GraphBuildException($"Conv '{node.Name}': weights that depend on the image are not supported.");
        }

        var y = ctx.Shape(node.Output[0]);
        var kernel = w[2..];
        var strides = GetInts(node, "strides") ?? [1, 1];
        var dilations = GetInts(node, "dilations") ?? [1, 1];
        var pads = GetInts(node, "pads") ?? [0, 0, 0, 0];
        var group = GetInt(node, "group", 1);
        var input = new string?[node.Input.Count];

        var flippedPads = new long[4];
        for (var i = 0; i < 2; i++)
        {
            flippedPads[i] = kernel[i] - 1 - pads[i];
            flippedPads[i + 2] = kernel[i] - 1 - pads[i + 2];
        }

        var canFlip = ctx.ConvGradient == ConvInputGradient.FlippedConv && group == 1 && ctx.IsConstant(node.Input[1])
            && strides.All(s => s == 1) && dilations.All(d => d == 1) && flippedPads.All(p => p >= 0);
        if (canFlip)
        {
            // dX = correlation of dY with W transposed to [Cin, Cout, kh, kw] and rotated by 180 degrees.
            var flippedName = ctx.DeferredFloats([w[1], w[0], w[2], w[3]], () => Flip(ctx.ConstantFloats(node.Input[1], node.Name), w), "flipped_weight");
            ctx.FlippedFrom[flippedName] = node.Input[1];
            input[0] = ctx.Emit("Conv", [dy, flippedName], x, "d_conv", Ints("kernel_shape", kernel), Ints("pads", flippedPads));
            return input;
        }

        // ConvTranspose reads the Conv weight layout as is; output_padding restores the rows and columns the forward
        // stride dropped, so the gradient has exactly the input's shape.
        var outputPadding = new long[2];
        for (var i = 0; i < 2; i++)
        {
            outputPadding[i] = x[2 + i] - ((strides[i] * (y[2 + i] - 1)) + ((kernel[i] - 1) * dilations[i]) + 1 - pads[i] - pads[i + 2]);
        }

        input[0] = ctx.Emit(
            "ConvTranspose", [dy, node.Input[1]], x, "d_conv",
            Ints("kernel_shape", kernel), Ints("strides", strides), Ints("dilations", dilations), Ints("pads", pads),
            Ints("output_padding", outputPadding), Int("group", group));
        return input;
    }

    /// <summary>W [Cout, Cin, kh, kw] transposed to [Cin, Cout, kh, kw] and rotated by 180 degrees.</summary>
    private static float[] Flip(float[] weight, long[] w)
    {
        long cout = w[0], cin = w[1], kh = w[2], kw = w[3];
        var flipped = new float[weight.Length];
        for (long o = 0; o < cout; o++)
        {
            for (long c = 0; c < cin; c++)
            {
                for (long i = 0; i < kh; i++)
                {
                    for (long j = 0; j < kw; j++)
                    {
                        flipped[(((c * cout) + o) * kh * kw) + ((kh - 1 - i) * kw) + (kw - 1 - j)] = weight[(((o * cin) + c) * kh * kw) + (i * kw) + j];
                    }
                }
            }
        }

        return flipped;
    }

    private static string?[] Relu(GraphContext ctx, NodeProto node, string dy)
    {
        var y = node.Output[0];
        var shape = ctx.Shape(y);
        var positive = ctx.Emit("Greater", [y, ctx.Scalar(0f, "zero")], shape, "relu_mask");
        return [ctx.Emit("Where", [positive, dy, ctx.Scalar(0f, "zero")], shape, "d_relu")];
    }

    private static string?[] MaxPool(GraphContext ctx, NodeProto node, string dy)
    {
        var x = ctx.Shape(node.Input[0]);
        var indices = node.Output[1];
        var kernel = ForwardPass.KernelShape(ctx, node);
        var strides = GetInts(node, "strides") ?? [1, 1];
        var dilations = GetInts(node, "dilations") ?? [1, 1];
        var y = ctx.Shape(node.Output[0]);
        var pads = GetInts(node, "pads") ?? [0, 0, 0, 0];
        var tiles = Enumerable.Range(0, 2).All(i => kernel[i] == strides[i] && dilations[i] == 1 && x[2 + i] == y[2 + i] * strides[i])
            && pads.All(p => p == 0);
        if (tiles)
        {
            // The windows tile the input exactly, so each element is the maximum of at most one window and MaxUnpool's
            // scatter (which overwrites on collisions) is exact. ORT's MaxUnpool misplaces values when windows leave
            // a remainder (odd sizes), so every other case takes the ScatterElements path.
            var outputShape = ctx.ConstInt64s([4], x, "unpool_shape");
            return [ctx.Emit("MaxUnpool", [dy, indices, outputShape], x, "d_maxpool", Ints("kernel_shape", kernel), Ints("strides", strides))];
        }

        // Overlapping windows can pick the same element twice; ScatterElements with reduction=add sums those
        // contributions (and is exact for any other window layout too). The Indices are flat over the whole NCHW tensor.
        var total = x.Aggregate(1L, (p, d) => p * d);
        var count = ctx.Shape(dy).Aggregate(1L, (p, d) => p * d);
        var zeros = ctx.ConstFloats([1, total], new float[total], "scatter_zeros");
        var flatShape = ctx.ConstInt64s([2], [1, -1], "flat_shape");
        var flatIndices = ctx.Emit("Reshape", [indices, flatShape], [1, count], "flat_indices");
        var flatDy = ctx.Emit("Reshape", [dy, flatShape], [1, count], "flat_dy");
        var scattered = ctx.Emit("ScatterElements", [zeros, flatIndices, flatDy], [1, total], "scatter", Int("axis", 1), String("reduction", "add"));
        return [ReshapeTo(ctx, scattered, x)];
    }

    private static string?[] AveragePool(GraphContext ctx, NodeProto node, string dy)
    {
        var x = ctx.Shape(node.Input[0]);
        var y = ctx.Shape(node.Output[0]);
        var kernel = ForwardPass.KernelShape(ctx, node);
        var strides = GetInts(node, "strides") ?? [1, 1];
        var pads = GetInts(node, "pads") ?? [0, 0, 0, 0];
        var includePad = GetInt(node, "count_include_pad", 0) != 0;
        if ((GetInts(node, "dilations") ?? [1, 1]).Any(d => d != 1))
        {
            throw new GraphBuildException($"AveragePool '{node.Name}': dilations are not supported.");
        }

        // 1 / (number of elements each output averaged), per output position: it differs at the borders when the
        // padding is not counted.
        var inverse = new float[y[2] * y[3]];
        for (long i = 0; i < y[2]; i++)
        {
            for (long j = 0; j < y[3]; j++)
            {
                var rows = Covered(i, strides[0], pads[0], kernel[0], x[2], includePad ? pads[2] : 0, includePad ? pads[0] : 0);
                var cols = Covered(j, strides[1], pads[1], kernel[1], x[3], includePad ? pads[3] : 0, includePad ? pads[1] : 0);
                inverse[(i * y[3]) + j] = 1f / (rows * cols);
            }
        }

        var scaled = ctx.Emit("Mul", [dy, ctx.ConstFloats([1, 1, y[2], y[3]], inverse, "avgpool_inverse_count")], y, "avgpool_scaled");
        var channels = x[1];
        var ones = ctx.ConstFloats([channels, 1, kernel[0], kernel[1]], Enumerable.Repeat(1f, (int)(channels * kernel[0] * kernel[1])).ToArray(), "avgpool_ones");
        var outputPadding = new long[2];
        for (var i = 0; i < 2; i++)
        {
            outputPadding[i] = x[2 + i] - ((strides[i] * (y[2 + i] - 1)) + kernel[i] - pads[i] - pads[i + 2]);
        }

        return [ctx.Emit(
            "ConvTranspose", [scaled, ones], x, "d_avgpool",
            Ints("kernel_shape", kernel), Ints("strides", strides), Ints("pads", pads), Ints("output_padding", outputPadding), Int("group", channels))];
    }

    private static long Covered(long o, long stride, long padBegin, long kernel, long size, long extraEnd, long extraBegin)
    {
        var start = (o * stride) - padBegin;
        var end = start + kernel;
        return Math.Min(end, size + extraEnd) - Math.Max(start, -extraBegin);
    }

    private static string?[] BatchNormalization(GraphContext ctx, NodeProto node, string dy)
    {
        // Inference mode: y = (x - mean) / sqrt(var + eps) * scale + bias, a per-channel scale of x.
        var scale = ctx.ConstantFloats(node.Input[1], node.Name);
        var variance = ctx.ConstantFloats(node.Input[4], node.Name);
        var epsilon = GetFloat(node, "epsilon", 1e-5f);
        var factor = new float[scale.Length];
        for (var c = 0; c < scale.Length; c++)
        {
            factor[c] = (float)(scale[c] / Math.Sqrt(variance[c] + (double)epsilon));
        }

        var factorName = ctx.ConstFloats([1, factor.Length, 1, 1], factor, "bn_factor");
        return [ctx.Emit("Mul", [dy, factorName], ctx.Shape(dy), "d_bn"), null, null, null, null];
    }

    private static string?[] Mul(GraphContext ctx, NodeProto node, string dy)
    {
        var shape = ctx.Shape(dy);
        var da = ctx.IsDifferentiable(node.Input[0]) ? ctx.Emit("Mul", [dy, node.Input[1]], shape, "d_mul") : null;
        var db = ctx.IsDifferentiable(node.Input[1]) ? ctx.Emit("Mul", [dy, node.Input[0]], shape, "d_mul") : null;
        return [da is null ? null : Unbroadcast(ctx, node, 0, da), db is null ? null : Unbroadcast(ctx, node, 1, db)];
    }

    private static string?[] Div(GraphContext ctx, NodeProto node, string dy)
    {
        var shape = ctx.Shape(dy);
        var da = ctx.IsDifferentiable(node.Input[0]) ? ctx.Emit("Div", [dy, node.Input[1]], shape, "d_div") : null;
        string? db = null;
        if (ctx.IsDifferentiable(node.Input[1]))
        {
            // d(a/b)/db = -(a/b)/b.
            var quotient = ctx.Emit("Div", [node.Output[0], node.Input[1]], shape, "div_q");
            db = ctx.Emit("Neg", [ctx.Emit("Mul", [dy, quotient], shape, "d_div")], shape, "d_div");
        }

        return [da is null ? null : Unbroadcast(ctx, node, 0, da), db is null ? null : Unbroadcast(ctx, node, 1, db)];
    }

    /// <summary>y = softmax(x) along one axis: dx = y * (dy - sum(dy * y)) with the sum along that axis.</summary>
    private static string?[] Softmax(GraphContext ctx, NodeProto node, string dy)
    {
        var y = node.Output[0];
        var shape = ctx.Shape(y);
        var axis = GetInt(node, "axis", -1);
        axis = axis < 0 ? axis + shape.Length : axis;
        var reducedShape = shape.Select((d, i) => i == axis ? 1 : d).ToArray();
        var weighted = ctx.Emit("Mul", [dy, y], shape, "softmax_dy_y");
        var dot = ctx.Emit("ReduceSum", [weighted, ctx.ConstInt64s([1], [axis], "axes")], reducedShape, "softmax_dot", Int("keepdims", 1));
        var centred = ctx.Emit("Sub", [dy, dot], shape, "softmax_centred");
        return [ctx.Emit("Mul", [centred, y], shape, "d_softmax")];
    }

    private static string?[] Transpose(GraphContext ctx, NodeProto node, string dy)
    {
        var x = ctx.Shape(node.Input[0]);
        var perm = GetInts(node, "perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
        var inverse = new long[perm.Length];
        for (var i = 0; i < perm.Length; i++)
        {
            inverse[perm[i]] = i;
        }

        return [ctx.Emit("Transpose", [dy], x, "d_transpose", Ints("perm", inverse))];
    }

    private static string?[] Gather(GraphContext ctx, NodeProto node, string dy)
    {
        var indices = ctx.ConstantInt64s(node.Input[1], node.Name);
        var x = ctx.Shape(node.Input[0]);
        var axis = GetInt(node, "axis", 0);
        if (indices.Length != x[axis] || indices.Order().Select((v, i) => v == i).Any(ok => !ok))
        {
            throw new GraphBuildException($"Gather '{node.Name}': only a permutation along one axis is supported.");
        }

        var inverse = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            inverse[indices[i]] = i;
        }

        return [ctx.Emit("Gather", [dy, ctx.ConstInt64s([inverse.Length], inverse, "inverse_order")], x, "d_gather", Int("axis", axis)), null];
    }

    private static string Neg(GraphContext ctx, NodeProto node, int input, string dy) =>
        ctx.IsDifferentiable(node.Input[input]) ? ctx.Emit("Neg", [dy], ctx.Shape(dy), "d_sub") : dy;

    /// <summary>The gradient of a broadcast input: the output gradient summed over the broadcast axes.</summary>
    private static string? Unbroadcast(GraphContext ctx, NodeProto node, int input, string dy)
    {
        if (!ctx.IsDifferentiable(node.Input[input]))
        {
            return null;
        }

        var target = ctx.Shape(node.Input[input]);
        var shape = ctx.Shape(dy);
        if (target.SequenceEqual(shape))
        {
            return dy;
        }

        var offset = shape.Length - target.Length;
        var axes = Enumerable.Range(0, shape.Length).Where(i => i < offset || (target[i - offset] == 1 && shape[i] != 1)).Select(i => (long)i).ToArray();
        var reducedShape = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var reduced = ctx.Emit("ReduceSum", [dy, ctx.ConstInt64s([axes.Length], axes, "axes")], reducedShape, "d_unbroadcast", Int("keepdims", 1));
        return ReshapeTo(ctx, reduced, target);
    }

    public static string ReshapeTo(GraphContext ctx, string tensor, long[] shape) =>
        ctx.Shape(tensor).SequenceEqual(shape) ? tensor : ctx.Emit("Reshape", [tensor, ctx.ConstInt64s([shape.Length], shape, "shape")], shape, "reshape");
}
