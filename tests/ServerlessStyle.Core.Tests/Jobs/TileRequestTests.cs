using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Jobs;

/// <summary>The tile and tileOverlap fields, and the sizes a tiled request may reach.</summary>
public sealed class TileRequestTests
{
    private static readonly LimitsOptions Limits = new();

    private static string Json(string fields) => $$"""{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/a.jpg" } ], {{fields}} }""";

    [Fact]
    public void Parse_TileAndOverlap_AreRead_OverlapDefaultsToAnEighth()
    {
        var request = JobRequestParser.Parse(Json("\"tile\": 768, \"tileOverlap\": 96, \"height\": 4096"), Limits);
        var defaulted = JobRequestParser.Parse(Json("\"tile\": 512"), Limits);

        Assert.Equal((768, 96, 4096), (request.Tile, request.TileOverlap, request.Height));
        Assert.Equal(64, Tiling.Overlap(defaulted));
        Assert.Equal(0, JobRequestParser.Parse(Json("\"height\": 224"), Limits).Tile);
    }

    [Theory]
    [InlineData("\"tile\": 16", "tile", "16 is out of range; allowed: 32..2048")]
    [InlineData("\"tile\": 4096", "tile", "4096 is out of range; allowed: 32..2048")]
    [InlineData("\"tile\": 512, \"tileOverlap\": 256", "tileOverlap", "256 is out of range; allowed: 0..255")]
    [InlineData("\"tile\": 512, \"tileOverlap\": -1", "tileOverlap", "-1 is out of range")]
    [InlineData("\"tileOverlap\": 64", "tileOverlap", "needs tile")]
    [InlineData("\"tile\": 512, \"height\": 9000", "height", "9000 is out of range; allowed: 32..8192")]
    [InlineData("\"height\": 2048", "height", "2048 is out of range; allowed: 32..1024, or up to 8192 with tile")]
    public void Parse_BadTiling_ThrowsNamingFieldValueAndLimit(string fields, string field, string message)
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(Json(fields), Limits));

        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromMetadata_TileFields_AreAccepted()
    {
        var request = JobRequestParser.FromMetadata(
            new Dictionary<string, string> { ["tile"] = "256", ["tileoverlap"] = "32", ["height"] = "2000" }, "inbox/s/photo.jpg", ["styles/s.jpg"], Limits);

        Assert.Equal((256, 32, 2000), (request.Tile, request.TileOverlap, request.Height));
    }

    [Fact]
    public void Check_TiledPoster_ReturnsTheLargestTile_UpToTheTiledLimit()
    {
        // 8192 high from a 3:2 photo is 8192x12288: within 8192x8192 px? No, 100 Mpx; 6000 high is 6000x9000 = 54 Mpx. The
        // largest tile is an inner one with its halo on all four sides.
        var request = JobRequestParser.Parse(Json("\"tile\": 768, \"height\": 6000, \"iterations\": 2"), Limits);

        Assert.Equal((768L + (2 * Tiling.Halo)) * (768 + (2 * Tiling.Halo)), JobSizes.Check(request, [(4500, 3000)], Limits));
        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(request with { Height = 8000 }, [(4500, 3000)], Limits));
        Assert.Equal("content", e.Field);
        Assert.Contains("12000x8000 = 96000000 px", e.Message, StringComparison.Ordinal);
        Assert.Contains($"allowed: up to {8192L * 8192} px with tiles", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UntiledOverThePixelLimit_SuggestsTiles()
    {
        var request = JobRequestParser.Parse(Json("\"height\": 1024"), Limits);

        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(request, [(6000, 1000)], Limits));

        Assert.Contains($"allowed: up to {2048L * 2048} px", e.Message, StringComparison.Ordinal);
        Assert.Contains("set tile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SmallEarlierStage_RunsWhole_LargestStageCountsItsTiles()
    {
        // scales 256 then 1024 with 512-px tiles: 256x384 fits one tile and runs whole; 1024x1536 is 3x4 tiles of 512,
        // and the middle row's inner tiles are optimised with the halo on all four sides.
        var request = JobRequestParser.Parse(Json("\"tile\": 512, \"tileOverlap\": 32, \"scales\": [256, 1024]"), Limits);

        Assert.Equal((512L + (2 * Tiling.Halo)) * (512 + (2 * Tiling.Halo)), JobSizes.Check(request, [(1500, 1000)], Limits));
        Assert.False(Tiling.IsTiled(request, 256, 384, earlierStage: true));
        Assert.True(Tiling.IsTiled(request, 256, 384, earlierStage: false));
        Assert.Equal(12, Tiling.Grid(request, 1024, 1536).Count);
    }

    [Fact]
    public void Check_TiledPoster_GivesTheLargestTiledStage_ForTheMemoryCheck()
    {
        var request = JobRequestParser.Parse(Json("\"tile\": 512, \"tileOverlap\": 32, \"scales\": [256, 1024]"), Limits);

        JobSizes.Check(request, [(1500, 1000)], Limits, out var tiledStage);

        // 1024 x 1536 is tiled; 256 x 384 runs whole and is not a tiled stage.
        Assert.Equal(1024L * 1536, tiledStage);
        JobSizes.Check(JobRequestParser.Parse(Json("\"height\": 256"), Limits), [(1500, 1000)], Limits, out var untiled);
        Assert.Equal(0, untiled);
    }

    [Fact]
    public async Task CheckMemory_TileFitsButItsStageHeldWholeDoesNot_ThrowsNamingTheStage()
    {
        // A 512-px tile of random VGG19 (direct) needs about 1.6 GB; an 8192 x 8192 stage held whole adds 2 GB.
        using var engine = new StyleEngine(
            Options.Create(new EngineOptions { Network = "random-vgg19", Provider = "cpu", Winograd = false }),
            Options.Create(new LimitsOptions { AllowTestNetworks = true, MaxWorkerMemoryBytes = 3L << 30 }),
            NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance, new NetworkResolver(new Core.Networks.ModelStore(Core.Networks.ModelStore.DefaultFolder)));
        var request = JobRequestParser.Parse(Json("\"tile\": 512, \"height\": 8192, \"network\": \"random-vgg19\""), new LimitsOptions { AllowTestNetworks = true });

        await engine.CheckMemoryAsync(request, 528L * 528, tiledStagePixels: 0);
        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.CheckMemoryAsync(request, 528L * 528, tiledStagePixels: 8192L * 8192));

        Assert.Equal("tile", e.Field);
        Assert.Contains($"with its {8192L * 8192}-px stage held whole to blend", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckMemory_TileOverTheWorkersMemory_ThrowsNamingTheTile()
    {
        using var engine = new StyleEngine(
            Options.Create(new EngineOptions { Network = "random-vgg19", Provider = "cpu", Winograd = false }),
            Options.Create(new LimitsOptions { AllowTestNetworks = true, MaxWorkerMemoryBytes = 2L << 30 }),
            NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance, new NetworkResolver(new Core.Networks.ModelStore(Core.Networks.ModelStore.DefaultFolder)));
        var request = JobRequestParser.Parse(Json("\"tile\": 1024, \"height\": 4096, \"network\": \"random-vgg19\""), new LimitsOptions { AllowTestNetworks = true });

        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.CheckMemoryAsync(request, 1024L * 1024));

        Assert.Equal("tile", e.Field);
        Assert.Contains("a tile of 1048576 px", e.Message, StringComparison.Ordinal);
        Assert.Contains("lower the tile", e.Message, StringComparison.Ordinal);
    }
}
