using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using ServerlessStyle.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Imaging;

public sealed class ImageLoaderTests
{
    [Fact]
    public void Decode_TruncatedJpeg_ThrowsCorrupt()
    {
        var bytes = TestPaths.TruncatedJpeg();

        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(bytes));

        Assert.Equal(InvalidImageReason.Corrupt, e.Reason);
    }

    [Fact]
    public void Decode_ZeroBytes_ThrowsEmpty()
    {
        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode([]));

        Assert.Equal(InvalidImageReason.Empty, e.Reason);
    }

    [Fact]
    public void Decode_TextFile_ThrowsNotAnImage()
    {
        var bytes = Encoding.UTF8.GetBytes("This is a text file, not a photo.\n");

        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(bytes));

        Assert.Equal(InvalidImageReason.NotAnImage, e.Reason);
    }

    [Fact]
    public void Decode_MoreBytesThanLimit_ThrowsTooManyBytesNamingTheLimit()
    {
        var bytes = File.ReadAllBytes(TestPaths.Sample("content/chelsea.png"));

        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(bytes, new ImageLimits { MaxBytes = 1000 }));

        Assert.Equal(InvalidImageReason.TooManyBytes, e.Reason);
        Assert.Contains("1000", e.Message);
    }

    [Fact]
    public async Task ReadBytesAsync_StreamLongerThanLimit_ThrowsTooManyBytes()
    {
        using var stream = new MemoryStream(new byte[5000]);

        var e = await Assert.ThrowsAsync<InvalidImageException>(() => ImageLoader.ReadBytesAsync(stream, new ImageLimits { MaxBytes = 4999 }));

        Assert.Equal(InvalidImageReason.TooManyBytes, e.Reason);
    }

    [Fact]
    public void Decode_PngHeaderClaiming50000Square_ThrowsTooManyPixelsWithoutAllocatingPixels()
    {
        var bytes = PngHeaderOnly(50_000, 50_000);
        var limits = new ImageLimits { MaxSide = 100_000 };

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(bytes, limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(InvalidImageReason.TooManyPixels, e.Reason);
        Assert.Contains("50000x50000", e.Message);
        // The pixels would take 50000^2 * 4 bytes = 10 GB; 64 MB is generous for header parsing and the exception,
        // and over 100x below even one row block of the image, so a decode that had started would fail this.
        Assert.True(allocated < 64L * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Decode_PngHeaderWithSideOverLimit_ThrowsSideTooLong()
    {
        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(PngHeaderOnly(50_000, 10)));

        Assert.Equal(InvalidImageReason.SideTooLong, e.Reason);
    }

    [Fact]
    public void Decode_WellFormedPngOverThePixelLimit_ThrowsTooManyPixels()
    {
        // A complete, decodable 4000x3000 PNG (12 Mpx) under the side limit: only the pixel count can refuse it.
        var bytes = HostileImages.BlackPng(4000, 3000);
        var limits = new ImageLimits { MaxPixels = 10_000_000 };

        var e = Assert.Throws<InvalidImageException>(() => ImageLoader.Decode(bytes, limits));

        Assert.Equal(InvalidImageReason.TooManyPixels, e.Reason);
        Assert.Contains("4000x3000", e.Message);
        using var decoded = ImageLoader.Decode(bytes, new ImageLimits { MaxPixels = 12_000_000 });
        Assert.Equal((4000, 3000), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Decode_AnimatedGifOfManyFrames_DecodesTheFirstFrameOnly()
    {
        // 50 frames on a 1000x1000 canvas: decoding them all would hold 50 canvases (200 MB), the bomb's shape.
        var gif = HostileImages.ManyFrameGif(1000, 1000, 50);

        using var image = ImageLoader.Decode(gif);

        Assert.Single(image.Frames);
        Assert.Equal((1000, 1000), (image.Width, image.Height));
    }

    [Fact]
    public void Decode_GifBombOf100FramesOf6000Square_EndsWithOneFrame()
    {
        // The finding itself: 2.3 KB, 6000x6000 x 100 frames, which grew past 13.8 GB before. 36 Mpx is under the
        // default 50 Mpx limit, so it decodes, to one frame (144 MB while decoding).
        var gif = HostileImages.ManyFrameGif(6000, 6000, 100);
        Assert.True(gif.Length < 4096, $"{gif.Length} bytes");

        using var image = ImageLoader.Decode(gif);

        Assert.Single(image.Frames);
    }

    [Fact]
    public void Decode_CorruptedFilesOfEveryFormat_FailOnlyAsInvalidImage()
    {
        // Seeded corruptions of small real files: whatever the decoder throws must come out as bad input (which is not
        // retried), never as another exception type (which the workflow would retry three times as a transient fault).
        var random = new Random(17);
        var others = new List<string>();
        foreach (var original in SmallFilesOfEveryFormat())
        {
            for (var n = 0; n < 150; n++)
            {
                var bytes = (byte[])original.Clone();
                if (n % 5 == 0)
                {
                    bytes = bytes[..random.Next(1, bytes.Length)];
                }

                for (var k = random.Next(1, 6); k > 0; k--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                try
                {
                    using var image = ImageLoader.Decode(bytes, new ImageLimits { MaxPixels = 4_000_000 });
                }
                catch (InvalidImageException)
                {
                }
                catch (Exception e)
                {
                    others.Add($"{e.GetType().Name}: {e.Message}");
                }
            }
        }

        Assert.Empty(others);
    }

    private static IEnumerable<byte[]> SmallFilesOfEveryFormat()
    {
        using var image = new Image<Rgba32>(24, 16);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                image[x, y] = new Rgba32((byte)(x * 10), (byte)(y * 15), (byte)((x + y) * 5), 255);
            }
        }

        foreach (var encoder in new SixLabors.ImageSharp.Formats.IImageEncoder[]
                 {
                     new SixLabors.ImageSharp.Formats.Png.PngEncoder(), new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder(),
                     new SixLabors.ImageSharp.Formats.Gif.GifEncoder(), new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder(),
                     new SixLabors.ImageSharp.Formats.Tga.TgaEncoder(), new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder(),
                     new SixLabors.ImageSharp.Formats.Webp.WebpEncoder(),
                 })
        {
            using var stream = new MemoryStream();
            image.Save(stream, encoder);
            yield return stream.ToArray();
        }
    }

    [Fact]
    public void ReadSize_WellFormedPng_GivesItsSizeWithoutDecoding()
    {
        Assert.Equal((4000, 3000), ImageLoader.ReadSize(HostileImages.BlackPng(4000, 3000)));
    }

    [Fact]
    public void Decode_ExifOrientation6_RotatesClockwise()
    {
        // 40 wide x 20 high: left half red, right half blue. Orientation 6 means "rotate 90 degrees clockwise to
        // display", so the upright image is 20 wide x 40 high with red on top.
        using var source = new Image<Rgb24>(40, 20);
        source.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < 20; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < 40; x++)
                {
                    row[x] = x < 20 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
                }
            }
        });
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var encoded = new MemoryStream();
        source.SaveAsJpeg(encoded);

        using var upright = ImageLoader.Decode(encoded.ToArray());

        Assert.Equal(20, upright.Width);
        Assert.Equal(40, upright.Height);
        // JPEG is lossy: 60 levels of slack still separates red (255,0,0) from blue (0,0,255) unambiguously.
        AssertNear(new Rgb24(255, 0, 0), upright[10, 5], 60);
        AssertNear(new Rgb24(0, 0, 255), upright[10, 35], 60);
    }

    [Fact]
    public void Decode_GreyPng_LoadsAsRgbWithEqualChannels()
    {
        using var grey = new Image<L8>(3, 2);
        grey[0, 0] = new L8(17);
        grey[2, 1] = new L8(200);
        var bytes = Encode(grey);

        using var rgb = ImageLoader.Decode(bytes);

        Assert.Equal(new Rgb24(17, 17, 17), rgb[0, 0]);
        Assert.Equal(new Rgb24(200, 200, 200), rgb[2, 1]);
    }

    [Fact]
    public void Decode_PalettePng_LoadsAsRgb()
    {
        using var image = new Image<Rgb24>(2, 2);
        image[0, 0] = new Rgb24(10, 20, 30);
        image[1, 0] = new Rgb24(200, 100, 50);
        image[0, 1] = new Rgb24(10, 20, 30);
        image[1, 1] = new Rgb24(0, 255, 0);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, new SixLabors.ImageSharp.Formats.Png.PngEncoder { ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Palette });
        var bytes = stream.ToArray();
        Assert.Equal(SixLabors.ImageSharp.Formats.Png.PngColorType.Palette, Image.Identify(bytes).Metadata.GetPngMetadata().ColorType);

        using var rgb = ImageLoader.Decode(bytes);

        Assert.Equal(new Rgb24(10, 20, 30), rgb[0, 0]);
        Assert.Equal(new Rgb24(200, 100, 50), rgb[1, 0]);
        Assert.Equal(new Rgb24(0, 255, 0), rgb[1, 1]);
    }

    [Fact]
    public void Decode_TransparentPixels_FlattenedOntoWhite()
    {
        using var image = new Image<Rgba32>(2, 1);
        image[0, 0] = new Rgba32(0, 0, 0, 0);
        image[1, 0] = new Rgba32(0, 0, 0, 128);
        var bytes = Encode(image);

        using var rgb = ImageLoader.Decode(bytes);

        Assert.Equal(new Rgb24(255, 255, 255), rgb[0, 0]);
        // Half-transparent black over white: 255 * (1 - 128/255) = 127; 1 level of slack for the blender's rounding.
        AssertNear(new Rgb24(127, 127, 127), rgb[1, 0], 1);
    }

    [Fact]
    public void ToTensor_ThenToImage_RealPhotoRoundTripsExactly()
    {
        using var photo = ImageLoader.Decode(File.ReadAllBytes(TestPaths.Sample("content/chelsea.png")));

        var tensor = ImageLoader.ToTensor(photo);
        using var back = ImageWriter.ToImage(tensor);

        // Exact: subtracting and re-adding a mean of ~100 in float32 errs by ~1e-5, far below the 0.5 that rounding absorbs.
        Assert.Equal(photo.Width, back.Width);
        Assert.Equal(photo.Height, back.Height);
        for (var y = 0; y < photo.Height; y += 7)
        {
            for (var x = 0; x < photo.Width; x += 5)
            {
                Assert.Equal(photo[x, y], back[x, y]);
            }
        }
    }

    [Fact]
    public void ToTensor_OnePixel_IsBgrMinusCaffeMean()
    {
        using var image = new Image<Rgb24>(1, 1);
        image[0, 0] = new Rgb24(200, 100, 50);

        var tensor = ImageLoader.ToTensor(image);

        // [B, G, R] - [103.939, 116.779, 123.68], written out by hand.
        Assert.Equal([50 - 103.939f, 100 - 116.779f, 200 - 123.68f], tensor.Data);
    }

    [Fact]
    public void ToImage_OutOfRangeValues_AreClipped()
    {
        var tensor = new ImageTensor(1, 1, [1000f, -1000f, 0f]);

        using var image = ImageWriter.ToImage(tensor);

        // R = 0 + 123.68 rounds to 124; G clipped to 0; B clipped to 255.
        Assert.Equal(new Rgb24(124, 0, 255), image[0, 0]);
    }

    [Fact]
    public void LoadToHeight_RealPhoto_KeepsAspectRatio()
    {
        var bytes = File.ReadAllBytes(TestPaths.Sample("content/chelsea.png"));
        var info = Image.Identify(bytes);

        var tensor = ImageLoader.LoadToHeight(bytes, 100);

        Assert.Equal(100, tensor.Height);
        // Truncated like Keras' int(width * rows / height), so within one pixel of the exact ratio.
        var exact = (double)info.Width * 100 / info.Height;
        Assert.InRange(tensor.Width, exact - 1, exact);
        Assert.Equal(3 * 100 * tensor.Width, tensor.Data.Length);
    }

    [Fact]
    public void LoadExact_RealPhoto_HasRequestedSize()
    {
        var bytes = File.ReadAllBytes(TestPaths.Sample("styles/starry_night.jpg"));

        var tensor = ImageLoader.LoadExact(bytes, 30, 70);

        Assert.Equal((30, 70), (tensor.Height, tensor.Width));
    }

    [Fact]
    public void ToPng_Tensor_DecodesToSamePixels()
    {
        var tensor = new ImageTensor(1, 2, [0f, 10f, 0f, 10f, 0f, 10f]);

        using var decoded = Image.Load<Rgb24>(ImageWriter.ToPng(tensor));

        // B=103.939, G=116.779, R=123.68 rounded: (124, 117, 104); plus 10 each: (134, 127, 114).
        Assert.Equal(new Rgb24(124, 117, 104), decoded[0, 0]);
        Assert.Equal(new Rgb24(134, 127, 114), decoded[1, 0]);
    }

    private static byte[] Encode<TPixel>(Image<TPixel> image)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>A PNG signature and a valid IHDR chunk (8-bit RGB) with no image data after it.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[17];
        Encoding.ASCII.GetBytes("IHDR").CopyTo(ihdr, 0);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 2; // colour type RGB
        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        png.AddRange(ihdr);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(ihdr));
        png.AddRange(crc);
        return [.. png];
    }

    private static void AssertNear(Rgb24 expected, Rgb24 actual, int tolerance)
    {
        Assert.True(
            Math.Abs(expected.R - actual.R) <= tolerance && Math.Abs(expected.G - actual.G) <= tolerance && Math.Abs(expected.B - actual.B) <= tolerance,
            $"expected {expected} within {tolerance}, got {actual}");
    }
}
