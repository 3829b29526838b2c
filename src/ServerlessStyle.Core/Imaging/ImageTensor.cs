namespace ServerlessStyle.Core.Imaging;

/// <summary>
/// An image in the optimiser's space: float32 NCHW [1, 3, Height, Width], channels in BGR order, pixel values
/// 0..255 minus <see cref="CaffeSpace.Mean"/> (the Keras "caffe" preprocessing the seed uses). Every loss
/// network converts from this space to its own input inside its graph, so the optimiser, the total-variation
/// term and the checkpoints always see the same space.
/// </summary>
public sealed record ImageTensor(int Height, int Width, float[] Data)
{
    public int Length => 3 * Height * Width;
}

/// <summary>The constants of the Keras "caffe" preprocessing.</summary>
public static class CaffeSpace
{
    /// <summary>Per-channel mean in BGR order, subtracted from 0..255 pixel values.</summary>
    public static readonly float[] Mean = [103.939f, 116.779f, 123.68f];
}
