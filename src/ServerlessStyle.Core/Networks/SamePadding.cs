using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// Turns <c>auto_pad</c> SAME_LOWER/SAME_UPPER into explicit pads for one input size. Loss graphs keep auto_pad so
/// they run at any size; code that needs numbers (a gradient builder sizing ConvTranspose or MaxUnpool) specialises.
/// </summary>
public static class SamePadding
{
    /// <summary>
    /// "Same" padding along one axis: output ceil(n / stride), total padding what that needs; the odd pixel goes at the
    /// start for SAME_LOWER (CNTK's convention, which ResNet18's stored pads follow) and at the end for SAME_UPPER.
    /// </summary>
    public static (long Begin, long End) Pads(long size, long kernel, long stride, bool lower)
    {
        var output = (size + stride - 1) / stride;
        var total = Math.Max(0, (output - 1) * stride + kernel - size);
        var small = total / 2;
        return lower ? (total - small, small) : (small, total - small);
    }

    /// <summary>A copy of the graph with every auto_pad replaced by the explicit pads it means at this input size.</summary>
    public static GraphProto Specialize(GraphProto graph, string inputName, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var result = graph.Clone();
        var sizes = new Dictionary<string, (long H, long W)> { [inputName] = (height, width) };
        foreach (var node in result.Node)
        {
            if (!sizes.TryGetValue(node.Input[0], out var size))
            {
                throw new InvalidOperationException($"Node {node.Name} reads {node.Input[0]}, whose size is unknown here.");
            }

            sizes[node.Output[0]] = node.OpType switch
            {
                "Conv" or "MaxPool" or "AveragePool" => Window(node, result, size),
                "Relu" or "BatchNormalization" or "Add" or "Identity" => size,
                _ => throw new NotSupportedException($"SamePadding does not know how {node.OpType} ({node.Name}) changes the spatial size."),
            };
        }

        return result;
    }

    private static (long H, long W) Window(NodeProto node, GraphProto graph, (long H, long W) size)
    {
        var kernel = Attribute(node, "kernel_shape")?.Ints.ToArray()
            ?? graph.Initializer.First(t => t.Name == node.Input[1]).Dims.Skip(2).ToArray();
        var strides = Attribute(node, "strides")?.Ints.ToArray() ?? [1, 1];
        var dilations = Attribute(node, "dilations")?.Ints.ToArray() ?? [1, 1];
        var autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        var effective = new[] { (kernel[0] - 1) * dilations[0] + 1, (kernel[1] - 1) * dilations[1] + 1 };
        if (autoPad is "SAME_LOWER" or "SAME_UPPER")
        {
            var lower = autoPad == "SAME_LOWER";
            var (top, bottom) = Pads(size.H, effective[0], strides[0], lower);
            var (left, right) = Pads(size.W, effective[1], strides[1], lower);
            node.Attribute.Remove(Attribute(node, "auto_pad"));
            var old = Attribute(node, "pads");
            if (old is not null)
            {
                node.Attribute.Remove(old);
            }

            node.Attribute.Add(Ints("pads", top, left, bottom, right));
        }

        var pads = Attribute(node, "pads")?.Ints.ToArray() ?? [0, 0, 0, 0];
        return (
            (size.H + pads[0] + pads[2] - effective[0]) / strides[0] + 1,
            (size.W + pads[1] + pads[3] - effective[1]) / strides[1] + 1);
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);
}
