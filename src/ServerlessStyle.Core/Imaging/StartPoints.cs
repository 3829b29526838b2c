namespace ServerlessStyle.Core.Imaging;

/// <summary>The optimiser's first points that come from no input image: seeded noise, and a coarser stage's result.</summary>
public static class StartPoints
{
    /// <summary>Uniform noise over 0..255 per channel in the optimisation space; the same seed gives the same image.</summary>
    public static ImageTensor Noise(int height, int width, int seed)
    {
        // Random(seed) is the stable legacy generator: its sequence for a seed does not change between .NET versions.
        var random = new Random(seed);
        var plane = height * width;
        var data = new float[3 * plane];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = random.NextSingle() * 255f - CaffeSpace.Mean[i / plane];
        }

        return new ImageTensor(height, width, data);
    }

    /// <summary>
    /// A coarser stage's result as its image shows it (clipped and rounded to bytes, before any colour preservation),
    /// resized to exactly <paramref name="height"/> x <paramref name="width"/> with the resampler of every input. The
    /// same pixels as writing its PNG and loading that like an input, without the encode and decode.
    /// </summary>
    public static ImageTensor Upscaled(ImageTensor previous, int height, int width)
    {
        using var image = ImageWriter.ToImage(previous);
        return ImageLoader.ToTensor(ImageLoader.Resize(image, height, width));
    }
}
