namespace ServerlessStyle.Core.Imaging;

/// <summary>
/// Keeps the content's colours in a stylised image, like neural-style's <c>-original_colors</c>: the stylised
/// luminance with the content's chroma. The colour space is full-range YCbCr (BT.601 weights, the JPEG one): it is
/// linear and exactly invertible, so chroma and luminance survive the round trip up to rounding, and Y is the
/// luminance the eye reads as the painting's strokes. Lab would separate perceptual lightness better but is
/// non-linear; neural-style uses YUV for the same reason.
/// </summary>
public static class ColorPreservation
{
    /// <summary>
    /// The image whose Y is <paramref name="stylised"/>'s and whose Cb, Cr are <paramref name="content"/>'s, both taken
    /// after clipping to 0..255 (what the saved images show). Both in the optimisation space and of the same size.
    /// Pixels that leave 0..255 on the way back are clipped when written, as neural-style does.
    /// </summary>
    public static ImageTensor Apply(ImageTensor stylised, ImageTensor content)
    {
        ArgumentNullException.ThrowIfNull(stylised);
        ArgumentNullException.ThrowIfNull(content);
        if (stylised.Height != content.Height || stylised.Width != content.Width)
        {
            throw new ArgumentException(
                $"The content is {content.Height}x{content.Width}; it must match the stylised image's {stylised.Height}x{stylised.Width}.", nameof(content));
        }

        int plane = stylised.Height * stylised.Width;
        float meanB = CaffeSpace.Mean[0], meanG = CaffeSpace.Mean[1], meanR = CaffeSpace.Mean[2];
        var s = stylised.Data;
        var c = content.Data;
        var result = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            var y = Luma(Clip(s[2 * plane + i] + meanR), Clip(s[plane + i] + meanG), Clip(s[i] + meanB));
            double r = Clip(c[2 * plane + i] + meanR), g = Clip(c[plane + i] + meanG), b = Clip(c[i] + meanB);
            var cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
            var cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
            result[2 * plane + i] = (float)(y + 1.402 * cr - meanR);
            result[plane + i] = (float)(y - 0.344136 * cb - 0.714136 * cr - meanG);
            result[i] = (float)(y + 1.772 * cb - meanB);
        }

        return new ImageTensor(stylised.Height, stylised.Width, result);
    }

    /// <summary>BT.601 luma of 0..255 RGB.</summary>
    public static double Luma(double r, double g, double b) => 0.299 * r + 0.587 * g + 0.114 * b;

    // NaN (a diverged optimiser) becomes 0, as ImageWriter writes it.
    private static double Clip(float value) => float.IsNaN(value) ? 0 : Math.Clamp(value, 0f, 255f);
}
