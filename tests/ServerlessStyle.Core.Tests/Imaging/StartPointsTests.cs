using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Tests.Imaging;

public sealed class StartPointsTests
{
    [Theory]
    [InlineData(32, 43, 48, 64)]
    [InlineData(48, 64, 48, 64)]
    [InlineData(64, 85, 31, 41)]
    public void Upscaled_IsBitForBitThePngRoundTrip(int height, int width, int toHeight, int toWidth)
    {
        // What a later coarse-to-fine stage started from before: the previous result written as PNG and loaded as an
        // input. Values beyond 0..255 and NaN (a diverged run) exercise the clipping.
        var random = new Random(7);
        var data = new float[3 * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = i % 997 == 0 ? float.NaN : (random.NextSingle() * 400f) - 200f;
        }

        var previous = new ImageTensor(height, width, data);

        var direct = StartPoints.Upscaled(previous, toHeight, toWidth);
        var roundTrip = ImageLoader.LoadExact(ImageWriter.ToPng(previous), toHeight, toWidth);

        Assert.Equal((toHeight, toWidth), (direct.Height, direct.Width));
        Assert.Equal(roundTrip.Data, direct.Data);
    }

    [Fact]
    public void Noise_SameSeed_SameImage_OtherSeed_Other()
    {
        Assert.Equal(StartPoints.Noise(8, 9, 42).Data, StartPoints.Noise(8, 9, 42).Data);
        Assert.NotEqual(StartPoints.Noise(8, 9, 42).Data, StartPoints.Noise(8, 9, 43).Data);
    }
}
