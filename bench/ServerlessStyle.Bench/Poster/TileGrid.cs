using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Bench.Poster;

/// <summary>
/// Where the tiles of a tiled stage lie along one axis (the same rule across and down): as few tiles of at most
/// <c>tile</c> px as cover the stage with overlaps of at least <c>overlap</c> px, spread evenly so that the first starts
/// at 0 and the last ends at the stage's edge. A stage of at most one tile is one tile of its own size.
/// </summary>
public static class TileGrid
{
    /// <summary>The tiles' first pixels along an axis of <paramref name="length"/> px, in order; each tile is <c>min(tile, length)</c> px.</summary>
    public static IReadOnlyList<int> Starts(int length, int tile, int overlap)
    {
        if (length < 1)
        {
            throw new ArgumentException($"A tile grid needs length >= 1; got length {length}.");
        }

        // The run's own grid (one column, so its rows are the spans along this axis), so the seams measured are the
        // ones the tiling made.
        return [.. Tiles.Grid(length, 1, tile, overlap).Select(t => t.Top)];
    }

    /// <summary>The tiles' edges inside the axis (a tile's first pixel, or the pixel after its last), sorted, without 0 and <paramref name="length"/>.</summary>
    public static IReadOnlyList<int> Edges(int length, int tile, int overlap)
    {
        var starts = Starts(length, tile, overlap);
        var size = Math.Min(tile, length);
        return [.. starts.Skip(1).Concat(starts.SkipLast(1).Select(s => s + size)).Distinct().Order()];
    }

    /// <summary>The middle of each overlap (where a blend gives both tiles the same weight), sorted.</summary>
    public static IReadOnlyList<int> OverlapCentres(int length, int tile, int overlap)
    {
        var starts = Starts(length, tile, overlap);
        var size = Math.Min(tile, length);
        return [.. starts.Zip(starts.Skip(1), (a, b) => (b + a + size) / 2)];
    }
}
