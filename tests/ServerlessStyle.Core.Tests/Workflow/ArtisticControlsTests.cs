using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// The artistic controls on real parts: <see cref="StyleWork"/> over Azurite with the random VGG19 on ONNX Runtime,
/// chelsea at 32 px (32x48), one chunk of a few evaluations per pair. Activities are called directly: the
/// orchestrations carry the request unchanged, so what a control does is decided here.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ArtisticControlsTests(EngineFixture fixture)
{
    private const int Height = 32;
    private const int Width = 48; // chelsea.png is 451x300: floor(451 * 32 / 300)

    private sealed record Inputs(Pipeline Pipeline, IStyleWork Work, string Content, string Starry, string Scream);

    private async Task<Inputs> UploadAsync()
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var scream = await pipeline.UploadSampleAsync("styles", "the_scream.jpg", "styles/the_scream.jpg");
        await pipeline.Store.EnsureContainerAsync(pipeline.Results);
        await pipeline.Store.EnsureContainerAsync(pipeline.Work);
        return new Inputs(pipeline, pipeline.CreateWork(), content, starry, scream);
    }

    private static JobRequest Request(Inputs inputs, int evaluations = 4) => new()
    {
        Content = [inputs.Content],
        Styles = [new StyleInput(inputs.Starry)],
        Height = Height,
        Iterations = 1,
        EvaluationsPerIteration = evaluations,
        Network = NetworkSpec.RandomVgg19,
    };

    private static PairInput Pair(string pairId, string content, JobRequest request, params StyleInput[] styles) =>
        new("j", new PairPlan(0, pairId, content, styles.Length > 0 ? styles : request.Styles), request, Pipeline.FastRetries);

    /// <summary>PrepareTargets and one chunk; returns the chunk's iteration image.</summary>
    private static async Task<byte[]> RunOneChunkAsync(Inputs inputs, PairInput pair)
    {
        await inputs.Work.PrepareTargetsAsync(pair);
        await inputs.Work.RunChunkAsync(new ChunkInput(pair.JobId, pair.Pair, pair.Request, 0));
        return await inputs.Pipeline.ReadAsync(inputs.Pipeline.Results, BlobLayout.IterationImage(pair.JobId, pair.Pair.PairId, 0));
    }

    private static async Task<StyleTargets> TargetsAsync(Inputs inputs, string pairId)
    {
        using var stream = new MemoryStream(await inputs.Pipeline.ReadAsync(inputs.Pipeline.Work, BlobLayout.Targets("j", pairId)));
        return StyleTargets.ReadFrom(stream);
    }

    private static async Task<float[]> StartPointAsync(Inputs inputs, string pairId)
    {
        using var stream = new MemoryStream(await inputs.Pipeline.ReadAsync(inputs.Pipeline.Work, BlobLayout.State("j", pairId, 0)));
        return (await CheckpointCodec.ReadAsync(stream, 3 * Height * Width)).X;
    }

    private static ImageTensor Sample(string relative, int height, int width) =>
        ImageLoader.LoadExact(File.ReadAllBytes(TestPaths.Sample(relative)), height, width);

    [Fact]
    public async Task Blend_OneStyleAtWeightZero_EqualsTheOtherStyleAlone()
    {
        var inputs = await UploadAsync();
        var request = Request(inputs) with { StyleMode = StyleMode.Blend };

        var single = await RunOneChunkAsync(inputs, Pair("single", inputs.Content, request, new StyleInput(inputs.Starry, 0.7)));
        var blend = await RunOneChunkAsync(inputs, Pair("blend", inputs.Content, request, new StyleInput(inputs.Starry, 0.7), new StyleInput(inputs.Scream, 0)));

        // Exact: a weight of 0 adds 0.0 * Gram, and 0.7 / 0.7 is exactly 1, so the targets are the same floats.
        var (a, b) = (await TargetsAsync(inputs, "single"), await TargetsAsync(inputs, "blend"));
        Assert.Equal(a.Grams.Count, b.Grams.Count);
        for (var l = 0; l < a.Grams.Count; l++)
        {
            Assert.Equal(a.Grams[l], b.Grams[l]);
        }

        Assert.Equal(a.StyleLayerWeights, b.StyleLayerWeights);
        Assert.Equal(single, blend);
    }

    [Fact]
    public async Task Blend_TwoStylesWithWeight_DiffersFromEitherStyleAlone()
    {
        var inputs = await UploadAsync();
        var request = Request(inputs) with { StyleMode = StyleMode.Blend };
        await inputs.Work.PrepareTargetsAsync(Pair("starry", inputs.Content, request, new StyleInput(inputs.Starry)));
        await inputs.Work.PrepareTargetsAsync(Pair("scream", inputs.Content, request, new StyleInput(inputs.Scream)));
        await inputs.Work.PrepareTargetsAsync(Pair("mix", inputs.Content, request, new StyleInput(inputs.Starry, 3), new StyleInput(inputs.Scream, 1)));

        // The blend is 3/4 starry + 1/4 scream Gram by Gram; float32 storage of each Gram bounds the error at a few
        // ulps of the largest entry, 1e-5 relative is ample.
        var (starry, scream, mix) = (await TargetsAsync(inputs, "starry"), await TargetsAsync(inputs, "scream"), await TargetsAsync(inputs, "mix"));
        for (var l = 0; l < mix.Grams.Count; l++)
        {
            var scale = mix.Grams[l].Max(Math.Abs);
            for (var i = 0; i < mix.Grams[l].Length; i++)
            {
                Assert.Equal(0.75 * starry.Grams[l][i] + 0.25 * scream.Grams[l][i], mix.Grams[l][i], scale * 1e-5);
            }
        }
    }

    [Fact]
    public async Task PreserveColors_SavedImages_HaveContentChromaAndStylisedLuminance()
    {
        var inputs = await UploadAsync();
        // Starting from the painting gives the stylised image the painting's colours after a few evaluations of the
        // random network; from the content they would barely move and the chroma check could not fail.
        var request = Request(inputs, evaluations: 4) with { Init = InitChoices.Style };
        var stylised = await RunOneChunkAsync(inputs, Pair("plain", inputs.Content, request));
        var preserved = await RunOneChunkAsync(inputs, Pair("colors", inputs.Content, request with { PreserveColors = true }));
        var final = await inputs.Work.FinalizeAsync(Pair("colors", inputs.Content, request with { PreserveColors = true }) with { NextChunk = 1 });
        Assert.Equal(preserved, await inputs.Pipeline.ReadAsync(inputs.Pipeline.Results, BlobLayout.FinalImage("j", "colors")));
        Assert.EndsWith("final.png", final.FinalImage, StringComparison.Ordinal);

        using var content = Image.Load<Rgb24>(ImageWriter.ToPng(Sample("content/chelsea.png", Height, Width)));
        using var plain = Image.Load<Rgb24>(stylised);
        using var result = Image.Load<Rgb24>(preserved);
        var (checkedPixels, chromaChanged) = (0, 0);
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var r = result[x, y];
                // A channel at 0 or 255 may have been clipped, which moves chroma by more than rounding: skip those.
                if (r.R is 0 or 255 || r.G is 0 or 255 || r.B is 0 or 255)
                {
                    continue;
                }

                checkedPixels++;
                var (c, s) = (content[x, y], plain[x, y]);
                // Each PNG channel is rounded by at most 0.5; Cb, Cr and Y weigh the channels with absolute sums of 1,
                // so rounding moves each by at most 0.5 per image: 0.5 for chroma (content is exact bytes), 1.0 for
                // luma (both images rounded), plus 1e-3 for float32 arithmetic.
                Assert.Equal(Cb(c), Cb(r), 0.501);
                Assert.Equal(Cr(c), Cr(r), 0.501);
                Assert.Equal(ColorPreservation.Luma(s.R, s.G, s.B), ColorPreservation.Luma(r.R, r.G, r.B), 1.001);
                if (Math.Abs(Cb(s) - Cb(c)) > 2 || Math.Abs(Cr(s) - Cr(c)) > 2)
                {
                    chromaChanged++;
                }
            }
        }

        Assert.True(checkedPixels > Height * Width / 2, $"only {checkedPixels} of {Height * Width} pixels unclipped");
        // Otherwise the test could pass with colours that were never changed by the style.
        Assert.True(chromaChanged > 0, "the stylised image kept the content's chroma by itself");
    }

    private static double Cb(Rgb24 p) => -0.168736 * p.R - 0.331264 * p.G + 0.5 * p.B;

    private static double Cr(Rgb24 p) => 0.5 * p.R - 0.418688 * p.G - 0.081312 * p.B;

    [Fact]
    public async Task InitNoise_SameSeed_SameImageAndOtherSeed_OtherImage()
    {
        var inputs = await UploadAsync();
        var request = Request(inputs, evaluations: 2) with { Init = InitChoices.Noise };
        var a = await RunOneChunkAsync(inputs, Pair("a", inputs.Content, request with { Seed = 7 }));
        var b = await RunOneChunkAsync(inputs, Pair("b", inputs.Content, request with { Seed = 7 }));
        var c = await RunOneChunkAsync(inputs, Pair("c", inputs.Content, request with { Seed = 8 }));

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var start = await StartPointAsync(inputs, "a");
        var content = Sample("content/chelsea.png", Height, Width);
        Assert.NotEqual(content.Data, start);
        // Uniform over 0..255 per channel: every value of the start point, mean added back, lies in that range.
        var plane = Height * Width;
        Assert.All(Enumerable.Range(0, start.Length), i => Assert.InRange(start[i] + CaffeSpace.Mean[i / plane], 0f, 255f));
    }

    [Fact]
    public async Task InitStyleOrBlob_StartPoint_IsThatImageResizedToTheOutputSize()
    {
        var inputs = await UploadAsync();
        var request = Request(inputs, evaluations: 2);
        await inputs.Work.PrepareTargetsAsync(Pair("style", inputs.Content, request with { Init = InitChoices.Style }));
        await inputs.Work.PrepareTargetsAsync(Pair("blob", inputs.Content, request with { Init = inputs.Scream }));
        await inputs.Work.PrepareTargetsAsync(Pair("content", inputs.Content, request));

        // Exact: the same bytes through the same decoder and resampler.
        Assert.Equal(Sample("styles/starry_night.jpg", Height, Width).Data, await StartPointAsync(inputs, "style"));
        Assert.Equal(Sample("styles/the_scream.jpg", Height, Width).Data, await StartPointAsync(inputs, "blob"));
        Assert.Equal(Sample("content/chelsea.png", Height, Width).Data, await StartPointAsync(inputs, "content"));
    }

    [Theory]
    [InlineData(1.0, 32, 48)]
    [InlineData(0.5, 16, 24)]
    public async Task StyleScale_Targets_EqualTargetsOfTheStyleResizedByThatScale(double scale, int styleHeight, int styleWidth)
    {
        var inputs = await UploadAsync();
        await inputs.Work.PrepareTargetsAsync(Pair("scaled", inputs.Content, Request(inputs) with { StyleScale = scale }));

        var network = await fixture.Engine.GetNetworkAsync(NetworkSpec.RandomVgg19);
        var expected = fixture.Engine.Evaluator.ComputeTargets(
            network, Sample("content/chelsea.png", Height, Width), [(Sample("styles/starry_night.jpg", styleHeight, styleWidth), 1.0)]);
        var actual = await TargetsAsync(inputs, "scaled");
        // The same session on the same inputs: ONNX Runtime's CPU kernels are deterministic, so exact.
        for (var l = 0; l < expected.Grams.Count; l++)
        {
            Assert.Equal(expected.Grams[l], actual.Grams[l]);
        }
    }

    [Fact]
    public async Task StyleScale_Half_ChangesTheGrams()
    {
        var inputs = await UploadAsync();
        await inputs.Work.PrepareTargetsAsync(Pair("one", inputs.Content, Request(inputs)));
        await inputs.Work.PrepareTargetsAsync(Pair("half", inputs.Content, Request(inputs) with { StyleScale = 0.5 }));
        var (one, half) = (await TargetsAsync(inputs, "one"), await TargetsAsync(inputs, "half"));
        Assert.NotEqual(one.Grams[0], half.Grams[0]);
        // Content features do not depend on the style's size.
        Assert.Equal(one.ContentFeatures, half.ContentFeatures);
    }

    [Fact]
    public async Task Layers_RequestTaps_TargetsUseThoseTensorsAndWeights()
    {
        var inputs = await UploadAsync();
        var request = Request(inputs) with
        {
            StyleLayers = [new LayerWeight("block1_conv1", 2), new LayerWeight("block2_conv1", 0.5)],
            ContentLayers = [new LayerWeight("block4_conv2")],
        };
        await inputs.Work.PrepareTargetsAsync(Pair("layers", inputs.Content, request));

        var targets = await TargetsAsync(inputs, "layers");
        // The random VGG19 keeps the Keras plain sum (no normalisation at the start), so the weights are the request's.
        Assert.Equal([2.0, 0.5], targets.StyleLayerWeights);
        // Gram sizes are channels squared: 64 for block1, 128 for block2.
        Assert.Equal([64 * 64, 128 * 128], targets.Grams.Select(g => g.Length));
        // block4_conv2 at 32x48 is after three pools: 512 channels x 4 x 6.
        Assert.Equal(512 * 4 * 6, targets.ContentFeatures.Length);
    }

    [Theory]
    [InlineData("styleLayers[1].name")]
    [InlineData("contentLayers[0].name")]
    [InlineData("pooling")]
    public async Task ValidateJob_BadLayerOrPooling_NamesTheField(string field)
    {
        var inputs = await UploadAsync();
        var request = field switch
        {
            "styleLayers[1].name" => Request(inputs) with { StyleLayers = [new LayerWeight("block1_conv1"), new LayerWeight("conv9")] },
            "contentLayers[0].name" => Request(inputs) with { ContentLayers = [new LayerWeight("nope")] },
            _ => Request(inputs) with { Network = NetworkSpec.ResNet18, Pooling = PoolingChoice.Avg },
        };

        var e = await Assert.ThrowsAsync<JobRequestException>(() => inputs.Work.ValidateJobAsync(new JobInput("j", request, Pipeline.FastRetries)));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public async Task Pooling_Avg_RunsAChunkWithAFiniteLowerLoss()
    {
        var inputs = await UploadAsync();
        var pair = Pair("avg", inputs.Content, Request(inputs, evaluations: 6) with { Pooling = PoolingChoice.Avg });
        await inputs.Work.PrepareTargetsAsync(pair);
        var outcome = await inputs.Work.RunChunkAsync(new ChunkInput("j", pair.Pair, pair.Request, 0));

        var rows = System.Text.Encoding.UTF8.GetString(await inputs.Pipeline.ReadAsync(inputs.Pipeline.Results, BlobLayout.LossLog("j", "avg")))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => double.Parse(l.Split(',')[5], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(double.IsFinite(outcome.Loss));
        // The line search may still be on its first step after a few evaluations; some trial point must be lower.
        Assert.True(rows.Min() < rows[0], $"no evaluation went below the start's loss {rows[0]}: {string.Join(", ", rows)}");
    }
}
