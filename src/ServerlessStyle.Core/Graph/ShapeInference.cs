using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>Static shapes for the forward ops loss networks use; the image size is fixed per graph.</summary>
internal static class ShapeInference
{
    public static void Infer(GraphContext ctx, NodeProto node)
    {
        var x = ctx.Shape(node.Input[0]);
        long[] y = node.OpType switch
        {
            "Conv" => Conv(ctx, node, x),
            "MaxPool" or "AveragePool" => Pool(ctx, node, x, x[1]),
            "Relu" or "BatchNormalization" or "Identity" or "Dropout" or "Neg" => x,
            "Add" or "Sub" or "Mul" or "Div" or "Sum" => node.Input.Select(ctx.Shape).Aggregate(Broadcast),
            "Reshape" => Reshape(x, ctx.ConstantInt64s(node.Input[1], node.Name)),
            "Flatten" => Flatten(x, GetInt(node, "axis", 1)),
            "Transpose" => (GetInts(node, "perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray()).Select(p => x[p]).ToArray(),
            "Gather" => Gather(ctx, node, x),
            _ => throw new GraphBuildException($"Operator '{node.OpType}' (node '{node.Name}') is not supported by the gradient graph builder."),
        };
        ctx.Shapes[node.Output[0]] = y;
        if (node.OpType == "MaxPool" && node.Output.Count > 1)
        {
            ctx.Shapes[node.Output[1]] = y;
        }
    }

    private static long[] Conv(GraphContext ctx, NodeProto node, long[] x)
    {
        var w = ctx.Shape(node.Input[1]);
        var group = GetInt(node, "group", 1);
        if (x.Length != 4 || w.Length != 4 || x[1] != w[1] * group)
        {
            throw new GraphBuildException($"Conv '{node.Name}': input [{string.Join(',', x)}] does not fit weight [{string.Join(',', w)}] with group {group}.");
        }

        return Pool(ctx, node, x, w[0]);
    }

    private static long[] Pool(GraphContext ctx, NodeProto node, long[] x, long channels)
    {
        if (x.Length != 4)
        {
            throw new GraphBuildException($"{node.OpType} '{node.Name}': only 2-D (NCHW) inputs are supported, got rank {x.Length}.");
        }

        var kernel = ForwardPass.KernelShape(ctx, node);
        var strides = GetInts(node, "strides") ?? [1, 1];
        var dilations = GetInts(node, "dilations") ?? [1, 1];
        var pads = GetInts(node, "pads") ?? [0, 0, 0, 0];
        var ceil = GetInt(node, "ceil_mode", 0) != 0;
        var y = new long[] { x[0], channels, 0, 0 };
        for (var i = 0; i < 2; i++)
        {
            var span = x[2 + i] + pads[i] + pads[i + 2] - (((kernel[i] - 1) * dilations[i]) + 1);
            if (span < 0)
            {
                throw new GraphBuildException($"{node.OpType} '{node.Name}': the window does not fit an input of size {x[2 + i]}.");
            }

            y[2 + i] = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
        }

        return y;
    }

    public static long[] Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var y = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new GraphBuildException($"Shapes [{string.Join(',', a)}] and [{string.Join(',', b)}] do not broadcast.");
            }

            y[i] = Math.Max(da, db);
        }

        return y;
    }

    private static long[] Reshape(long[] x, long[] shape)
    {
        var y = shape.Select((d, i) => d == 0 ? x[i] : d).ToArray();
        var total = x.Aggregate(1L, (p, d) => p * d);
        var known = y.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
        return y.Select(d => d == -1 ? total / known : d).ToArray();
    }

    private static long[] Flatten(long[] x, long axis)
    {
        axis = axis < 0 ? axis + x.Length : axis;
        return [x.Take((int)axis).Aggregate(1L, (p, d) => p * d), x.Skip((int)axis).Aggregate(1L, (p, d) => p * d)];
    }

    private static long[] Gather(GraphContext ctx, NodeProto node, long[] x)
    {
        var axis = GetInt(node, "axis", 0);
        var indices = ctx.Shape(node.Input[1]);
        return [.. x.Take((int)axis), .. indices, .. x.Skip((int)axis + 1)];
    }
}
