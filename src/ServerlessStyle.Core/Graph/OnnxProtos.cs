using System.Runtime.InteropServices;
using Google.Protobuf;
using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Graph;

/// <summary>Small constructors and readers for the ONNX protobuf messages: the graph builder's and the loss networks' alike.</summary>
public static class OnnxProtos
{
    /// <summary>The opset every emitted model declares: ScatterElements with reduction="add" needs 16 or later.</summary>
    public const long Opset = 17;

    /// <summary>IR version 8 is the one that goes with opset 17.</summary>
    public const long IrVersion = 8;

    public static NodeProto Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static TensorProto FloatTensor(string name, long[] dims, ReadOnlySpan<float> data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        return tensor;
    }

    public static TensorProto Int64Tensor(string name, long[] dims, ReadOnlySpan<long> data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        return tensor;
    }

    /// <summary>A float tensor of unstated shape (the taps, whose sizes follow the input's).</summary>
    public static ValueInfoProto FloatValue(string name) =>
        new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } };

    /// <summary>A loss network's image input: float [1, 3, "height", "width"], so one graph runs at any image size.</summary>
    public static ValueInfoProto ImageInput(string name)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "height" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "width" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static ValueInfoProto FloatValue(string name, long[] dims)
    {
        var shape = new TensorShapeProto();
        for (var i = 0; i < dims.Length; i++)
        {
            // A negative size marks a dimension that is only known at run time.
            shape.Dim.Add(dims[i] >= 0 ? new TensorShapeProto.Types.Dimension { DimValue = dims[i] } : new TensorShapeProto.Types.Dimension { DimParam = $"d{i}" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static float[] ReadFloats(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new GraphBuildException($"Tensor '{tensor.Name}' has data type {tensor.DataType}; only float32 (1) weights are supported.");
        }

        return tensor.HasRawData ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();
    }

    public static long[] ReadInt64s(TensorProto tensor)
    {
        if (tensor.DataType == (int)TensorProto.Types.DataType.Int32)
        {
            return tensor.HasRawData
                ? MemoryMarshal.Cast<byte, int>(tensor.RawData.Span).ToArray().Select(v => (long)v).ToArray()
                : tensor.Int32Data.Select(v => (long)v).ToArray();
        }

        return tensor.HasRawData ? MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray() : tensor.Int64Data.ToArray();
    }

    public static AttributeProto? Find(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long GetInt(NodeProto node, string name, long fallback) => Find(node, name) is { } a ? a.I : fallback;

    public static float GetFloat(NodeProto node, string name, float fallback) => Find(node, name) is { } a ? a.F : fallback;

    public static long[]? GetInts(NodeProto node, string name) => Find(node, name)?.Ints.ToArray();

    public static string GetString(NodeProto node, string name, string fallback) => Find(node, name) is { } a ? a.S.ToStringUtf8() : fallback;

    public static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = "ServerlessStyle", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>
    /// Keeps only the nodes and initializers that the given outputs depend on, and makes those the graph's outputs.
    /// Everything past the last tap would cost forward time and, worse, gradient time for nothing.
    /// </summary>
    public static void PruneTo(GraphProto graph, IReadOnlyList<string> outputs)
    {
        var needed = new HashSet<string>(outputs);
        var kept = new List<NodeProto>();
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (node.Output.Any(needed.Contains))
            {
                kept.Add(node);
                needed.UnionWith(node.Input.Where(s => s.Length > 0));
            }
        }

        var missing = outputs.Where(o => !kept.Any(n => n.Output.Contains(o))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"No node of the graph produces {string.Join(", ", missing)}.");
        }

        kept.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        graph.Output.Clear();
        foreach (var output in outputs.Distinct())
        {
            graph.Output.Add(FloatValue(output));
        }
    }
}

/// <summary>Thrown when a loss network cannot be turned into a gradient graph (unsupported op, bad tap, bad shape).</summary>
public sealed class GraphBuildException(string message) : InvalidOperationException(message);
