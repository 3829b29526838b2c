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
    /// whole. A tile that covers the whole image gets exactly <see cref="ComputeTargets"/>' targets. Lazy: one tile's
    /// targets at a time.
    /// </summary>
    public IEnumerable<StyleTargets> ComputeTileTargets(
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

        return TileTargets(network, content, styles, tiles, gramTile);
    }

    private IEnumerable<StyleTargets> TileTargets(
        LossNetwork network, ImageTensor content, IReadOnlyList<(ImageTensor Image, double Weight)> styles, IReadOnlyList<TileRect> tiles, int gramTile)
    {
        using var sessions = new TargetSessions(this, network);
        var total = styles.Sum(s => s.Weight);
        var styleSums = styles.Select(s => (Sums: SumGrams(sessions, s.Image, gramTile), s.Weight)).ToArray();
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
