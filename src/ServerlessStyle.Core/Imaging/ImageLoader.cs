using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace ServerlessStyle.Core.Imaging;

/// <summary>Turns encoded image bytes into <see cref="ImageTensor"/>s, checking <see cref="ImageLimits"/> before decoding.</summary>
public static class ImageLoader
{
    /// <summary>
    /// Bicubic rather than the nearest-neighbour resize of Keras' load_img: the seed's choice is an accident of its
    /// defaults, and nearest-neighbour aliasing becomes high-frequency texture that the style loss then copies.
    /// </summary>
    public static IResampler Resampler { get; } = KnownResamplers.Bicubic;

    /// <summary>
    /// The decoders as inputs need them: an animated GIF or a multi-page TIFF is decoded to its first frame only, since
    /// a style transfer uses one picture, and every frame of a 6000x6000 canvas would be another 144 MB (a 2.3 KB GIF of
    /// 100 such frames grew to 13.8 GB before it was killed).
    /// </summary>
    private static readonly Configuration Decoders = CreateDecoders();

    private static Configuration CreateDecoders()
    {
        var configuration = Configuration.Default.Clone();
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        return configuration;
    }

    /// <summary>Reads a stream to bytes, failing as soon as it passes <see cref="ImageLimits.MaxBytes"/>.</summary>
    public static async Task<byte[]> ReadBytesAsync(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ImageLimits.Default;
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limits.MaxBytes)
            {
                throw TooManyBytes(buffer.Length + read, limits);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Loads an image resized to <paramref name="height"/> rows, the width keeping the aspect ratio.</summary>
    public static ImageTensor LoadToHeight(byte[] encoded, int height, ImageLimits? limits = null)
    {
        using var image = Decode(encoded, limits);
        var (h, w) = SizeForHeight(image.Height, image.Width, height);
        return ToTensor(Resize(image, h, w));
    }

    /// <summary>Loads an image resized to exactly <paramref name="height"/> x <paramref name="width"/>, as Keras does with the style image.</summary>
    public static ImageTensor LoadExact(byte[] encoded, int height, int width, ImageLimits? limits = null)
    {
        using var image = Decode(encoded, limits);
        return ToTensor(Resize(image, height, width));
    }

    /// <summary>
    /// The output size for a target height: the width is truncated, not rounded, as the Keras example computes
    /// <c>int(width * img_nrows / height)</c>, so sizes match the seed's.
    /// </summary>
    public static (int Height, int Width) SizeForHeight(int sourceHeight, int sourceWidth, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceWidth);
        var width = (int)((long)sourceWidth * height / sourceHeight);
        return (height, Math.Max(1, width));
    }

    /// <summary>
    /// The image's width and height from its header, after the byte, side and pixel limits: nothing is decoded, so a
    /// hostile header costs nothing (ImageSharp 2 refuses animated WebP outright: "not yet supported"). Throws <see cref="InvalidImageException"/> naming the problem.
    /// </summary>
    public static (int Width, int Height) ReadSize(byte[] encoded, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
        {
            throw new InvalidImageException(InvalidImageReason.Empty, "The image is empty (0 bytes).");
        }

        if (encoded.Length > limits.MaxBytes)
        {
            throw TooManyBytes(encoded.Length, limits);
        }

        IImageInfo? info;
        try
        {
            using var header = new MemoryStream(encoded, writable: false);
            info = Image.Identify(Decoders, header);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new InvalidImageException(InvalidImageReason.Corrupt, $"The image header could not be read: {e.Message}", e);
        }

        if (info is null)
        {
            throw new InvalidImageException(InvalidImageReason.NotAnImage, "The data is not an image in a supported format (PNG, JPEG, GIF, BMP, TGA, WebP, TIFF).");
        }

        CheckSize(info.Width, info.Height, limits);

        return (info.Width, info.Height);
    }

    /// <summary>
    /// Decodes to upright, opaque RGB: checks the byte length, then the header's size (no pixels allocated yet), then
    /// decodes, applies the EXIF orientation and flattens any alpha channel; grey and palette images come out as RGB.
    /// </summary>
    public static Image<Rgb24> Decode(byte[] encoded, ImageLimits? limits = null)
    {
        ReadSize(encoded, limits);

        Image<Rgba32> rgba;
        try
        {
            rgba = Image.Load<Rgba32>(Decoders, encoded);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new InvalidImageException(InvalidImageReason.Corrupt, $"The image is corrupt or truncated: {e.Message}", e);
        }

        using (rgba)
        {
            // Transparent pixels are flattened onto white, not black: a transparent PNG background is meant to be
            // paper, and RGB of transparent pixels is often black or garbage that the style loss would otherwise see.
            rgba.Mutate(x => x.AutoOrient().BackgroundColor(Color.White));
            return rgba.CloneAs<Rgb24>();
        }
    }

    /// <summary>Converts an RGB image to the optimisation space: NCHW, BGR, 0..255 minus <see cref="CaffeSpace.Mean"/>.</summary>
    public static ImageTensor ToTensor(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int h = image.Height, w = image.Width, plane = h * w;
        var data = new float[3 * plane];
        float meanB = CaffeSpace.Mean[0], meanG = CaffeSpace.Mean[1], meanR = CaffeSpace.Mean[2];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var p = row[x];
                    var i = y * w + x;
                    data[i] = p.B - meanB;
                    data[plane + i] = p.G - meanG;
                    data[2 * plane + i] = p.R - meanR;
                }
            }
        });
        return new ImageTensor(h, w, data);
    }

    /// <summary>Resizes <paramref name="image"/> in place to exactly <paramref name="height"/> x <paramref name="width"/> with <see cref="Resampler"/>.</summary>
    internal static Image<Rgb24> Resize(Image<Rgb24> image, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (image.Height != height || image.Width != width)
        {
            image.Mutate(x => x.Resize(width, height, Resampler));
        }

        return image;
    }

    private static void CheckSize(int width, int height, ImageLimits limits)
    {
        if (width > limits.MaxSide || height > limits.MaxSide)
        {
            throw new InvalidImageException(
                InvalidImageReason.SideTooLong,
                $"The image is {width}x{height} px; the longest side allowed is {limits.MaxSide} px.");
        }

        if ((long)width * height > limits.MaxPixels)
        {
            throw new InvalidImageException(
                InvalidImageReason.TooManyPixels,
                $"The image is {width}x{height} = {(long)width * height} px; at most {limits.MaxPixels} px are allowed.");
        }
    }

    /// <summary>
    /// Whatever the decoder throws on bad data is bad input, not a fault to retry: its exception types differ by format
    /// and version (ImageFormatException, InvalidImageContentException, IndexOutOfRangeException from a malformed
    /// table, ...). Only cancellation and running out of memory keep their meaning.
    /// </summary>
    private static bool IsDecoderFailure(Exception e) => e is not (OperationCanceledException or OutOfMemoryException or InsufficientExecutionStackException);

    private static InvalidImageException TooManyBytes(long length, ImageLimits limits) =>
        new(InvalidImageReason.TooManyBytes, $"The image has at least {length} bytes; at most {limits.MaxBytes} bytes are allowed.");
}
