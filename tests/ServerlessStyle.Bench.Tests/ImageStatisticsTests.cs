using ServerlessStyle.Bench.Judge;
using ServerlessStyle.Core.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ServerlessStyle.Bench.Tests;

/// <summary>The judge's statistics on real samples: zero against themselves, and in the order a person would rank.</summary>
public sealed class ImageStatisticsTests
{
    private static Image<Rgb24> Sample(string path, int width = 192, int height = 128)
    {
        var image = Image.Load<Rgb24>(TestPaths.Sample(path));
        image.Mutate(i => i.Resize(width, height));
        return image;
    }

    [Fact]
    public void Judge_ImageAgainstItself_IsZeroDistanceAndFullSsim()
    {
        using var photo = Sample("content/chelsea.png");
        var judged = ImageStatistics.Judge(photo, photo, photo);

        // Exactly equal inputs: the same sorted projections, the same histograms, SSIM 1 up to rounding.
        Assert.Equal((0.0, 0.0), (judged.Colour, judged.Texture));
        Assert.Equal(1.0, judged.ContentSsim, 1e-12);
    }

    [Fact]
    public void ColourDistance_ShiftedPalette_GrowsWithTheShift()
    {
        using var photo = Sample("content/chelsea.png");
        using var slightly = photo.Clone(i => i.Brightness(1.1f));
        using var strongly = photo.Clone(i => i.Brightness(1.5f));
        var slight = ImageStatistics.ColourDistance(slightly, photo);
        var strong = ImageStatistics.ColourDistance(strongly, photo);
        Assert.True(slight > 0 && strong > 2 * slight, $"slight {slight}, strong {strong}");
    }

    [Fact]
    public void TextureDistance_BlurredPainting_IsFartherThanThePaintingResizedAgain()
    {
        using var painting = Sample("styles/starry_night.jpg");
        using var blurred = painting.Clone(i => i.GaussianBlur(3));
        using var resized = Sample("styles/starry_night.jpg", 190, 126);
        resized.Mutate(i => i.Resize(192, 128));

        // Blurring removes the strokes; resizing by 1% keeps them.
        Assert.True(ImageStatistics.TextureDistance(blurred, painting) > 3 * ImageStatistics.TextureDistance(resized, painting));
    }

    [Fact]
    public void ContentSsim_PaintingAgainstPhoto_IsNearZero()
    {
        using var photo = Sample("content/chelsea.png");
        using var painting = Sample("styles/starry_night.jpg");
        Assert.InRange(ImageStatistics.ContentSsim(painting, photo), -0.1, 0.1);
    }
}
