using Google.Protobuf;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Graph;

/// <summary>Writes a loss network's forward graph as a standalone .onnx model (its taps as outputs).</summary>
public static class OnnxModels
{
    /// <summary>The forward graph as is, with every style and content tap as an output (dynamic height and width).</summary>
    public static ModelProto Forward(LossNetwork network)
    {
        var graph = network.Graph.Clone();
        graph.Output.Clear();
        foreach (var tap in network.StyleLayers.Select(s => s.Tensor).Append(network.ContentLayer).Distinct(StringComparer.Ordinal))
        {
            graph.Output.Add(new ValueInfoProto
            {
                Name = tap,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        if (graph.Input.Count == 0)
        {
            graph.Input.Add(OnnxProtos.FloatValue(network.InputName, [1, 3, -1, -1]));
        }

        return OnnxProtos.Model(graph);
    }

    public static void WriteForward(LossNetwork network, string path)
    {
        using var stream = File.Create(path);
        Forward(network).WriteTo(stream);
    }
}
