namespace ServerlessStyle.Core.Imaging;

/// <summary>A rectangle of an image: its top-left pixel and its size.</summary>
public readonly record struct TileRect(int Top, int Left, int Height, int Width)
{
    public long Pixels => (long)Height * Width;
}

/// <summary>
/// Splits a stage into overlapping tiles and puts them back together: the tile grid of a poster (docs/contracts.md,
/// "Tiled stages"). Pure functions over <see cref="ImageTensor"/>s in the optimiser's space.
/// </summary>
public static class Tiles
{
    /// <summary>
    /// The tiles of a <paramref name="height"/> x <paramref name="width"/> image, row by row: at most
    /// <paramref name="tile"/> px a side, neighbours overlapping by at least <paramref name="overlap"/> px. Along a side
    /// that fits in one tile there is one span covering it; a longer side gets the fewest spans of exactly
    /// <paramref name="tile"/> px that overlap enough, spread evenly from edge to edge.
    /// </summary>
    public static IReadOnlyList<TileRect> Grid(int height, int width, int tile, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        if (2 * overlap >= tile)
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), $"An overlap of {overlap} px must be less than half the tile ({tile} px).");
        }

        var rows = Spans(height, tile, overlap);
        var columns = Spans(width, tile, overlap);
        return rows.SelectMany(r => columns.Select(c => new TileRect(r.Start, c.Start, r.Length, c.Length))).ToArray();
    }

    /// <summary>
    /// Non-overlapping tiles of at most <paramref name="tile"/> px a side that cover the image exactly once, their
    /// sides differing by at most a pixel (what a sum over pixels, such as a Gram matrix, can be split into).
    /// </summary>
    public static IReadOnlyList<TileRect> Partition(int height, int width, int tile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 1);
        var rows = Cuts(height, tile);
        var columns = Cuts(width, tile);
        return rows.SelectMany(r => columns.Select(c => new TileRect(r.Start, c.Start, r.Length, c.Length))).ToArray();
    }

    /// <summary>
    /// <paramref name="rect"/> grown by 2 x <paramref name="by"/> px along each axis, as far as the
    /// <paramref name="height"/> x <paramref name="width"/> image allows: by <paramref name="by"/> on each side, or all
    /// of it on the inner side where the rectangle touches the image's edge. Rectangles of one size grow to one size, so
    /// the tiles of a grid keep sharing one compiled graph.
    /// </summary>
    public static TileRect Grow(TileRect rect, int by, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(by);
        var (top, rows) = GrowSpan(rect.Top, rect.Height, by, height);
        var (left, columns) = GrowSpan(rect.Left, rect.Width, by, width);
        return new TileRect(top, left, rows, columns);
    }

    /// <summary>A copy of the pixels of <paramref name="rect"/>.</summary>
    public static ImageTensor Crop(ImageTensor image, TileRect rect)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (rect.Top < 0 || rect.Left < 0 || rect.Height < 1 || rect.Width < 1 || rect.Top + rect.Height > image.Height || rect.Left + rect.Width > image.Width)
        {
            throw new ArgumentOutOfRangeException(nameof(rect), $"Tile {rect} is not inside the {image.Height}x{image.Width} image.");
        }

        var data = new float[3 * rect.Height * rect.Width];
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < rect.Height; y++)
            {
                image.Data.AsSpan(((c * image.Height) + rect.Top + y) * image.Width + rect.Left, rect.Width)
                    .CopyTo(data.AsSpan(((c * rect.Height) + y) * rect.Width, rect.Width));
            }
        }

        return new ImageTensor(rect.Height, rect.Width, data);
    }

    /// <summary>
    /// The whole image from its tiles (each <see cref="ImageTensor"/> the size of its rectangle), as
    /// <see cref="TileBlender"/> blends them.
    /// </summary>
    public static ImageTensor Assemble(int height, int width, IReadOnlyList<(TileRect Rect, ImageTensor Image)> tiles)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        var blender = new TileBlender(height, width, tiles.Select(t => t.Rect).ToArray());
        for (var t = 0; t < tiles.Count; t++)
        {
            blender.Add(t, tiles[t].Image);
        }

        return blender.Blend();
    }

    private static (int Start, int Length) GrowSpan(int start, int length, int by, int side)
    {
        var grown = Math.Min(length + (2 * by), side);
        return (Math.Clamp(start - by, 0, side - grown), grown);
    }

    /// <summary>
    /// A tile's weight along one axis: 1 inside, ramping down to near 0 across each overlap with a neighbouring span
    /// (never 0, so every covered pixel has weight); no ramp at the image's own edges.
    /// </summary>
    internal static float[] Ramp(int start, int length, IEnumerable<(int Start, int Length)> spans)
    {
        var end = start + length;
        var before = 0;
        var after = 0;
        foreach (var (s, l) in spans.Distinct())
        {
            if (s < start && s + l > start)
            {
                before = Math.Max(before, s + l - start);
            }

            if (s > start && s < end)
            {
                after = Math.Max(after, end - s);
            }
        }

        var weights = new float[length];
        for (var p = 0; p < length; p++)
        {
            var w = 1.0f;
            if (p < before)
            {
                w = Math.Min(w, (p + 1f) / (before + 1f));
            }

            if (p >= length - after)
            {
                w = Math.Min(w, (length - p) / (after + 1f));
            }

            weights[p] = w;
        }

        return weights;
    }

    private static List<(int Start, int Length)> Spans(int size, int tile, int overlap)
    {
        if (size <= tile)
        {
            return [(0, size)];
        }

        var count = (int)Math.Ceiling((double)(size - overlap) / (tile - overlap));
        count = Math.Max(count, 2);
        var spans = new List<(int, int)>(count);
        for (var k = 0; k < count; k++)
        {
            // Evenly spread from 0 to size - tile; integer arithmetic, so the grid is the same on every machine.
            spans.Add(((int)((long)k * (size - tile) / (count - 1)), tile));
        }

        return spans;
    }

    private static List<(int Start, int Length)> Cuts(int size, int tile)
    {
        var count = (size + tile - 1) / tile;
        var cuts = new List<(int, int)>(count);
        for (var k = 0; k < count; k++)
        {
            var start = (int)((long)k * size / count);
            cuts.Add((start, (int)((long)(k + 1) * size / count) - start));
        }

        return cuts;
    }
}

/// <summary>
/// Blends the tiles of a grid into the whole image, one tile at a time (so a caller holds one tile's pixels, not all
/// of them): a pixel that one tile covers is that tile's value, copied; where tiles overlap, their values are blended
/// with feathered weights that ramp linearly across each tile's overlap with a neighbour, so no seam is a step.
/// </summary>
public sealed class TileBlender
{
    private readonly int _height;
    private readonly int _width;
    private readonly IReadOnlyList<TileRect> _rects;
    private readonly (float[] Rows, float[] Columns)[] _ramps;
    private readonly float[] _data;
    private float[] _weights;
    private float[] _delta;
    private bool[] _seen;
    private readonly bool[] _added;
    private bool _blended;

    public TileBlender(int height, int width, IReadOnlyList<TileRect> rects)
    {
        ArgumentNullException.ThrowIfNull(rects);
        (_height, _width, _rects) = (height, width, rects);
        _ramps = new (float[], float[])[rects.Count];
        _weights = new float[height * width];
        _data = new float[3 * height * width];
        _delta = new float[3 * height * width];
        _seen = new bool[height * width];
        _added = new bool[rects.Count];
        for (var t = 0; t < rects.Count; t++)
        {
            var rect = rects[t];
            if (rect.Top < 0 || rect.Left < 0 || rect.Height < 1 || rect.Width < 1 || rect.Top + rect.Height > height || rect.Left + rect.Width > width)
            {
                throw new ArgumentException($"Tile {rect} is not inside the {height}x{width} image.", nameof(rects));
            }

            _ramps[t] = (Tiles.Ramp(rect.Top, rect.Height, rects.Select(r => (r.Top, r.Height))), Tiles.Ramp(rect.Left, rect.Width, rects.Select(r => (r.Left, r.Width))));
            for (var y = 0; y < rect.Height; y++)
            {
                for (var x = 0; x < rect.Width; x++)
                {
                    var pixel = ((rect.Top + y) * width) + rect.Left + x;
                    _weights[pixel] += _ramps[t].Rows[y] * _ramps[t].Columns[x];
                }
            }
        }

        // Every ramp weight is above 0, so a pixel of weight 0 is in no tile.
        var hole = Array.IndexOf(_weights, 0f);
        if (hole >= 0)
        {
            throw new ArgumentException($"Pixel ({hole / width}, {hole % width}) of the {height}x{width} image is in no tile.", nameof(rects));
        }
    }

    /// <summary>Adds tile <paramref name="index"/>'s pixels; each tile once.</summary>
    public void Add(int index, ImageTensor tile)
    {
        ArgumentNullException.ThrowIfNull(tile);
        var rect = _rects[index];
        if (tile.Height != rect.Height || tile.Width != rect.Width || tile.Data.Length != tile.Length)
        {
            throw new ArgumentException($"Tile {index} is {tile.Height}x{tile.Width}; its rectangle {rect} needs {rect.Height}x{rect.Width}.", nameof(tile));
        }

        if (_added[index])
        {
            throw new InvalidOperationException($"Tile {index} was added already.");
        }

        _added[index] = true;
        var plane = _height * _width;
        var (rows, columns) = _ramps[index];
        for (var y = 0; y < rect.Height; y++)
        {
            for (var x = 0; x < rect.Width; x++)
            {
                var pixel = ((rect.Top + y) * _width) + rect.Left + x;
                var weight = rows[y] * columns[x] / _weights[pixel];
                var first = !_seen[pixel];
                _seen[pixel] = true;
                for (var c = 0; c < 3; c++)
                {
                    // The first tile's value, plus each later tile's weighted difference from it: the weighted mean, and
                    // exactly the value where the tiles agree (a lone tile's pixel is copied, never value * w / w).
                    var value = tile.Data[(((c * rect.Height) + y) * rect.Width) + x];
                    var at = (c * plane) + pixel;
                    if (first)
                    {
                        _data[at] = value;
                    }
                    else
                    {
                        _delta[at] += weight * (value - _data[at]);
                    }
                }
            }
        }
    }

    /// <summary>The blended image, once every tile was added; the blender is spent after it (the image reuses its memory).</summary>
    public ImageTensor Blend()
    {
        var missing = Array.IndexOf(_added, false);
        if (missing >= 0)
        {
            throw new InvalidOperationException($"Tile {missing} of {_added.Length} was not added.");
        }

        if (_blended)
        {
            throw new InvalidOperationException("The tiles were blended already.");
        }

        _blended = true;
        for (var i = 0; i < _data.Length; i++)
        {
            // Not + 0 where nothing was added: that would turn a -0 into +0.
            if (_delta[i] != 0)
            {
                _data[i] += _delta[i];
            }
        }

        // The caller keeps the blender while it writes the image: only the image's own memory need stay.
        (_weights, _delta, _seen) = ([], [], []);

        return new ImageTensor(_height, _width, _data);
    }
}
