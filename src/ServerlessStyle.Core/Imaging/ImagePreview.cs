using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ServerlessStyle.Core.Imaging;

/// <summary>
/// Downscaled copies of large result images for the job page and the contact sheet: a poster's PNG (8192 px, 100-200 MB)
/// is for download, never for a browser tab or a thumbnail. Images at or under <see cref="LongSide"/> get none.
/// </summary>
public static class ImagePreview
{
    /// <summary>The longest side of a preview; an image with a longer side gets one.</summary>
    public const int LongSide = 1024;

    /// <summary>Whether an image of this size gets a preview.</summary>
    public static bool IsNeeded(int width, int height) => Math.Max(width, height) > LongSide;

    /// <summary>The preview's size: the image scaled so that its longer side is <see cref="LongSide"/>, at least 1 px.</summary>
    public static (int Width, int Height) Size(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (!IsNeeded(width, height))
        {
            return (width, height);
        }

        var scale = (double)LongSide / Math.Max(width, height);
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    /// <summary>
    /// The preview of a PNG the project wrote (a result image, RGB) as PNG, or null when the image is within the bound.
    /// Only the header is read for an image that needs none.
    /// </summary>
    public static byte[]? CreatePng(ReadOnlyMemory<byte> png)
    {
        // A view of the bytes, not a copy: a poster's PNG is 100-200 MB.
        using var stream = MemoryMarshal.TryGetArray(png, out var bytes)
            ? new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false)
            : new MemoryStream(png.ToArray(), writable: false);
        var info = Image.Identify(stream) ?? throw new InvalidImageException(InvalidImageReason.NotAnImage, "A result image to preview is not an image.");
        if (!IsNeeded(info.Width, info.Height))
        {
            return null;
        }

        stream.Position = 0;
        using var image = Image.Load<Rgb24>(stream);
        return CreatePng(image);
    }

    /// <summary>
    /// The preview of an image already in memory as PNG, or null when the image is within the bound: what
    /// <see cref="CreatePng(ReadOnlyMemory{byte})"/> makes from that image's PNG, without decoding it again. Resizes
    /// <paramref name="image"/> in place.
    /// </summary>
    public static byte[]? CreatePng(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!IsNeeded(image.Width, image.Height))
        {
            return null;
        }

        var (width, height) = Size(image.Width, image.Height);
        image.Mutate(x => x.Resize(width, height, ImageLoader.Resampler));
        using var preview = new MemoryStream();
        image.SaveAsPng(preview);
        return preview.ToArray();
    }
}
