using System.Text.Json;
using ServerlessStyle.Bench.Poster;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Tests;
using ServerlessStyle.Tests.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Bench.Tests;

/// <summary>The measurement tools of issue 24 (Posters): the tile grid, the seam measure and the untiled loss of a result.</summary>
public sealed class PosterMeasureTests
{
    [Theory]
    [InlineData(768, 256, 32, new[] { 0, 170, 341, 512 })]
    [InlineData(512, 256, 32, new[] { 0, 128, 256 })]
    [InlineData(480, 256, 32, new[] { 0, 224 })]
    [InlineData(256, 256, 32, new[] { 0 })]
    [InlineData(200, 256, 32, new[] { 0 })]
    public void Starts_KnownSizes_SpreadTheFewestTilesEvenly(int length, int tile, int overlap, int[] expected) =>
        Assert.Equal(expected, TileGrid.Starts(length, tile, overlap));

    [Fact]
    public void Starts_ManySizes_CoverTheAxisWithTheFewestTilesOverlappingByAtLeastTheOverlap()
    {
        foreach (var (length, tile, overlap) in from l in new[] { 1, 7, 255, 256, 257, 500, 768, 2048, 8191 }
                                                from t in new[] { 64, 256, 512 }
                                                from o in new[] { 0, 16, 31 }
                                                select (l, t, o))
        {
            var starts = TileGrid.Starts(length, tile, overlap);
            var size = Math.Min(tile, length);
            var context = $"length {length}, tile {tile}, overlap {overlap}: [{string.Join(", ", starts)}]";
            Assert.True(starts[0] == 0 && starts[^1] + size == length, context);
            Assert.True(starts.Zip(starts.Skip(1)).All(p => p.First + size - p.Second >= overlap && p.Second > p.First), context);

            // One tile fewer, however placed, could not cover the axis with those overlaps.
            Assert.True(starts.Count == 1 || (starts.Count - 1) * (tile - overlap) + overlap < length, context);
        }
    }

    [Fact]
    public void SeamCommand_OverlapOfHalfTheTile_RefusedNamingTheOption()
    {
        // The run's grid needs an overlap under half the tile; the command says so instead of failing inside the grid.
        var (exitCode, _, error) = AppRunner.Run(Program.CreateApp, "seam", "any.png", "--tile", "128", "--tile-overlap", "64");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--tile-overlap 64", error);
        Assert.DoesNotContain("Exception", error);
    }

    [Fact]
    public void Starts_OverlapNotBelowHalfTheTile_FailsNamingTheValues()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => TileGrid.Starts(768, 256, 128));
        Assert.Contains("overlap of 128 px", error.Message);
    }

    [Fact]
    public void Measure_NoiseWithoutSeams_RatioNearOne_StepsAtTileEdges_RatioWellAboveOne()
    {
        const int width = 300, height = 200, tile = 128, overlap = 16;
        var columns = TileGrid.Edges(width, tile, overlap);
        var rows = TileGrid.Edges(height, tile, overlap);
        using var smooth = Noise(width, height, _ => 0);
        using var seamed = Noise(width, height, x => 30 * columns.Count(b => x >= b));

        var clean = SeamMeasure.Measure(smooth, columns, rows);
        var stepped = SeamMeasure.Measure(seamed, columns, rows);
        var centres = SeamMeasure.Measure(seamed, TileGrid.OverlapCentres(width, tile, overlap), TileGrid.OverlapCentres(height, tile, overlap));

        // Uniform noise of +-20: a neighbour step averages about 13 with a standard deviation of about 9, so the mean
        // over the ~1400 border pairs has a standard error of ~2 %; 10 % is several of those.
        Assert.InRange(clean.Ratio, 0.9, 1.1);
        Assert.InRange(centres.Ratio, 0.9, 1.1);

        // Beside the lines there are twice as many pairs: the same standard error or less.
        Assert.InRange(clean.LocalRatio, 0.9, 1.1);
        Assert.InRange(centres.LocalRatio, 0.9, 1.1);

        // A step of 30 on top of that noise at every vertical edge: about 31 there, 13 across the horizontal edges
        // (800 and 600 pairs), so about 1.7 in all.
        Assert.True(stepped.Ratio > 1.5, $"ratio {stepped.Ratio} across {stepped.Across} elsewhere {stepped.Elsewhere}");
        Assert.True(stepped.LocalRatio > 1.5, $"local ratio {stepped.LocalRatio} across {stepped.Across} beside {stepped.Beside}");
    }

    [Fact]
    public void Seam_Command_PrintsTheGridAndBothRatiosAsJson()
    {
        var path = Path.Combine(Path.GetTempPath(), $"seam-{Guid.NewGuid():N}.png");
        using (var image = Noise(300, 200, _ => 0))
        {
            image.SaveAsPng(path);
        }

        try
        {
            var json = AppRunner.RunJson(Program.CreateApp, "seam", path, "--tile", "128", "--tile-overlap", "16");

            Assert.Equal([0, 86, 172], json.GetProperty("tilesAcross").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal([0, 72], json.GetProperty("tilesDown").EnumerateArray().Select(e => e.GetInt32()));
            Assert.InRange(json.GetProperty("edgeRatio").GetDouble(), 0.9, 1.1);
            Assert.InRange(json.GetProperty("centreRatio").GetDouble(), 0.9, 1.1);
            Assert.InRange(json.GetProperty("edgeLocalRatio").GetDouble(), 0.9, 1.1);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loss_TheContentAndTheStyleThemselves_ScoreZeroOnTheirOwnTerm()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"loss-{Guid.NewGuid():N}")).FullName;
        try
        {
            var contentFile = TestPaths.Sample("content/chelsea.png");
            var styleFile = TestPaths.Sample("styles/starry_night.jpg");
            var content = ImageLoader.LoadToHeight(File.ReadAllBytes(contentFile), 32);
            var style = ImageLoader.LoadExact(File.ReadAllBytes(styleFile), content.Height, content.Width);
            var (photo, painting) = (Path.Combine(folder, "photo.png"), Path.Combine(folder, "painting.png"));
            File.WriteAllBytes(photo, ImageWriter.ToPng(content));
            File.WriteAllBytes(painting, ImageWriter.ToPng(style));

            var (code, output, error) = AppRunner.Run(
                Program.CreateApp, "loss", $"{photo},{painting}", "--content", contentFile, "--style", styleFile, "--height", "32");

            Assert.True(code == 0, error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(2, lines.Count);
            var (ofPhoto, ofPainting) = (lines[0], lines[1]);
            Assert.Equal(content.Width, ofPhoto.GetProperty("width").GetInt32());

            // The photo is the content target itself (a PNG round trip of 8-bit pixels is exact); the features come from
            // another ONNX graph than the targets', so float32 summation order leaves a residue (7e-7 measured, with a
            // total of 2.3e8): zero within 1e-6 of the painting's term.
            Assert.True(ofPhoto.GetProperty("content").GetDouble() < 1e-6 * ofPainting.GetProperty("content").GetDouble(),
                $"content term of the photo {ofPhoto.GetProperty("content")}, of the painting {ofPainting.GetProperty("content")}");

            // The painting at the output size is the style target: the same residue, far below 1e-4 of the photo's term.
            Assert.True(ofPainting.GetProperty("style").GetDouble() < 1e-4 * ofPhoto.GetProperty("style").GetDouble(),
                $"style term of the painting {ofPainting.GetProperty("style")}, of the photo {ofPhoto.GetProperty("style")}");
            var sum = ofPhoto.GetProperty("content").GetDouble() + ofPhoto.GetProperty("style").GetDouble() + ofPhoto.GetProperty("tv").GetDouble();
            // The graph adds the terms in float32: within 1e-6 relative (float32 rounding is 6e-8).
            Assert.Equal(sum, ofPhoto.GetProperty("loss").GetDouble(), sum * 1e-6);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Loss_ImageOfAnotherSize_FailsNamingBothSizes()
    {
        var contentFile = TestPaths.Sample("content/chelsea.png");

        var (code, _, error) = AppRunner.Run(
            Program.CreateApp, "loss", contentFile, "--content", contentFile, "--style", TestPaths.Sample("styles/starry_night.jpg"), "--height", "32");

        Assert.NotEqual(0, code);
        Assert.Contains("is 451 x 300, not the run's output size 48 x 32", error);
    }

    [Fact]
    public void Estimate_TileAndStage_FollowMemoryEstimateAsAWorkerChecksIt()
    {
        var tile = AppRunner.RunJson(Program.CreateApp, "estimate", "512x512", "--network", "resnet18");
        var stage = AppRunner.RunJson(Program.CreateApp, "estimate", "2048x2048", "--network", "random-vgg19");

        // ResNet18: 400 MB + 1.3 KB a pixel; VGG19 past the Winograd limit (768 x 768) runs direct: 800 MB + 3 KB a pixel.
        Assert.Equal(400 + 1.3 * 512 * 512 / 1024, tile.GetProperty("peakMb").GetDouble(), 0.1);
        Assert.False(stage.GetProperty("winograd").GetBoolean());
        Assert.Equal(800 + 3.0 * 2048 * 2048 / 1024, stage.GetProperty("peakMb").GetDouble(), 0.1);
        Assert.Equal(2048L * 2048, stage.GetProperty("pixels").GetInt64());
    }

    [Fact]
    public void Estimate_MalformedSize_FailsNamingIt()
    {
        var (code, _, error) = AppRunner.Run(Program.CreateApp, "estimate", "2048*2048");

        Assert.NotEqual(0, code);
        Assert.Contains("'2048*2048' is not WIDTHxHEIGHT", error);
    }

    /// <summary>Dark grey (60) plus seeded uniform noise of +-20 per channel, plus <paramref name="offset"/>(x) on every channel.</summary>
    private static Image<Rgb24> Noise(int width, int height, Func<int, int> offset)
    {
        var random = new Random(24);
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                byte Channel() => (byte)Math.Clamp(60 + offset(x) + random.Next(-20, 21), 0, 255);
                image[x, y] = new Rgb24(Channel(), Channel(), Channel());
            }
        }

        return image;
    }
}
