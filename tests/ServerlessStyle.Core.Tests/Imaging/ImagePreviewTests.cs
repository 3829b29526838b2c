using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Tests.Evaluation;

namespace ServerlessStyle.Core.Tests.Imaging;

/// <summary>A result's preview made from the image in memory is the one its PNG gives, without decoding the PNG again.</summary>
public sealed class ImagePreviewTests
{
    [Fact]
    public void ToPngWithPreview_LargerThanTheBound_SamePngAndSamePreviewAsFromThePng()
    {
        // One side over the bound and not a multiple of it, so the other side of the preview is rounded.
        var tensor = GradientChecks.PatternImage(40, ImagePreview.LongSide + 77, 1);

        var encoded = ImageWriter.ToPngWithPreview(tensor);

        var png = ImageWriter.ToPng(tensor);
        Assert.Equal(png, encoded.Png.ToArray());
        Assert.NotNull(encoded.Preview);
        Assert.Equal(ImagePreview.CreatePng(png), encoded.Preview);
    }

    [Fact]
    public void ToPngWithPreview_AtTheBound_NoPreview()
    {
        var tensor = GradientChecks.PatternImage(ImagePreview.LongSide, 3, 1);

        var encoded = ImageWriter.ToPngWithPreview(tensor);

        Assert.Equal(ImageWriter.ToPng(tensor), encoded.Png.ToArray());
        Assert.Null(encoded.Preview);
    }
}
