using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Evaluation;

public sealed partial class StyleEvaluator
{
    /// <summary>
    /// The targets of each tile of a stage (docs/contracts.md, "Tiled stages"): the tile's own content features, and
    /// style Grams and layer weights scaled so that the tile's loss gradient approximates the untiled stage's on the
    /// tile's pixels. Whole-image Grams (the styles', and the content's for the start-point normalisation) are sums of
    /// the Grams of non-overlapping pieces of at most <paramref name="gramTile"/> px a side, so no image is ever run
    /// whole. A tile that covers the whole image gets exactly <see cref="ComputeTargets"/>' targets. The style images
    /// run at once; the tiles' targets are lazy, one tile at a time.
    /// </summary>
    public TileStageTargets ComputeTileTargets(
        LossNetwork network, ImageTensor content, IReadOnlyList<(ImageTensor Image, double Weight)> styles, IReadOnlyList<TileRect> tiles, int gramTile)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(styles);
        ArgumentNullException.ThrowIfNull(tiles);
        CheckImage(content, nameof(content));
        if (styles.Count == 0 || styles.Any(s => !double.IsFinite(s.Weight) || s.Weight < 0) || styles.Sum(s => s.Weight) <= 0)
        {
            throw new ArgumentException($"Style weights must be finite, non-negative and not all zero; got [{string.Join(", ", styles.Select(s => s.Weight))}].", nameof(styles));
        }

        (GramSums Sums, double Weight)[] styleSums;
        using (var sessions = new TargetSessions(this, network))
        {
            styleSums = styles.Select(s => (SumGrams(sessions, s.Image, gramTile), s.Weight)).ToArray();
        }

        var total = styles.Sum(s => s.Weight);
        var perPosition = Blend(styleSums, total, Enumerable.Repeat(1L, styleSums[0].Sums.Grams.Length).ToArray());
        return new TileStageTargets(perPosition, TileTargets(network, content, styleSums, total, tiles, gramTile));
    }

    /// <summary>
    /// Per style layer, the Gram of <paramref name="image"/> per position: summed over non-overlapping pieces of at most
    /// <paramref name="gramTile"/> px a side and divided by their positions, the form <see cref="ShareStyleResidual"/>
    /// takes the stage's style residual in.
    /// </summary>
    public float[][] GramsPerPosition(LossNetwork network, ImageTensor image, int gramTile)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(image);
        using var sessions = new TargetSessions(this, network);
        var sums = SumGrams(sessions, image, gramTile);
        return sums.Grams.Select((g, l) => g.Select(v => (float)(v / sums.Positions[l])).ToArray()).ToArray();
    }

    /// <summary>
    /// A tile's targets for an iteration that starts at <paramref name="crop"/> (the tile's pixels of the stage's image
    /// x0): its style Grams become its own Gram at x0 plus its positions' share of the stage's style residual
    /// (<paramref name="residualPerPosition"/>: the style's Gram per position minus x0's, per layer), that is
    /// <c>G_t(x0) + rho (G_s - G(x0))</c> with rho the tile's positions over the stage's. At x0 the tile's style gradient
    /// is then the untiled one on its pixels (but near its edges, where the network's padding differs), and the tiles'
    /// changes to their Grams add up to the stage's residual, instead of every tile matching the style's statistics on
    /// its own pixels. Content features and layer weights stay <paramref name="tile"/>'s.
    /// </summary>
    public StyleTargets ShareStyleResidual(LossNetwork network, StyleTargets tile, ImageTensor crop, IReadOnlyList<float[]> residualPerPosition)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(tile);
        ArgumentNullException.ThrowIfNull(crop);
        ArgumentNullException.ThrowIfNull(residualPerPosition);
        if (crop.Height != tile.Height || crop.Width != tile.Width)
        {
            throw new ArgumentException($"The crop is {crop.Height}x{crop.Width}; the tile's targets are {tile.Height}x{tile.Width}.", nameof(crop));
        }

        float[][] own;
        IReadOnlyList<long> positions;
        using (var sessions = new TargetSessions(this, network))
        {
            own = sessions.Run(crop).Grams;
            positions = sessions.Get(crop.Height, crop.Width).StylePositions;
        }

        if (residualPerPosition.Count != own.Length || residualPerPosition.Where((r, l) => r.Length != own[l].Length).Any())
        {
            throw new ArgumentException($"The residual has {residualPerPosition.Count} layers of [{string.Join(", ", residualPerPosition.Select(r => r.Length))}] values; {network.Name} has [{string.Join(", ", own.Select(g => g.Length))}].", nameof(residualPerPosition));
        }

        var grams = new float[own.Length][];
        for (var l = 0; l < own.Length; l++)
        {
            grams[l] = new float[own[l].Length];
            for (var i = 0; i < own[l].Length; i++)
            {
                grams[l][i] = (float)(own[l][i] + ((double)positions[l] * residualPerPosition[l][i]));
            }
        }

        return new StyleTargets
        {
            NetworkName = tile.NetworkName,
            Height = tile.Height,
            Width = tile.Width,
            ContentFeatures = tile.ContentFeatures,
            Grams = grams,
            StyleLayerWeights = tile.StyleLayerWeights,
        };
    }

    private IEnumerable<StyleTargets> TileTargets(
        LossNetwork network, ImageTensor content, (GramSums Sums, double Weight)[] styleSums, double total, IReadOnlyList<TileRect> tiles, int gramTile)
    {
        using var sessions = new TargetSessions(this, network);
        var layerWeights = network.StyleLayers.Select(s => s.Weight).ToArray();
        float[]? wholeFeatures = null;
        if (network.NormalizeStyleLayersAtStart)
        {
            // As ComputeTargets does, at the content, over the whole stage: every tile of a stage gets the same weights.
            var start = SumGrams(sessions, content, gramTile);
            wholeFeatures = start.WholeFeatures;
            var blended = Blend(styleSums, total, start.Positions);
            var denominator = 4.0 * 9.0 * Math.Pow((double)content.Height * content.Width, 2);
            for (var l = 0; l < layerWeights.Length; l++)
            {
                var loss = 0.0;
                for (var i = 0; i < blended[l].Length; i++)
                {
                    var d = (double)blended[l][i] - start.Grams[l][i];
                    loss += d * d;
                }

                if (loss > 0)
                {
                    layerWeights[l] /= loss / denominator;
                }
            }
        }

        var stagePixels = (long)content.Height * content.Width;
        foreach (var rect in tiles)
        {
            var whole = rect == new TileRect(0, 0, content.Height, content.Width);
            var features = whole && wholeFeatures is not null ? wholeFeatures : sessions.Run(whole ? content : Tiles.Crop(content, rect)).Content;
            var positions = sessions.Get(rect.Height, rect.Width).StylePositions;

            // The Keras style term divides by the combination image's pixels squared; a tile's Gram is about its share of
            // the stage's, so its layer weights take that share (exactly 1 for a tile covering the stage).
            var share = (double)rect.Pixels / stagePixels;
            yield return new StyleTargets
            {
                NetworkName = network.Name,
                Height = rect.Height,
                Width = rect.Width,
                ContentFeatures = features,
                Grams = Blend(styleSums, total, positions),
                StyleLayerWeights = layerWeights.Select(w => w * share).ToArray(),
            };
        }
    }

    /// <summary>
    /// The style Grams blended by weight and rescaled to <paramref name="positions"/> per layer, as
    /// <see cref="ComputeTargets"/> rescales a style image of another size to the content's.
    /// </summary>
    private static float[][] Blend(IReadOnlyList<(GramSums Sums, double Weight)> styles, double total, IReadOnlyList<long> positions)
    {
        var grams = styles[0].Sums.Grams.Select(g => new double[g.Length]).ToArray();
        foreach (var (sums, weight) in styles)
        {
            for (var l = 0; l < grams.Length; l++)
            {
                var scale = weight / total * positions[l] / sums.Positions[l];
                for (var i = 0; i < grams[l].Length; i++)
                {
                    grams[l][i] += scale * sums.Grams[l][i];
                }
            }
        }

        return grams.Select(g => g.Select(v => (float)v).ToArray()).ToArray();
    }

    /// <summary>
    /// An image's Grams and positions per style layer as sums over non-overlapping pieces: a Gram sums over positions, so
    /// this is exact for one piece and differs only near the cuts, where a piece's features see the network's zero padding
    /// instead of the neighbouring pixels.
    /// </summary>
    private static GramSums SumGrams(TargetSessions sessions, ImageTensor image, int gramTile)
    {
        CheckImage(image, nameof(image));
        var pieces = Tiles.Partition(image.Height, image.Width, gramTile);
        double[][]? grams = null;
        long[]? positions = null;
        float[]? features = null;
        foreach (var piece in pieces)
        {
            var (content, pieceGrams) = sessions.Run(pieces.Count == 1 ? image : Tiles.Crop(image, piece));
            features = pieces.Count == 1 ? content : null;
            var piecePositions = sessions.Get(piece.Height, piece.Width).StylePositions;
            grams ??= pieceGrams.Select(g => new double[g.Length]).ToArray();
            positions ??= new long[pieceGrams.Length];
            for (var l = 0; l < grams.Length; l++)
            {
                positions[l] += piecePositions[l];
                for (var i = 0; i < grams[l].Length; i++)
                {
                    grams[l][i] += pieceGrams[l][i];
                }
            }

            GarbageBudget.Check();
        }

        return new GramSums(grams!, positions!, features);
    }

    private sealed record GramSums(double[][] Grams, long[] Positions, float[]? WholeFeatures);
}

/// <summary>
/// What <see cref="StyleEvaluator.ComputeTileTargets"/> gives: the stage's blended style Grams per position (per style
/// layer), and each tile's targets, computed lazily in the order of the tiles.
/// </summary>
public sealed record TileStageTargets(float[][] StylePerPosition, IEnumerable<StyleTargets> Tiles);
