using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Bench.Poster;

/// <summary>The mean step between neighbouring pixels across a set of lines, against the mean step everywhere else.</summary>
/// <param name="Across">Mean absolute difference (0..255, averaged over R, G, B) of the neighbours that straddle a line.</param>
/// <param name="Elsewhere">The same over every other pair of horizontal or vertical neighbours.</param>
public sealed record SeamRatio(double Across, double Elsewhere)
{
    /// <summary><see cref="Across"/> / <see cref="Elsewhere"/>: 1 when the lines look like anywhere else, above 1 at a visible seam.</summary>
    public double Ratio => Elsewhere > 0 ? Across / Elsewhere : Across > 0 ? double.PositiveInfinity : 1;
}

/// <summary>
/// How visible tile seams are in an assembled image: the mean absolute difference between neighbouring pixels across
/// tile borders, against the same measure elsewhere. A vertical line at x = b is the pixel pairs (b - 1, b) of every row;
/// a horizontal line at y = b the pairs (b - 1, b) of every column.
/// </summary>
public static class SeamMeasure
{
    /// <summary>The ratio for vertical lines at <paramref name="columns"/> and horizontal lines at <paramref name="rows"/>.</summary>
    public static SeamRatio Measure(Image<Rgb24> image, IReadOnlyCollection<int> columns, IReadOnlyCollection<int> rows)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = image.Width, height = image.Height;
        var across = new HashSet<int>(columns);
        var down = new HashSet<int>(rows);
        if (across.Any(b => b < 1 || b >= width) || down.Any(b => b < 1 || b >= height))
        {
            throw new ArgumentException($"Seam lines must lie inside the {width} x {height} image: columns 1..{width - 1}, rows 1..{height - 1}.");
        }

        double onSum = 0, offSum = 0;
        long onCount = 0, offCount = 0;
        image.ProcessPixelRows(pixels =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = pixels.GetRowSpan(y);
                for (var x = 1; x < width; x++)
                {
                    var d = Step(row[x - 1], row[x]);
                    if (across.Contains(x))
                    {
                        (onSum, onCount) = (onSum + d, onCount + 1);
                    }
                    else
                    {
                        (offSum, offCount) = (offSum + d, offCount + 1);
                    }
                }

                if (y == 0)
                {
                    continue;
                }

                var above = pixels.GetRowSpan(y - 1);
                var line = down.Contains(y);
                for (var x = 0; x < width; x++)
                {
                    var d = Step(above[x], row[x]);
                    if (line)
                    {
                        (onSum, onCount) = (onSum + d, onCount + 1);
                    }
                    else
                    {
                        (offSum, offCount) = (offSum + d, offCount + 1);
                    }
                }
            }
        });

        return new SeamRatio(onCount > 0 ? onSum / onCount : 0, offCount > 0 ? offSum / offCount : 0);
    }

    private static double Step(Rgb24 a, Rgb24 b) => (Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B)) / 3.0;
}
