namespace ServerlessStyle.Core.Imaging;

/// <summary>Limits checked before an image is decoded, so that a hostile or huge upload never allocates its pixels.</summary>
public sealed record ImageLimits
{
    /// <summary>The defaults: 50 MB of encoded bytes, 50 megapixels, 16384 px on either side.</summary>
    public static ImageLimits Default { get; } = new();

    public long MaxBytes { get; init; } = 50L * 1024 * 1024;

    public long MaxPixels { get; init; } = 50_000_000;

    public int MaxSide { get; init; } = 16_384;
}
