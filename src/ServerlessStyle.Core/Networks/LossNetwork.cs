using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Networks;

/// <summary>Channel order a network expects at its input.</summary>
public enum ChannelOrder
{
    Bgr,
    Rgb,
}

/// <summary>
/// How a network's input is made from 0..255 pixel values: <c>input[c] = (pixel[order[c]] * Scale - Mean[c]) / Std[c]</c>,
/// with Mean and Std given in the network's own channel order.
/// </summary>
public sealed record InputNormalization(ChannelOrder Order, float Scale, float[] Mean, float[] Std)
{
    /// <summary>Keras/caffe: BGR, 0..255, minus a per-channel mean, no scaling.</summary>
    public static InputNormalization Caffe(float[] bgrMean) => new(ChannelOrder.Bgr, 1f, bgrMean, [1f, 1f, 1f]);

    /// <summary>torchvision/ONNX model zoo: RGB, 0..1, ImageNet mean and std.</summary>
    public static InputNormalization Torch { get; } =
        new(ChannelOrder.Rgb, 1f / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
}

/// <summary>A style layer: the name of a post-activation tensor in the forward graph and its weight in the style term.</summary>
public sealed record StyleLayer(string Tensor, double Weight);

/// <summary>The three weights of the Gatys loss.</summary>
public sealed record LossWeights(double Content, double Style, double TotalVariation);

/// <summary>
/// A loss network and the description that travels with it: the forward graph (input NCHW float, any height and
/// width, only Conv/Relu/MaxPool/AveragePool/BatchNormalization/Add and similar), where style and content are
/// tapped, how its input is normalised, and its own default weights.
/// </summary>
public sealed class LossNetwork
{
    public required string Name { get; init; }

    /// <summary>The forward graph with its weights as initializers; its single input is <see cref="InputName"/>.</summary>
    public required GraphProto Graph { get; init; }

    public required string InputName { get; init; }

    public required InputNormalization Input { get; init; }

    public required IReadOnlyList<StyleLayer> StyleLayers { get; init; }

    public required string ContentLayer { get; init; }

    public required LossWeights DefaultWeights { get; init; }

    /// <summary>
    /// When true each style layer's weight is divided by that layer's style loss at the start point (measured once
    /// per pair), so layers of very different magnitudes contribute alike; false keeps the Keras example's plain sum.
    /// </summary>
    public bool NormalizeStyleLayersAtStart { get; init; }

    /// <summary>
    /// When true every style and content tap passes through SWAG's softmax smoothing before the Grams and the content
    /// difference (docs/networks-and-imaging.md): residual networks' peaky, low-entropy activations otherwise give a
    /// weak style signal. False leaves the Keras example's loss exactly as it was.
    /// </summary>
    public bool ActivationSmoothing { get; init; }

    /// <summary>
    /// The activations are divided by this before the softmax. At 1 (the paper's) a softmax of activations that reach
    /// 10 or more concentrates the tensor on a few elements instead of spreading it, so it must be of the order of the
    /// network's largest activations for the transformation to smooth.
    /// </summary>
    public double SmoothingTemperature { get; init; } = 1.0;

    /// <summary>
    /// The default weights when a request turns the network's own smoothing the other way, where they were tuned
    /// apart (ResNet18's weights without smoothing); null: <see cref="DefaultWeights"/> either way.
    /// </summary>
    public LossWeights? OtherSmoothingWeights { get; init; }
}
