using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Bench.Poster;

/// <summary>The mean step between neighbouring pixels across a set of lines, against the mean step everywhere else.</summary>
/// <param name="Across">Mean absolute difference (0..255, averaged over R, G, B) of the neighbours that straddle a line.</param>
/// <param name="Elsewhere">The same over every other pair of horizontal or vertical neighbours.</param>
/// <param name="Beside">The same over the pairs one pixel beside each line (on either side, in the same direction).</param>
public sealed record SeamRatio(double Across, double Elsewhere, double Beside)
{
    /// <summary><see cref="Across"/> / <see cref="Elsewhere"/>: 1 when the lines look like anywhere else, above 1 at a visible seam.</summary>
    public double Ratio => Of(Across, Elsewhere);

    /// <summary>
    /// <see cref="Across"/> / <see cref="Beside"/>: the same question asked of each line's own neighbourhood, so that a
    /// line that happens to cross a busy part of the picture (or a calm one) does not count as a seam (or hide one).
    /// </summary>
    public double LocalRatio => Of(Across, Beside);

    private static double Of(double a, double b) => b > 0 ? a / b : a > 0 ? double.PositiveInfinity : 1;
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

        double onSum = 0, offSum = 0, besideSum = 0;
        long onCount = 0, offCount = 0, besideCount = 0;
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
                        continue;
                    }

                    (offSum, offCount) = (offSum + d, offCount + 1);
                    if (across.Contains(x - 1) || across.Contains(x + 1))
                    {
                        (besideSum, besideCount) = (besideSum + d, besideCount + 1);
                    }
                }

                if (y == 0)
                {
                    continue;
                }

                var above = pixels.GetRowSpan(y - 1);
                var line = down.Contains(y);
                var beside = !line && (down.Contains(y - 1) || down.Contains(y + 1));
                for (var x = 0; x < width; x++)
                {
                    var d = Step(above[x], row[x]);
                    if (line)
                    {
                        (onSum, onCount) = (onSum + d, onCount + 1);
                        continue;
                    }

                    (offSum, offCount) = (offSum + d, offCount + 1);
                    if (beside)
                    {
                        (besideSum, besideCount) = (besideSum + d, besideCount + 1);
                    }
                }
            }
        });

        return new SeamRatio(Mean(onSum, onCount), Mean(offSum, offCount), Mean(besideSum, besideCount));
    }

    private static double Mean(double sum, long count) => count > 0 ? sum / count : 0;

    private static double Step(Rgb24 a, Rgb24 b) => (Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B)) / 3.0;
}
