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
        var tiled = evaluator.ComputeTileTargets(network, content, [(style, 1.0)], Tiles.Grid(48, 64, 64, 8), gramTile: 64).Tiles.Single();

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

        var tiles = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], grid, gramTile: 1024).Tiles.ToList();

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

        var whole = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], [stage], gramTile: 80).Tiles.Single();
        var pieces = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], [stage], gramTile: 40).Tiles.Single();

        var difference = whole.Grams[0].Zip(pieces.Grams[0], (a, b) => Math.Abs(a - (double)b)).Sum();
        var size = whole.Grams[0].Sum(a => Math.Abs((double)a));
        Assert.InRange(difference / size, 0, 0.05);
        Assert.NotEqual(whole.Grams[0], pieces.Grams[0]);
    }

    [Fact]
    public void SharedResidual_OneTileCoveringTheStage_AimsAtTheStylesGrams()
    {
        // G(x0) + 1 * (G_s - G(x0)) per position times the positions is G_s again: the residual's position scaling is
        // the untiled targets' (float rounding of a sum and a difference: 1e-5 of the Gram's largest value).
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(48, 64, 1);
        var style = GradientChecks.PatternImage(40, 56, 2);
        var x0 = GradientChecks.PatternImage(48, 64, 3);
        var stage = evaluator.ComputeTileTargets(Vgg, content, [(style, 1.0)], [new TileRect(0, 0, 48, 64)], gramTile: 64);
        var tile = stage.Tiles.Single();

        var shared = evaluator.ShareStyleResidual(Vgg, tile, x0, Residual(evaluator, Vgg, stage.StylePerPosition, x0, gramTile: 64));

        for (var l = 0; l < tile.Grams.Count; l++)
        {
            var scale = tile.Grams[l].Max(v => Math.Abs(v));
            for (var i = 0; i < tile.Grams[l].Length; i++)
            {
                Assert.True(Math.Abs(shared.Grams[l][i] - tile.Grams[l][i]) <= 1e-5 * scale, $"layer {l}, value {i}: {shared.Grams[l][i]} vs {tile.Grams[l][i]}");
            }
        }

        Assert.Same(tile.ContentFeatures, shared.ContentFeatures);
        Assert.Equal(tile.StyleLayerWeights, shared.StyleLayerWeights);
    }

    [Fact]
    public void SharedResidual_AtTheIterationsStart_TilesStyleGradientIsTheUntiledOneAwayFromTheirEdges()
    {
        // With block1_conv1 alone (a 3x3 receptive field) a pixel 2 px or more inside a tile sees only features that
        // the tile computes as the whole image does, so the shared term's gradient there is the untiled one but for
        // float rounding (1e-4 of the largest gradient value). The tile term (the style's Gram rescaled to the tile) is
        // checked to be far from it, so the comparison can tell them apart.
        var network = FirstStyleLayerOnly(Vgg);
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(64, 80, 1);
        var style = GradientChecks.PatternImage(64, 80, 2);
        var x0 = GradientChecks.PatternImage(64, 80, 3);
        var styleOnly = new LossWeights(0, 1.0, 0);
        var untiledGradient = new float[x0.Length];
        evaluator.Evaluate(network, evaluator.ComputeTargets(network, content, [(style, 1.0)]), styleOnly, x0.Data, untiledGradient);
        var grid = Tiles.Grid(64, 80, 48, 16);
        var stage = evaluator.ComputeTileTargets(network, content, [(style, 1.0)], grid, gramTile: 1024);
        var residual = Residual(evaluator, network, stage.StylePerPosition, x0, gramTile: 1024);
        var scale = untiledGradient.Max(v => Math.Abs(v));

        var t = 0;
        foreach (var tile in stage.Tiles)
        {
            var crop = Tiles.Crop(x0, grid[t]);
            var (shared, fixedGradient) = (new float[crop.Length], new float[crop.Length]);
            evaluator.Evaluate(network, evaluator.ShareStyleResidual(network, tile, crop, residual), styleOnly, crop.Data, shared);
            evaluator.Evaluate(network, tile, styleOnly, crop.Data, fixedGradient);
            var (worst, fixedWorst) = (0.0, 0.0);
            foreach (var (c, y, x) in Inner(grid[t], 64, 80, margin: 2))
            {
                var expected = untiledGradient[(c * 64 * 80) + ((grid[t].Top + y) * 80) + grid[t].Left + x];
                var index = (c * grid[t].Pixels) + (y * grid[t].Width) + x;
                worst = Math.Max(worst, Math.Abs(shared[index] - expected));
                fixedWorst = Math.Max(fixedWorst, Math.Abs(fixedGradient[index] - expected));
            }

            Assert.True(worst <= 1e-4 * scale, $"tile {t}: the shared term's gradient is {worst / scale:e2} of the largest value away from the untiled one");
            Assert.True(fixedWorst > 0.01 * scale, $"tile {t}: the fixed term's gradient is only {fixedWorst / scale:e2} away; the test cannot tell the terms apart");
            t++;
        }
    }

    /// <summary>The stage's style residual per position at <paramref name="x0"/>, as TiledStageWork writes it.</summary>
    private static float[][] Residual(StyleEvaluator evaluator, LossNetwork network, float[][] stylePerPosition, ImageTensor x0, int gramTile) =>
        [.. evaluator.GramsPerPosition(network, x0, gramTile).Select((g, l) => g.Select((v, i) => stylePerPosition[l][i] - v).ToArray())];

    /// <summary>The channels and positions of a tile's pixels at least <paramref name="margin"/> px from every edge it shares with another tile.</summary>
    private static IEnumerable<(int C, int Y, int X)> Inner(TileRect rect, int height, int width, int margin)
    {
        for (var y = 0; y < rect.Height; y++)
        {
            for (var x = 0; x < rect.Width; x++)
            {
                var inside = (rect.Top == 0 || y >= margin) && (rect.Top + rect.Height == height || y < rect.Height - margin)
                    && (rect.Left == 0 || x >= margin) && (rect.Left + rect.Width == width || x < rect.Width - margin);
                for (var c = 0; inside && c < 3; c++)
                {
                    yield return (c, y, x);
                }
            }
        }
    }

    private static LossNetwork FirstStyleLayerOnly(LossNetwork network) => new()
    {
        Name = network.Name + "_block1",
        Graph = network.Graph,
        InputName = network.InputName,
        Input = network.Input,
        StyleLayers = [network.StyleLayers[0]],
        ContentLayer = network.ContentLayer,
        DefaultWeights = network.DefaultWeights,
        NormalizeStyleLayersAtStart = network.NormalizeStyleLayersAtStart,
    };

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
