using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// VGG-style loss networks with seeded random weights: the Keras VGG19 conv stack for tests and benchmarks where the
/// ImageNet weights cannot be downloaded, and tiny variants for fast tests.
/// </summary>
public static class RandomVgg19
{
    /// <summary>Marks a 2x2 stride-2 max-pool in a stack description.</summary>
    public const int Pool = 0;

    /// <summary>The Keras VGG19 conv stack, truncated after block5_conv2 (the last layer the loss taps).</summary>
    public static readonly IReadOnlyList<int> Vgg19Stack =
        [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512];

    /// <summary>
    /// The VGG19-shaped network: style on block1_conv1..block5_conv1 (each 1/5, the Keras example's
    /// style_weight / len(feature_layers)), content on block5_conv2, caffe input (identity on the optimisation space).
    /// </summary>
    public static LossNetwork Create(int seed = 19) => CreateVggStyle("random_vgg19", Vgg19Stack, seed);

    /// <summary>
    /// A VGG-style network from a stack description: a positive entry is a 3x3 pad-1 conv with that many output
    /// channels followed by ReLU, <see cref="Pool"/> a 2x2 stride-2 max-pool that ends a block. Tensors are named like
    /// Keras (blockB_convK is the post-ReLU tap, blockB_pool the pool). Style layers are each block's first conv
    /// (weights 1/blocks), content the last conv unless named.
    /// </summary>
    public static LossNetwork CreateVggStyle(string name, IReadOnlyList<int> stack, int seed, string? contentLayer = null, InputNormalization? input = null)
    {
        var graph = new GraphProto { Name = name };
        graph.Input.Add(FloatValue("input", [1, 3, -1, -1]));
        var random = new Random(seed);
        var current = "input";
        long channels = 3;
        int block = 1, conv = 0;
        var firstConvs = new List<string>();
        string? lastConv = null;
        foreach (var entry in stack)
        {
            if (entry == Pool)
            {
                var pool = $"block{block}_pool";
                graph.Node.Add(Node("MaxPool", [current], [pool], pool, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
                current = pool;
                block++;
                conv = 0;
                continue;
            }

            if (entry < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(stack), $"Stack entry {entry} is neither a channel count nor Pool (0).");
            }

            conv++;
            var layer = $"block{block}_conv{conv}";
            var weights = new float[entry * channels * 9];

            // He initialisation (std sqrt(2 / fan_in)) keeps the second moment of ReLU activations constant from layer to
            // layer, so activations keep the input's scale (caffe-space pixels, tens) through all 16 convs instead of
            // vanishing or overflowing float32 in the Gram sums.
            var std = Math.Sqrt(2.0 / (channels * 9));
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(std * Gaussian(random));
            }

            var bias = new float[entry];
            for (var i = 0; i < bias.Length; i++)
            {
                bias[i] = (float)(0.1 * Gaussian(random));
            }

            graph.Initializer.Add(FloatTensor($"{layer}/kernel", [entry, channels, 3, 3], weights));
            graph.Initializer.Add(FloatTensor($"{layer}/bias", [entry], bias));
            graph.Node.Add(Node("Conv", [current, $"{layer}/kernel", $"{layer}/bias"], [$"{layer}/BiasAdd"], $"{layer}/conv", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)));
            graph.Node.Add(Node("Relu", [$"{layer}/BiasAdd"], [layer], layer));
            if (conv == 1)
            {
                firstConvs.Add(layer);
            }

            lastConv = layer;
            current = layer;
            channels = entry;
        }

        if (lastConv is null)
        {
            throw new ArgumentException("A VGG-style stack needs at least one conv.", nameof(stack));
        }

        graph.Output.Add(FloatValue(current, [1, channels, -1, -1]));
        return new LossNetwork
        {
            Name = name,
            Graph = graph,
            InputName = "input",
            Input = input ?? InputNormalization.Caffe(CaffeSpace.Mean),
            StyleLayers = firstConvs.Select(l => new StyleLayer(l, 1.0 / firstConvs.Count)).ToList(),
            ContentLayer = contentLayer ?? lastConv,
            DefaultWeights = new LossWeights(0.025, 1.0, 1.0),
        };
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller: two uniforms in (0, 1] to one standard normal.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
