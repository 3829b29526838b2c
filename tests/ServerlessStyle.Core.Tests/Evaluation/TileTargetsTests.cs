using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Evaluation;

public sealed class TileTargetsTests
{
    private static readonly LossNetwork Vgg = RandomVgg19.Create();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OneTileCoveringTheStage_LossAndGradient_EqualTheUntiledObjectiveBitForBit(bool normalized)
    {
        // Normalised: the layer weights divided by the start-point loss, as resnet18 does, computed from the content's
        // Gram sums; a piece as large as the image makes them the same numbers.
        var network = normalized ? Normalized(Vgg) : Vgg;
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(48, 64, 1);
        var style = GradientChecks.PatternImage(40, 56, 2);
        var weights = new LossWeights(0.025, 1.0, 1.0);

        var untiled = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var tiled = evaluator.ComputeTileTargets(network, content, [(style, 1.0)], Tiles.Grid(48, 64, 64, 8), gramTile: 64).Single();

        Assert.Equal(untiled.ContentFeatures, tiled.ContentFeatures);
        Assert.Equal(untiled.StyleLayerWeights, tiled.StyleLayerWeights);
        for (var l = 0; l < untiled.Grams.Count; l++)
        {
            Assert.Equal(untiled.Grams[l], tiled.Grams[l]);
        }

        var x = GradientChecks.PatternImage(48, 64, 3).Data;
        var (gradientUntiled, gradientTiled) = (new float[x.Length], new float[x.Length]);
        var lossUntiled = evaluator.Evaluate(network, untiled, weights, x, gradientUntiled);
        var lossTiled = evaluator.Evaluate(network, tiled, weights, x, gradientTiled);
        Assert.Equal(lossUntiled, lossTiled);
        Assert.Equal(gradientUntiled, gradientTiled);
    }

    [Fact]
    public void TilesOfAStage_LayerWeightsTakeTheirShareOfThePixels_GramsTheirShareOfThePositions()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(64, 80, 1);
        var style = GradientChecks.PatternImage(64, 80, 2);
        var whole = evaluator.ComputeTargets(Vgg, content, [(style, 1.0)]);
        var grid = Tiles.Grid(64, 80, 48, 16);

        var tiles = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], grid, gramTile: 1024).ToList();

        Assert.Equal(4, tiles.Count);
        for (var t = 0; t < tiles.Count; t++)
        {
            var share = 48.0 * 48 / (64 * 80);
            Assert.Equal((48, 48), (tiles[t].Height, tiles[t].Width));
            Assert.Equal(whole.StyleLayerWeights.Select(w => w * share), tiles[t].StyleLayerWeights);

            // block1_conv1 has one position per pixel: the tile's target Gram is the stage's times 48*48 / (64*80),
            // rounded to float once each way (1e-6 relative).
            for (var i = 0; i < whole.Grams[0].Length; i++)
            {
                var expected = whole.Grams[0][i] * share;
                Assert.True(Math.Abs(tiles[t].Grams[0][i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-12, $"Gram value {i}: {tiles[t].Grams[0][i]} vs {expected}");
            }

            // Each tile's content features are those of its own crop.
            var crop = evaluator.ComputeTargets(Vgg, Tiles.Crop(content, grid[t]), [(style, 1.0)]);
            Assert.Equal(crop.ContentFeatures, tiles[t].ContentFeatures);
        }
    }

    [Fact]
    public void StyleGramsFromPieces_AreCloseToTheWholeImagesGrams()
    {
        // The approximation that keeps a poster's style Grams within one worker: a sum over four pieces instead of one
        // pass. At block1_conv1 (3x3 receptive field) only the pixels along the cuts differ, a few percent of the sum.
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(64, 80, 1);
        var style = GradientChecks.PatternImage(64, 80, 2);
        var stage = new TileRect(0, 0, 64, 80);

        var whole = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], [stage], gramTile: 80).Single();
        var pieces = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], [stage], gramTile: 40).Single();

        var difference = whole.Grams[0].Zip(pieces.Grams[0], (a, b) => Math.Abs(a - (double)b)).Sum();
        var size = whole.Grams[0].Sum(a => Math.Abs((double)a));
        Assert.InRange(difference / size, 0, 0.05);
        Assert.NotEqual(whole.Grams[0], pieces.Grams[0]);
    }

    private static LossNetwork Normalized(LossNetwork network) => new()
    {
        Name = network.Name + "_normalized",
        Graph = network.Graph,
        InputName = network.InputName,
        Input = network.Input,
        StyleLayers = network.StyleLayers,
        ContentLayer = network.ContentLayer,
        DefaultWeights = network.DefaultWeights,
        NormalizeStyleLayersAtStart = true,
    };
}
