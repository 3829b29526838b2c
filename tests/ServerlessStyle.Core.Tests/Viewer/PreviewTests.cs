using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Viewer;

/// <summary>
/// Large result images (a poster) get a downscaled preview next to them, which the job page and the contact sheet use
/// instead of the image; images of at most <see cref="ImagePreview.LongSide"/> px get none, so today's jobs are unchanged.
/// </summary>
[Trait("Category", "Storage")]
public sealed class PreviewTests
{
    // Larger than the bound on one side only, and not a multiple of it, so the preview's other side is rounded.
    private const int LargeWidth = 2500, LargeHeight = 1600;

    [Fact]
    public void Size_LargeImage_FitsTheLongSideAndKeepsTheAspectRatio()
    {
        Assert.Equal((1024, 655), ImagePreview.Size(LargeWidth, LargeHeight));
        Assert.Equal((640, 1024), ImagePreview.Size(5000, 8000));
        Assert.Equal((1024, 1024), ImagePreview.Size(1024, 1024));
        Assert.False(ImagePreview.IsNeeded(1024, 700));
        Assert.True(ImagePreview.IsNeeded(1025, 10));
    }

    [Fact]
    public async Task WriteImage_LargerThanTheBound_WritesADownscaledPreviewNextToIt()
    {
        var job = await ViewerTestJob.CreateAsync();
        var name = BlobLayout.IterationImage(ViewerTestJob.JobId, "p0-wave", 11);
        var png = Gradient(LargeWidth, LargeHeight);

        var reference = await job.Jobs.Results.WriteImageAsync(name, png);

        Assert.Equal($"results/{name}", reference);
        Assert.Equal($"{ViewerTestJob.JobId}/p0-wave/res_at_iteration_11.preview.png", BlobLayout.Preview(name));
        Assert.Equal(png.ToArray(), (await job.Jobs.Results.TryReadAsync(name))!.ToArray());
        using var preview = Image.Load<Rgb24>((await job.Jobs.Results.TryReadAsync(BlobLayout.Preview(name)))!.ToArray());
        Assert.Equal((1024, 655), (preview.Width, preview.Height));

        // The gradient survives the downscale: the left edge stays dark and the right edge bright in red, within the
        // bicubic kernel's reach of a linear ramp (a few levels).
        Assert.InRange(preview[2, 300].R, 0, 6);
        Assert.InRange(preview[1021, 300].R, 249, 255);
    }

    [Fact]
    public async Task WriteImage_AtTheBound_WritesNoPreview()
    {
        var job = await ViewerTestJob.CreateAsync();
        var name = BlobLayout.FinalImage(ViewerTestJob.JobId, "p0-wave");

        await job.Jobs.Results.WriteFinalImageAsync(ViewerTestJob.JobId, "p0-wave", null, Gradient(ImagePreview.LongSide, 700));

        var names = await job.Jobs.Results.ListAsync(ViewerTestJob.JobId);
        Assert.Contains(name, names);
        Assert.DoesNotContain(names, n => n.EndsWith(BlobLayout.PreviewSuffix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Load_JobWithA2500PxResult_ShowsThePreviewAndLinksTheFullImage()
    {
        var job = await ViewerTestJob.CreateAsync();
        var png = Gradient(LargeWidth, LargeHeight);
        await job.Jobs.Results.WriteImageAsync(BlobLayout.IterationImage(ViewerTestJob.JobId, "p0-wave", 11), png);
        await job.Jobs.Results.WriteFinalImageAsync(ViewerTestJob.JobId, "p0-wave", null, png);

        var view = await JobView.LoadAsync(job.Jobs, ViewerTestJob.JobId);

        var pair = view!.Pairs[0];
        Assert.Equal([0, 1, 2, 10, 11], pair.Iterations.Select(i => i.I));
        Assert.Equal("files/p0-wave/res_at_iteration_11.png", pair.Iterations[^1].Url);
        Assert.Equal("files/p0-wave/res_at_iteration_11.preview.png", pair.Iterations[^1].Preview);
        Assert.Equal("files/p0-wave/final.png", pair.Final);
        Assert.Equal("files/p0-wave/final.preview.png", pair.FinalPreview);

        // The small images of the same job have none, and their JSON has no preview field at all (as before previews).
        Assert.All(pair.Iterations.SkipLast(1), i => Assert.Null(i.Preview));
        Assert.Null(view.Pairs[1].FinalPreview);
        var json = System.Text.Json.Nodes.JsonNode.Parse(view.ToJson())!;
        Assert.False(json["pairs"]![0]!["iterations"]![0]!.AsObject().ContainsKey("preview"));
        Assert.Equal("files/p0-wave/res_at_iteration_11.preview.png", (string?)json["pairs"]![0]!["iterations"]![4]!["preview"]);
        Assert.False(json["pairs"]![1]!.AsObject().ContainsKey("finalPreview"));
    }

    [Fact]
    public async Task JobContactSheet_LargeIterationImage_IsDrawnFromItsPreviewWithoutReadingTheImage()
    {
        var job = await ViewerTestJob.CreateAsync();
        var name = BlobLayout.IterationImage(ViewerTestJob.JobId, "p0-wave", 11);
        await job.Jobs.Results.WriteImageAsync(name, Gradient(LargeWidth, LargeHeight));

        // The full image is replaced by bytes no decoder reads: a sheet that decoded it would fail.
        await job.Store.UploadAsync(job.Results, name, BinaryData.FromString("not a png: the contact sheet must not read this"));
        const int cell = 64;

        var png = await JobContactSheet.CreatePngAsync(job.Jobs, ViewerTestJob.JobId, cell);

        using var sheet = Image.Load<Rgb24>(png!);

        // Five columns: iterations 0, 1, 2, 10 and 11 of the first pair.
        Assert.Equal(12 + 5 * (cell + 12), sheet.Width);

        // The fifth cell shows the gradient: dark at its left end, bright at its right (the fitted image is 64 x 41).
        var left = 12 + 4 * (cell + 12);
        var middle = 12 + 22 + cell / 2;
        Assert.True(sheet[left + 1, middle].R < 30, $"left end R = {sheet[left + 1, middle].R}");
        Assert.True(sheet[left + cell - 2, middle].R > 225, $"right end R = {sheet[left + cell - 2, middle].R}");
    }

    /// <summary>A real (not solid) image: red rises from 0 at the left to 255 at the right, green from top to bottom.</summary>
    private static BinaryData Gradient(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    row[x] = new Rgb24((byte)(255 * x / (width - 1)), (byte)(255 * y / (height - 1)), 90);
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return BinaryData.FromBytes(stream.ToArray());
    }
}
