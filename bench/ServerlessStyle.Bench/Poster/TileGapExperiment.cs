using System.Runtime.InteropServices;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Bench.Poster;

/// <summary>What a tile's style term asks of the tile (docs/artistic-controls.md, "What the gap is made of").</summary>
public enum TileStyleTerm
{
    /// <summary>As the tiled stages run: the style's Gram rescaled to the tile's positions, weights times its pixel share.</summary>
    Tile,

    /// <summary>
    /// The tile changes its own Gram by its share of the whole image's residual at the iteration's start:
    /// target <c>G_t(x0) + rho (G_s - G_whole(x0))</c>, weights as <see cref="Tile"/>. Its gradient at x0 is the untiled
    /// one (but for padding near the tile's edges), and the tiles' target changes add up to the whole residual.
    /// </summary>
    Shared,

    /// <summary>
    /// Block coordinate: the whole image's Gram with the rest of the image held at the iteration's start,
    /// target <c>G_s - (G_whole(x0) - G_t(x0))</c>, denominator the stage's (weights times the share squared). Its
    /// gradient at x0 is the untiled one too, but every tile tries to close the whole residual at once.
    /// </summary>
    Block,
}

/// <summary>One band of pixels at a distance from the nearest inner tile edge: how far the tiles' gradients are from the untiled one.</summary>
/// <param name="From">Distance in px from the nearest edge shared with another tile (inclusive).</param>
/// <param name="To">Upper end (exclusive); int.MaxValue for the cores.</param>
/// <param name="Pixels">Tile pixels in the band, summed over the tiles (an overlap pixel counts once per tile).</param>
/// <param name="RelativeError">|g_tile - g_untiled| / |g_untiled| over the band.</param>
/// <param name="Cosine">The cosine between the two over the band.</param>
public sealed record GradientBand(int From, int To, long Pixels, double RelativeError, double Cosine);

/// <summary>
/// The tiled stage's optimisation in one process, without the durable pipeline: the same grid, tile targets, L-BFGS
/// state rule (kept while the crop is the tile's own iterate, else <see cref="OptimizerState.MoveTo"/>) and blend as
/// TiledStageWork, with the tile's style term, the halo around each tile and the restart rule as the variables to
/// separate the causes of the tiled result's higher loss under the untiled objective.
/// </summary>
public sealed class TileGapExperiment
{
    private static readonly int[] BandEdges = [0, 4, 16, 32, int.MaxValue];

    private readonly StyleEvaluator _evaluator;
    private readonly LossNetwork _network;
    private readonly LossWeights _weights;
    private readonly ImageTensor _content;
    private readonly ImageTensor _style;
    private float[][]? _stylePerPosition;

    public TileGapExperiment(StyleEvaluator evaluator, LossNetwork network, LossWeights weights, ImageTensor content, ImageTensor style)
    {
        (_evaluator, _network, _weights, _content, _style) = (evaluator, network, weights, content, style);
        Stage = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
    }

    /// <summary>The untiled stage's targets: the objective every result is scored by.</summary>
    public StyleTargets Stage { get; }

    /// <summary>The untiled objective's terms at <paramref name="image"/>; as saved (8-bit, clipped) when <paramref name="saved"/>.</summary>
    public LossTerms Score(ImageTensor image, bool saved)
    {
        var x = image;
        if (saved)
        {
            using var pixels = ImageWriter.ToImage(image);
            x = ImageLoader.ToTensor(pixels);
        }

        return _evaluator.Evaluate(_network, Stage, _weights, x.Data, new float[x.Length]);
    }

    /// <summary>The untiled stage: <paramref name="iterations"/> chunks of <paramref name="evaluations"/> from the content.</summary>
    public async Task<ImageTensor> RunUntiledAsync(int iterations, int evaluations, bool restart, CancellationToken cancellationToken)
    {
        var state = OptimizerState.Create(new OptimizerSettings(RestartEachIteration: restart), _content.Data);
        var objective = StyleObjective.Create(_evaluator, _network, Stage, _weights);
        for (var i = 0; i < iterations; i++)
        {
            await ChunkRunner.RunChunkAsync(state, objective, evaluations, cancellationToken);
        }

        return new ImageTensor(_content.Height, _content.Width, state.X.ToArray());
    }

    /// <summary>
    /// The tiled stage from the content: per iteration each tile (grown by <paramref name="halo"/> px on its inner sides,
    /// pixels that are optimised with it but not blended) runs its chunk from its crop of the last blended image.
    /// </summary>
    public async Task<ImageTensor> RunTiledAsync(
        int tile, int overlap, int halo, TileStyleTerm term, int iterations, int evaluations, bool restart, CancellationToken cancellationToken)
    {
        var (height, width) = (_content.Height, _content.Width);
        var grid = Tiles.Grid(height, width, tile, overlap);
        var grown = grid.Select(r => Grow(r, halo, height, width)).ToArray();
        var fixedTargets = _evaluator.ComputeTileTargets(_network, _content, [(_style, 1.0)], grown, Math.Max(tile, 64)).Tiles.ToArray();
        var states = new OptimizerState?[grid.Count];
        var image = _content;
        for (var i = 0; i < iterations; i++)
        {
            var whole = WholeGrams(term, image);
            var ends = new List<(TileRect, ImageTensor)>(grid.Count);
            for (var t = 0; t < grid.Count; t++)
            {
                var crop = Tiles.Crop(image, grown[t]);
                var targets = TargetsAt(term, fixedTargets[t], grown[t], image, whole);
                var state = states[t];
                if (state is null)
                {
                    state = OptimizerState.Create(new OptimizerSettings(RestartEachIteration: restart), crop.Data);
                    states[t] = state;
                }
                else if (term != TileStyleTerm.Tile || !MemoryMarshal.AsBytes(state.X.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(crop.Data.AsSpan())))
                {
                    // As TiledStageWork: a crop that is not the tile's own iterate (or an objective that changed) is a
                    // new point; the memory is kept, the unfinished line search dropped.
                    state.MoveTo(crop.Data);
                }

                await ChunkRunner.RunChunkAsync(state, StyleObjective.Create(_evaluator, _network, targets, _weights), evaluations, cancellationToken);
                var end = new ImageTensor(crop.Height, crop.Width, state.X.ToArray());
                var core = grid[t];
                ends.Add((core, Tiles.Crop(end, new TileRect(core.Top - grown[t].Top, core.Left - grown[t].Left, core.Height, core.Width))));
            }

            image = Tiles.Assemble(height, width, ends);
        }

        return image;
    }

    /// <summary>
    /// At <paramref name="at"/>, each tile's gradient (its crop, its targets for <paramref name="term"/> with the
    /// iteration starting at <paramref name="at"/>) against the untiled gradient on the same pixels, by distance from
    /// the tile's nearest edge that another tile shares (the image's own edges pad the same way untiled). With
    /// <paramref name="styleOnly"/> only the style term counts on both sides.
    /// </summary>
    public IReadOnlyList<GradientBand> CompareGradients(ImageTensor at, int tile, int overlap, TileStyleTerm term, bool styleOnly)
    {
        var (height, width) = (at.Height, at.Width);
        var weights = styleOnly ? new LossWeights(0, _weights.Style, 0) : _weights;
        var untiled = new float[at.Length];
        _evaluator.Evaluate(_network, Stage, weights, at.Data, untiled);
        var grid = Tiles.Grid(height, width, tile, overlap);
        var fixedTargets = _evaluator.ComputeTileTargets(_network, _content, [(_style, 1.0)], grid, Math.Max(tile, 64)).Tiles.ToArray();
        var whole = WholeGrams(term, at);
        var bands = BandEdges.Length - 1;
        var (error, norm, dot, own, pixels) = (new double[bands], new double[bands], new double[bands], new double[bands], new long[bands]);
        for (var t = 0; t < grid.Count; t++)
        {
            var rect = grid[t];
            var crop = Tiles.Crop(at, rect);
            var gradient = new float[crop.Length];
            _evaluator.Evaluate(_network, TargetsAt(term, fixedTargets[t], rect, at, whole), weights, crop.Data, gradient);
            var (tilePlane, plane) = (rect.Height * rect.Width, height * width);
            for (var y = 0; y < rect.Height; y++)
            {
                for (var x = 0; x < rect.Width; x++)
                {
                    var distance = int.MaxValue;
                    if (rect.Top > 0) distance = Math.Min(distance, y);
                    if (rect.Top + rect.Height < height) distance = Math.Min(distance, rect.Height - 1 - y);
                    if (rect.Left > 0) distance = Math.Min(distance, x);
                    if (rect.Left + rect.Width < width) distance = Math.Min(distance, rect.Width - 1 - x);
                    var band = 0;
                    while (band < bands - 1 && distance >= BandEdges[band + 1])
                    {
                        band++;
                    }

                    pixels[band]++;
                    for (var c = 0; c < 3; c++)
                    {
                        double a = gradient[(c * tilePlane) + (y * rect.Width) + x];
                        double b = untiled[(c * plane) + ((rect.Top + y) * width) + rect.Left + x];
                        error[band] += (a - b) * (a - b);
                        norm[band] += b * b;
                        dot[band] += a * b;
                        own[band] += a * a;
                    }
                }
            }
        }

        return [.. Enumerable.Range(0, bands).Where(b => pixels[b] > 0).Select(b => new GradientBand(
            BandEdges[b], BandEdges[b + 1], pixels[b], Math.Sqrt(error[b] / norm[b]), dot[b] / Math.Sqrt(norm[b] * own[b])))];
    }

    /// <summary>A tile's targets for <paramref name="term"/> when its iteration starts from <paramref name="at"/> (the whole image).</summary>
    private StyleTargets TargetsAt(TileStyleTerm term, StyleTargets tileTargets, TileRect rect, ImageTensor at, float[][]? whole)
    {
        if (term == TileStyleTerm.Tile)
        {
            return tileTargets;
        }

        var crop = Tiles.Crop(at, rect);
        ArgumentNullException.ThrowIfNull(whole);
        if (term == TileStyleTerm.Shared)
        {
            // What TiledStageWork runs: the residual per position, exact here (one piece), shared by the tile's positions.
            _stylePerPosition ??= _evaluator.ComputeTileTargets(
                _network, _content, [(_style, 1.0)], [new TileRect(0, 0, at.Height, at.Width)], Math.Max(at.Height, at.Width)).StylePerPosition;
            var residual = whole.Select((g, l) => g.Select((v, i) => _stylePerPosition[l][i] - v).ToArray()).ToArray();
            return _evaluator.ShareStyleResidual(_network, tileTargets, crop, residual);
        }

        var own = GramsOf(crop);
        var grams = new float[own.Length][];
        var share = (double)rect.Pixels / ((long)at.Height * at.Width);
        var weights = Stage.StyleLayerWeights.Select(w => w * share * share).ToArray();
        for (var l = 0; l < own.Length; l++)
        {
            grams[l] = new float[own[l].Length];
            for (var i = 0; i < own[l].Length; i++)
            {
                grams[l][i] = (float)((double)Stage.Grams[l][i] - whole[l][i] + own[l][i]);
            }
        }

        return new StyleTargets
        {
            NetworkName = tileTargets.NetworkName,
            Height = tileTargets.Height,
            Width = tileTargets.Width,
            ContentFeatures = tileTargets.ContentFeatures,
            Grams = grams,
            StyleLayerWeights = weights,
        };
    }

    /// <summary>The whole image's Grams a term needs: per position for <see cref="TileStyleTerm.Shared"/>, as they are for <see cref="TileStyleTerm.Block"/>.</summary>
    private float[][]? WholeGrams(TileStyleTerm term, ImageTensor image) => term switch
    {
        TileStyleTerm.Shared => _evaluator.GramsPerPosition(_network, image, Math.Max(image.Height, image.Width)),
        TileStyleTerm.Block => GramsOf(image),
        _ => null,
    };

    /// <summary>An image's own Grams (the style Grams of the image against itself: scale exactly 1).</summary>
    private float[][] GramsOf(ImageTensor image) => [.. _evaluator.ComputeTargets(_network, image, [(image, 1.0)]).Grams];

    private static TileRect Grow(TileRect rect, int halo, int height, int width)
    {
        var top = Math.Max(0, rect.Top - halo);
        var left = Math.Max(0, rect.Left - halo);
        var bottom = Math.Min(height, rect.Top + rect.Height + halo);
        var right = Math.Min(width, rect.Left + rect.Width + halo);
        return new TileRect(top, left, bottom - top, right - left);
    }
}
