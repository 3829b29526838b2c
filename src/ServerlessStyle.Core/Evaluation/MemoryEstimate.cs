namespace ServerlessStyle.Core.Evaluation;

/// <summary>
/// The peak memory of a worker evaluating a loss network at an image size, estimated from measurements, so a job that
/// would not fit is refused at validation instead of killing its worker (which the Azure Storage backend would then
/// redeliver). Linear in the pixels: a fixed part (runtime, weights, sessions) and a part per pixel (activations and
/// their gradients, ONNX Runtime's arena, the optimiser's state and its checkpoint buffer).
/// </summary>
public static class MemoryEstimate
{
    /// <summary>One coefficient set: megabytes fixed, kilobytes per output pixel.</summary>
    private sealed record Model(double FixedMegabytes, double KilobytesPerPixel);

    // Measured 2026-11-27 on the CPU provider, 2 threads, peak RSS (VmHWM) of `serverless-style-bench evaluation
    // --evaluations 1` at 128, 256 and 384 px square, a line through the smallest and largest: VGG19 with Winograd
    // 1669 / 2333 / 3029 MB, direct 907 / 1261 / 1831 MB (its 1024x1024 point, 7.7 GB in docs/performance.md, is under
    // the line's 8.2 GB); ResNet18 431 / 466 / 598 MB. Each per-pixel figure adds the L-BFGS state (m = 10: 276 bytes a
    // pixel) and its serialised checkpoint (as much again), which the benchmark does not hold; rounded up.
    private static readonly Model Vgg19Winograd = new(1500, 11.5);
    private static readonly Model Vgg19Direct = new(800, 8.0);
    private static readonly Model ResNet18 = new(420, 1.9);

    /// <summary>
    /// The estimated peak in bytes for <paramref name="pixels"/> output pixels. Networks other than resnet18 are taken
    /// as VGG19-shaped (every VGG19 the project loads is; smaller test networks are overestimated, which is safe).
    /// </summary>
    public static long PeakBytes(string networkName, long pixels, bool winograd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        var model = networkName.StartsWith("resnet18", StringComparison.Ordinal) ? ResNet18 : winograd ? Vgg19Winograd : Vgg19Direct;
        return (long)((model.FixedMegabytes * 1024 * 1024) + (model.KilobytesPerPixel * 1024 * pixels));
    }
}
