using System.Text.Json;
using ServerlessStyle.Core.Tests;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary><c>tile-gap</c>: the in-process tiled run that the causes of the tiled loss gap are measured with.</summary>
public sealed class TileGapCommandTests
{
    [Fact]
    public void TileGap_OneTileCoveringTheImage_IsTheUntiledRunExactly()
    {
        // 32 x 48 px under a 64-px tile: one tile covering the stage, whose targets, state and result are the untiled
        // ones bit for bit (as TiledStageTests checks for the durable path), so the experiment's own tiling adds nothing.
        var lines = Run("--height", "32", "--tile", "64", "--tile-overlaps", "0", "--iterations", "2", "--evaluations", "3", "--gradients");

        var untiled = lines.Single(l => l.GetProperty("run").GetString() == "untiled");
        var tiled = lines.Single(l => l.GetProperty("run").GetString() == "tiled");
        Assert.Equal(1, tiled.GetProperty("tiles").GetInt32());
        Assert.Equal(untiled.GetProperty("loss").GetDouble(), tiled.GetProperty("loss").GetDouble());
        Assert.Equal(1.0, tiled.GetProperty("ratio").GetDouble());
        foreach (var gradients in lines.Where(l => l.GetProperty("run").GetString() == "gradients"))
        {
            var band = Assert.Single(gradients.GetProperty("bands").EnumerateArray());
            Assert.Equal(0.0, band.GetProperty("relativeError").GetDouble());
        }
    }

    [Fact]
    public void TileGap_TwoTilesEachTerm_PrintsOneScoredRunPerTermAndGradientsByBand()
    {
        var lines = Run("--height", "32", "--tile", "32", "--tile-overlaps", "8", "--terms", "tile,shared,block", "--iterations", "2", "--evaluations", "10", "--gradients");

        var tiled = lines.Where(l => l.GetProperty("run").GetString() == "tiled").ToList();
        Assert.Equal(new[] { "tile", "shared", "block" }, tiled.Select(l => l.GetProperty("term").GetString()));
        var untiled = lines.Single(l => l.GetProperty("run").GetString() == "untiled");
        var startRatio = untiled.GetProperty("startLoss").GetDouble() / untiled.GetProperty("loss").GetDouble();
        Assert.All(tiled, l => Assert.Equal(2, l.GetProperty("tiles").GetInt32()));

        // Every term makes progress from the content (the untiled start's loss is above the untiled result's).
        Assert.All(tiled, l => Assert.True(l.GetProperty("loss").GetDouble() > 0 && l.GetProperty("ratio").GetDouble() < startRatio, l.ToString()));
        Assert.Equal(12, lines.Count(l => l.GetProperty("run").GetString() == "gradients"));
    }

    [Fact]
    public void TileGap_UnknownTerm_FailsNamingIt()
    {
        var (code, _, error) = AppRunner.Run(Program.CreateApp, "tile-gap", "--terms", "tile,global");

        Assert.NotEqual(0, code);
        Assert.Contains("--terms 'tile,global'", error);
    }

    private static List<JsonElement> Run(params string[] args)
    {
        var (code, output, error) = AppRunner.Run(
            Program.CreateApp,
            ["tile-gap", "--content", TestPaths.Sample("content/chelsea.png"), "--style", TestPaths.Sample("styles/starry_night.jpg"), .. args]);
        Assert.True(code == 0, $"exit {code}: {error}");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }
}
