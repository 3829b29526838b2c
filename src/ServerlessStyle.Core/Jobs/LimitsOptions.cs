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

    /// <summary>Allows the seeded random VGG19-shaped network that tests use; off in deployments.</summary>
    public bool AllowTestNetworks { get; set; }
}
