using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Networks;

/// <summary>One 3x3 convolution of a VGG stack: kernel in ONNX layout OIHW, and its bias.</summary>
public sealed record ConvWeights(string Name, float[] Kernel, float[] Bias, int OutChannels, int InChannels, int KernelHeight, int KernelWidth);

/// <summary>The VGG19 convolution stack up to block5_conv2 (what the Gatys loss taps), built from weights in any format.</summary>
public static class Vgg19
{
    public const string InputName = "input";

    /// <summary>Conv layer names in order, Keras spelling; a 2x2 max-pool follows the last conv of blocks 1 to 4.</summary>
    public static IReadOnlyList<string> ConvNames { get; } =
    [
        "block1_conv1", "block1_conv2",
        "block2_conv1", "block2_conv2",
        "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
        "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
        "block5_conv1", "block5_conv2",
    ];

    /// <summary>The Keras example's style layers, each weighted 1/5 as in its loop.</summary>
    public static IReadOnlyList<StyleLayer> StyleLayers { get; } =
        [.. new[] { "block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1" }.Select(n => new StyleLayer(n, 1.0 / 5))];

    public const string ContentLayer = "block5_conv2";

    /// <summary>The Keras example's constants: content 0.025, style 1.0, total variation 1.0.</summary>
    public static LossWeights DefaultWeights { get; } = new(0.025, 1.0, 1.0);

    /// <summary>
    /// Builds the forward graph: Conv(3x3, pad 1) + Relu per layer, MaxPool(2x2, stride 2) after each of blocks 1-4.
    /// Each Relu's output is named after its layer (post-activation, as Keras' layer outputs are), so those names are the taps.
    /// </summary>
    public static LossNetwork Build(string name, IReadOnlyList<ConvWeights> convs, InputNormalization input)
    {
        ArgumentNullException.ThrowIfNull(convs);
        if (convs.Count != ConvNames.Count)
        {
            throw new ArgumentException($"A VGG19 stack up to block5_conv2 has {ConvNames.Count} convolutions; got {convs.Count}.", nameof(convs));
        }

        var graph = new GraphProto { Name = name };
        graph.Input.Add(OnnxProtos.ImageInput(InputName));
        var current = InputName;
        var inChannels = 3;
        for (var i = 0; i < convs.Count; i++)
        {
            var conv = convs[i];
            var layer = ConvNames[i];
            if (conv.InChannels != inChannels || conv.KernelHeight != 3 || conv.KernelWidth != 3)
            {
                throw new NetworkLoadException(
                    NetworkLoadFailure.WrongArchitecture,
                    $"{layer} has a {conv.OutChannels}x{conv.InChannels}x{conv.KernelHeight}x{conv.KernelWidth} kernel; VGG19 needs 3x3 kernels taking {inChannels} channels.");
            }

            graph.Initializer.Add(FloatTensor(layer + "_W", [conv.OutChannels, conv.InChannels, 3, 3], conv.Kernel));
            graph.Initializer.Add(FloatTensor(layer + "_B", [conv.OutChannels], conv.Bias));
            graph.Node.Add(Node(
                "Conv", [current, layer + "_W", layer + "_B"], [layer + "_preact"], layer + "/conv",
                Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 1, 1)));
            graph.Node.Add(Node("Relu", [layer + "_preact"], [layer], layer + "/relu"));
            current = layer;
            inChannels = conv.OutChannels;
            if ((layer.EndsWith("_conv2", StringComparison.Ordinal) && i < 4) || layer.EndsWith("_conv4", StringComparison.Ordinal))
            {
                var pool = layer[..6] + "_pool";
                graph.Node.Add(Node(
                    "MaxPool", [current], [pool], pool, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
                current = pool;
            }
        }

        graph.Output.AddRange(StyleLayers.Select(s => s.Tensor).Append(ContentLayer).Select(OnnxProtos.FloatValue));
        return new LossNetwork
        {
            Name = name,
            Graph = graph,
            InputName = InputName,
            Input = input,
            StyleLayers = StyleLayers,
            ContentLayer = ContentLayer,
            DefaultWeights = DefaultWeights,
            NormalizeStyleLayersAtStart = false,
        };
    }

    /// <summary>The Keras network: its own caffe preprocessing is exactly the optimisation space.</summary>
    public static InputNormalization KerasInput => InputNormalization.Caffe(CaffeSpace.Mean);
}
