using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// Helpers for whole loss network graphs (their image input, outputs, model wrapper, pruning). Nodes, attributes and
/// tensors are made and read with <see cref="Graph.OnnxProtos"/>.
/// </summary>
public static class OnnxGraphs
{
    public const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>The graph's input: float [1, 3, "height", "width"], so one graph runs at any image size.</summary>
    public static ValueInfoProto InputValueInfo(string name)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "height" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "width" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }

    /// <summary>A float tensor of unstated shape (the taps, whose sizes follow the input's).</summary>
    public static ValueInfoProto FloatValueInfo(string name) =>
        new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType } } };

    /// <summary>Wraps a forward graph in a model at the opset the gradient builder emits (17), e.g. to run it as a plain forward model.</summary>
    public static ModelProto ToModel(GraphProto graph, long opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "ServerlessStyle", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
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
            graph.Output.Add(FloatValueInfo(output));
        }
    }
}
