using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Jobs;

/// <summary>The largest job a deployment accepts; every request is checked against these before anything runs.</summary>
public sealed class LimitsOptions
{
    public const string SectionName = "ServerlessStyle:Limits";

    /// <summary>Below this the five pooling stages of VGG19 leave less than one pixel at block5.</summary>
    public int MinHeight { get; set; } = 32;

    public int MaxHeight { get; set; } = 1024;

    public int MaxIterations { get; set; } = 1000;

    public int MaxEvaluationsPerIteration { get; set; } = 100;

    public int MaxContents { get; set; } = 8;

    public int MaxStyles { get; set; } = 8;

    /// <summary>Contents times styles in "each" mode: each pair is one sub-orchestration.</summary>
    public int MaxPairs { get; set; } = 16;

    public int MaxOptimizerHistory { get; set; } = 100;

    /// <summary>The largest input image accepted, in bytes (uploads and blobs alike).</summary>
    public long MaxInputBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>The largest decoded input image accepted, in pixels (guards against decompression bombs).</summary>
    public long MaxInputPixels { get; set; } = 40_000_000;

    /// <summary>
    /// The widest output (or tallest) relative to its other side. Only the height is asked for, so without this a
    /// 4000x4 photo at height 48 became a 48x48000 job.
    /// </summary>
    public double MaxAspectRatio { get; set; } = 6;

    /// <summary>The most pixels of an output image or of a style image at its style scale (2048 x 2048).</summary>
    public long MaxOutputPixels { get; set; } = 2048L * 2048;

    /// <summary>
    /// The tallest output of a tiled request (tile above 0), instead of <see cref="MaxHeight"/>: its large stages run as
    /// tiles, each within one worker's memory.
    /// </summary>
    public int MaxTiledHeight { get; set; } = 8192;

    /// <summary>
    /// The most pixels of a tiled output image or of its style images at their style scale (8192 x 8192), instead of
    /// <see cref="MaxOutputPixels"/>: the worker that blends an iteration's tiles holds that image whole (about 50 bytes a
    /// pixel: the blend's sums and weights, the raw copy it stores and the PNG it writes).
    /// </summary>
    public long MaxTiledOutputPixels { get; set; } = 8192L * 8192;

    /// <summary>The largest tile side: a tile is optimised whole, so at most an untiled output's pixels (2048 for 2048 x 2048).</summary>
    public int MaxTile => (int)Math.Sqrt(MaxOutputPixels);

    /// <summary>
    /// The work a job may ask for in all: output pixels x evaluations, summed over its pairs and stages. The default,
    /// 2e11, is for example 10 results of 1000 iterations of 20 evaluations at about one megapixel.
    /// </summary>
    public double MaxJobPixelEvaluations { get; set; } = 2e11;

    /// <summary>
    /// The memory a worker may use for one evaluation; a job whose estimated peak (Evaluation.MemoryEstimate) is larger
    /// is refused at validation instead of killing the worker. 0 means this process's available memory (the machine's,
    /// or the container's limit).
    /// </summary>
    public long MaxWorkerMemoryBytes { get; set; }

    /// <summary>Allows the seeded random VGG19-shaped network that tests use; off in deployments.</summary>
    public bool AllowTestNetworks { get; set; }

    /// <summary>
    /// Allows a request to name a .onnx or .h5 file on the worker's machine (the runner and workers on one's own
    /// machines); off in deployments, whose requests come from users who must not open the workers' files.
    /// </summary>
    public bool AllowNetworkFiles { get; set; }

    /// <summary>The decoder's limits for input images.</summary>
    public ImageLimits InputImageLimits => new() { MaxBytes = MaxInputBytes, MaxPixels = MaxInputPixels };

    /// <summary>The worker memory the estimates are checked against: <see cref="MaxWorkerMemoryBytes"/>, or what this process may use.</summary>
    public long WorkerMemoryBytes => MaxWorkerMemoryBytes > 0 ? MaxWorkerMemoryBytes : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
