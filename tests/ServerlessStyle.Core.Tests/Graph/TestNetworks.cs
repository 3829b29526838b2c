using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Tests.Graph;

/// <summary>Hand-built single-purpose loss networks, each exercising one backward rule.</summary>
internal static class TestNetworks
{
    public static TensorProto RandomWeights(string name, long[] dims, int seed, double scale)
    {
        var random = new Random(seed);
        var data = new float[dims.Aggregate(1L, (p, d) => p * d)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(scale * ((2 * random.NextDouble()) - 1));
        }

        return FloatTensor(name, dims, data);
    }

    public static TensorProto Constant(string name, long[] dims, params float[] data) => FloatTensor(name, dims, data);

    /// <summary>A network from nodes whose input is "input"; style on <paramref name="styleTaps"/>, content on <paramref name="contentTap"/>.</summary>
    public static LossNetwork Build(string name, IEnumerable<NodeProto> nodes, IEnumerable<TensorProto> initializers, string contentTap, string[] styleTaps, InputNormalization? input = null)
    {
        var graph = new GraphProto { Name = name };
        graph.Input.Add(FloatValue("input", [1, 3, -1, -1]));
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        return new LossNetwork
        {
            Name = name,
            Graph = graph,
            InputName = "input",
            Input = input ?? InputNormalization.Caffe(CaffeSpace.Mean),
            StyleLayers = styleTaps.Select(t => new StyleLayer(t, 1.0 / styleTaps.Length)).ToList(),
            ContentLayer = contentTap,
            DefaultWeights = new LossWeights(0.025, 1.0, 1.0),
        };
    }
}
