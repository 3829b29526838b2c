using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Jobs;

/// <summary>
/// One (content, styles) combination that becomes one result image and one StylePair orchestration;
/// <see cref="Start"/> is set only on a later stage of a coarse-to-fine pair: where that stage begins;
/// <see cref="LastStageOf"/> only on its last stage: the pair's own id, whose folder gets that stage's final image too.
/// </summary>
public sealed record PairPlan(
    int Index, string PairId, string Content, IReadOnlyList<StyleInput> Styles, StageStart? Start = null, string? LastStageOf = null);

/// <summary>The pairs a valid request expands to.</summary>
public sealed record JobPlan(string JobId, IReadOnlyList<PairPlan> Pairs)
{
    /// <summary>Expands a valid request into pairs: content x style for "each", one per content for "blend".</summary>
    public static JobPlan Create(string jobId, JobRequest request)
    {
        var pairs = new List<PairPlan>();
        foreach (var content in request.Content)
        {
            if (request.StyleMode == StyleMode.Blend)
            {
                var index = pairs.Count;
                pairs.Add(new PairPlan(index, JobIds.PairId(index, JobIds.Stem(content)), content, request.Styles));
                continue;
            }

            foreach (var style in request.Styles)
            {
                var index = pairs.Count;
                var label = request.Content.Count == 1
                    ? JobIds.Stem(style.Blob)
                    : $"{JobIds.Stem(content)}-{JobIds.Stem(style.Blob)}";
                pairs.Add(new PairPlan(index, JobIds.PairId(index, label), content, [style]));
            }
        }

        return new JobPlan(jobId, pairs);
    }
}

/// <summary>Where a later coarse-to-fine stage begins: the previous stage's pair id and the checkpoint after its last chunk.</summary>
public sealed record StageStart(string PairId, int Chunk);

/// <summary>One stage of a pair: its output height and iterations.</summary>
public sealed record StagePlan(int Index, int Height, int Iterations);

/// <summary>The coarse-to-fine stages of a request (docs/artistic-controls.md).</summary>
public static class Stages
{
    /// <summary>The stages; a request without <see cref="JobRequest.Scales"/> has none (the pair runs as one chain).</summary>
    public static IReadOnlyList<StagePlan> Of(JobRequest request) =>
        request.Scales is not { } scales
            ? []
            : scales.Select((height, k) => new StagePlan(k, height, request.StageIterations?[k] ?? request.Iterations)).ToArray();

    /// <summary>A stage's blobs live in a folder of the pair: results/{job}/{pair}/stage-{k}-{height}/..., the same under work/.</summary>
    public static string PairId(string pairId, StagePlan stage) => $"{pairId}/stage-{stage.Index}-{stage.Height}";

    /// <summary>
    /// A stage's pair (its blob folder, its start, the pair it ends when it is the last) and request (its height and
    /// iterations, no further stages).
    /// </summary>
    public static (PairPlan Pair, JobRequest Request) Of(PairPlan pair, JobRequest request, StagePlan stage, StageStart? start) =>
        (pair with { PairId = PairId(pair.PairId, stage), Start = start, LastStageOf = stage.Index == Of(request).Count - 1 ? pair.PairId : null },
         request with { Height = stage.Height, Iterations = stage.Iterations, Scales = null, StageIterations = null });
}

/// <summary>The tiling of a request's stages (docs/contracts.md, "Tiled stages").</summary>
public static class Tiling
{
    /// <summary>The overlap a request asks for, or its default: an eighth of the tile.</summary>
    public static int Overlap(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.TileOverlap ?? (request.Tile / 8);
    }

    /// <summary>
    /// Whether a stage of <paramref name="height"/> x <paramref name="width"/> runs as tiles: when the request tiles, the
    /// last stage always does (a stage within one tile is one tile), an earlier one only when larger than a tile.
    /// </summary>
    public static bool IsTiled(JobRequest request, int height, int width, bool earlierStage)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Tile > 0 && (!earlierStage || height > request.Tile || width > request.Tile);
    }

    /// <summary>
    /// The px a tile is optimised with beyond its rectangle on each side (a halo; at the image's edge the halo goes
    /// to the inner side, so every tile of a stage has one size): the network's zero padding distorts a tile's gradient
    /// within about 4 px of its edges, and the halo's pixels take that distortion and are dropped at the blend
    /// (docs/contracts.md, "Tiled stages").
    /// </summary>
    public const int Halo = 8;

    /// <summary>The tiles of a stage, row by row: the rectangles blended.</summary>
    public static IReadOnlyList<TileRect> Grid(JobRequest request, int height, int width) =>
        Tiles.Grid(height, width, request.Tile, Overlap(request));

    /// <summary>The rectangles the tiles of <paramref name="grid"/> are optimised on: each grown by <paramref name="halo"/> px a side within the image (<see cref="Tiles.Grow"/>).</summary>
    public static IReadOnlyList<TileRect> Optimised(IReadOnlyList<TileRect> grid, int halo, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(grid);
        return grid.Select(r => Tiles.Grow(r, halo, height, width)).ToArray();
    }

    /// <summary>
    /// The piece size whole-image Grams are summed over: the tile, but at least 64 px, so that every piece of a cut
    /// keeps at least 32 px a side (VGG19's deepest style layer needs 32).
    /// </summary>
    public static int GramTile(JobRequest request) => Math.Max(request.Tile, 64);
}
