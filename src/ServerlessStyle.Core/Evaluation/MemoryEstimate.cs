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
    // --evaluations 1` (MB at 128 / 256 / 384 / 512 / 768 / 1024 px square, after issue 16's memory work): random VGG19
    // with Winograd 610 / 764 / 1030 / 1322 / 2495 / -, direct 749 / 895 / 1115 / - / 1909 / 2983; ResNet18 384 / 375 /
    // 468 / - / - / 1116. Each model is the line through the smallest size and the largest its mode runs at by default
    // (Winograd up to 768x768), plus the L-BFGS state (m = 10: 276 bytes a pixel) and its serialised checkpoint (as
    // much again), which the benchmark does not hold; rounded up until it bounds every measured point
    // (MemoryCheckTests). The rewrite no longer costs memory at these sizes: one transformed weight serves a conv and
    // its input gradient, and ONNX Runtime holds the direct weights, their flipped copies and their NCHWc layouts.
    private static readonly Model Vgg19Winograd = new(600, 4.0);
    private static readonly Model Vgg19Direct = new(800, 3.0);
    private static readonly Model ResNet18 = new(400, 1.3);

    /// <summary>
    /// What a worker holds of a tiled stage of <paramref name="stagePixels"/> px besides one tile's evaluation: the
    /// activities that prepare, blend and finish the stage hold the whole image (the blend's sums and weights, then
    /// the blended image and its PNG: 29 bytes a pixel at most, measured at 2048 x 2048 with ResNet18; 32 here). They
    /// run without the evaluation's activations, so the tile's peak plus this bounds them and the tiles alike.
    /// </summary>
    public static long WholeStageBytes(long stagePixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stagePixels);
        return 32 * stagePixels;
    }

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
