using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Imaging;

/// <summary>A result image's PNG and its preview's (null when the image needs none).</summary>
public sealed record EncodedImage(BinaryData Png, byte[]? Preview);

/// <summary>Turns an <see cref="ImageTensor"/> back into pixels: adds the caffe mean, BGR to RGB, clips to 0..255 and rounds.</summary>
public static class ImageWriter
{
    public static Image<Rgb24> ToImage(ImageTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int h = tensor.Height, w = tensor.Width, plane = h * w;
        if (tensor.Data.Length != 3 * plane)
        {
            throw new ArgumentException($"The tensor holds {tensor.Data.Length} values; [1,3,{h},{w}] needs {3 * plane}.", nameof(tensor));
        }

        var data = tensor.Data;
        float meanB = CaffeSpace.Mean[0], meanG = CaffeSpace.Mean[1], meanR = CaffeSpace.Mean[2];
        var image = new Image<Rgb24>(w, h);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var i = y * w + x;
                    row[x] = new Rgb24(ToByte(data[2 * plane + i] + meanR), ToByte(data[plane + i] + meanG), ToByte(data[i] + meanB));
                }
            }
        });
        return image;
    }

    /// <summary>
    /// A result image as PNG with its preview (<see cref="ImagePreview"/>) made from the same pixels, so that a poster's
    /// PNG is not decoded again to make it.
    /// </summary>
    public static EncodedImage ToPngWithPreview(ImageTensor tensor)
    {
        using var image = ToImage(tensor);
        var png = new MemoryStream();
        image.SaveAsPng(png);
        return new EncodedImage(BinaryData.FromBytes(png.GetBuffer().AsMemory(0, (int)png.Length)), ImagePreview.CreatePng(image));
    }

    public static byte[] ToPng(ImageTensor tensor)
    {
        using var stream = new MemoryStream();
        using (var image = ToImage(tensor))
        {
            image.SaveAsPng(stream);
        }

        return stream.ToArray();
    }

    // NaN (a diverged optimiser) maps to 0 rather than throwing, so a broken run still leaves an image to look at.
    private static byte ToByte(float value) =>
        float.IsNaN(value) ? (byte)0 : (byte)Math.Clamp(MathF.Round(value, MidpointRounding.AwayFromZero), 0f, 255f);
}
