using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Bench.Judge;

/// <summary>How close a result is to the painting and to the photo, by statistics of the pixels that no network computed.</summary>
/// <param name="Colour">Sliced Wasserstein-1 distance of the result's and the painting's RGB distributions, in 0..255 units; lower is closer.</param>
/// <param name="Texture">Distance of gradient orientation and magnitude histograms at three scales, 0..1; lower is closer.</param>
/// <param name="ContentSsim">SSIM of the result's and the photo's luminance at a quarter of the size, -1..1; higher keeps more of the photo.</param>
public sealed record Judgement(double Colour, double Texture, double ContentSsim);

/// <summary>
/// The network-free judge of docs/networks-and-imaging.md. Colour: a painting's palette is its distribution of RGB
/// values, whatever their places; the sliced Wasserstein distance compares two such distributions exactly along
/// each of 64 fixed directions. Texture: brush strokes show as how strong the edges are and which way they run; the
/// histograms of gradient magnitude and orientation (as in HOG) at 1, 1/2 and 1/4 of the size compare strokes of
/// several widths without caring where they are. Content: the photo's layout is what survives a 4x downscale, where
/// the strokes average out; SSIM (Wang et al. 2004, 7x7 window, K1 0.01, K2 0.03) compares that layout.
/// </summary>
public static class ImageStatistics
{
    private const int Directions = 64;
    private const int Quantiles = 256;
    private const int OrientationBins = 12;

    // Edges in 0..255 luminance units per pixel: flat paper below 2, brush strokes 8..64, hard outlines above.
    private static readonly double[] MagnitudeEdges = [2, 4, 8, 16, 32, 64, 128];

    public static Judgement Judge(Image<Rgb24> result, Image<Rgb24> painting, Image<Rgb24> photo)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(painting);
        ArgumentNullException.ThrowIfNull(photo);
        return new(ColourDistance(result, painting), TextureDistance(result, painting), ContentSsim(result, photo));
    }

    /// <summary>Mean over 64 fixed unit directions of the 1-D Wasserstein-1 distance of the projected pixels (256 quantiles).</summary>
    public static double ColourDistance(Image<Rgb24> a, Image<Rgb24> b)
    {
        var pa = Pixels(a);
        var pb = Pixels(b);
        var random = new Random(2021);
        var total = 0.0;
        for (var d = 0; d < Directions; d++)
        {
            // Gaussian components give directions uniform on the sphere.
            var (x, y, z) = (Gaussian(random), Gaussian(random), Gaussian(random));
            var norm = Math.Sqrt((x * x) + (y * y) + (z * z));
            var qa = Quantile(Project(pa, x / norm, y / norm, z / norm));
            var qb = Quantile(Project(pb, x / norm, y / norm, z / norm));
            total += qa.Zip(qb, (u, v) => Math.Abs(u - v)).Average();
        }

        return total / Directions;
    }

    /// <summary>Mean over scales 1, 1/2, 1/4 of the average of the orientation and magnitude histograms' total variation distances.</summary>
    public static double TextureDistance(Image<Rgb24> a, Image<Rgb24> b)
    {
        var la = Luminance(a);
        var lb = Luminance(b);
        var total = 0.0;
        for (var scale = 0; scale < 3; scale++)
        {
            var (oa, ma) = GradientHistograms(la);
            var (ob, mb) = GradientHistograms(lb);
            total += (TotalVariation(oa, ob) + TotalVariation(ma, mb)) / 2;
            la = Downscale(la, 2);
            lb = Downscale(lb, 2);
        }

        return total / 3;
    }

    /// <summary>Mean SSIM of the 4x box-downscaled luminances (sizes must match).</summary>
    public static double ContentSsim(Image<Rgb24> a, Image<Rgb24> b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
        {
            throw new ArgumentException($"SSIM needs equal sizes; got {a.Width}x{a.Height} and {b.Width}x{b.Height}.", nameof(b));
        }

        return Ssim(Downscale(Luminance(a), 4), Downscale(Luminance(b), 4));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double[][] Pixels(Image<Rgb24> image)
    {
        var pixels = new double[image.Width * image.Height][];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    pixels[(y * row.Length) + x] = [row[x].R, row[x].G, row[x].B];
                }
            }
        });
        return pixels;
    }

    private static double[] Project(double[][] pixels, double x, double y, double z) =>
        pixels.Select(p => (p[0] * x) + (p[1] * y) + (p[2] * z)).ToArray();

    /// <summary>Values at the midpoints of 256 equal probability steps, so images of different sizes compare.</summary>
    private static double[] Quantile(double[] values)
    {
        Array.Sort(values);
        var q = new double[Quantiles];
        for (var i = 0; i < Quantiles; i++)
        {
            var position = ((i + 0.5) / Quantiles * values.Length) - 0.5;
            var lower = Math.Clamp((int)Math.Floor(position), 0, values.Length - 1);
            var upper = Math.Min(lower + 1, values.Length - 1);
            var t = Math.Clamp(position - lower, 0, 1);
            q[i] = (values[lower] * (1 - t)) + (values[upper] * t);
        }

        return q;
    }

    /// <summary>Rec. 601 luma, 0..255.</summary>
    private static double[,] Luminance(Image<Rgb24> image)
    {
        var l = new double[image.Height, image.Width];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    l[y, x] = (0.299 * row[x].R) + (0.587 * row[x].G) + (0.114 * row[x].B);
                }
            }
        });
        return l;
    }

    private static double[,] Downscale(double[,] l, int factor)
    {
        int h = l.GetLength(0) / factor, w = l.GetLength(1) / factor;
        var d = new double[h, w];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var sum = 0.0;
                for (var i = 0; i < factor; i++)
                {
                    for (var j = 0; j < factor; j++)
                    {
                        sum += l[(y * factor) + i, (x * factor) + j];
                    }
                }

                d[y, x] = sum / (factor * factor);
            }
        }

        return d;
    }

    /// <summary>Central-difference gradients of the interior; orientation in [0, pi) weighted by magnitude, magnitude in log2 bins.</summary>
    private static (double[] Orientation, double[] Magnitude) GradientHistograms(double[,] l)
    {
        int h = l.GetLength(0), w = l.GetLength(1);
        var orientation = new double[OrientationBins];
        var magnitude = new double[MagnitudeEdges.Length + 1];
        for (var y = 1; y < h - 1; y++)
        {
            for (var x = 1; x < w - 1; x++)
            {
                var gx = (l[y, x + 1] - l[y, x - 1]) / 2;
                var gy = (l[y + 1, x] - l[y - 1, x]) / 2;
                var m = Math.Sqrt((gx * gx) + (gy * gy));
                var bin = Array.FindIndex(MagnitudeEdges, e => m < e);
                magnitude[bin < 0 ? MagnitudeEdges.Length : bin]++;
                var angle = Math.Atan2(gy, gx);
                angle = angle < 0 ? angle + Math.PI : angle;
                orientation[Math.Min((int)(angle / Math.PI * OrientationBins), OrientationBins - 1)] += m;
            }
        }

        return (Normalise(orientation), Normalise(magnitude));
    }

    private static double[] Normalise(double[] histogram)
    {
        var sum = histogram.Sum();
        return sum > 0 ? histogram.Select(v => v / sum).ToArray() : histogram;
    }

    private static double TotalVariation(double[] p, double[] q) => p.Zip(q, (a, b) => Math.Abs(a - b)).Sum() / 2;

    private static double Ssim(double[,] a, double[,] b)
    {
        const int Window = 7;
        const double C1 = 0.01 * 255 * 0.01 * 255, C2 = 0.03 * 255 * 0.03 * 255;
        int h = a.GetLength(0), w = a.GetLength(1);
        if (h < Window || w < Window)
        {
            throw new ArgumentException($"SSIM needs at least {Window}x{Window} after the 4x downscale; got {w}x{h}.", nameof(a));
        }

        var total = 0.0;
        var count = 0;
        const int N = Window * Window;
        for (var y = 0; y + Window <= h; y++)
        {
            for (var x = 0; x + Window <= w; x++)
            {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (var i = 0; i < Window; i++)
                {
                    for (var j = 0; j < Window; j++)
                    {
                        double u = a[y + i, x + j], v = b[y + i, x + j];
                        sa += u;
                        sb += v;
                        saa += u * u;
                        sbb += v * v;
                        sab += u * v;
                    }
                }

                double ma = sa / N, mb = sb / N;

                // Sample (co)variances, as scikit-image's structural_similarity.
                double va = (saa - (N * ma * ma)) / (N - 1), vb = (sbb - (N * mb * mb)) / (N - 1), cov = (sab - (N * ma * mb)) / (N - 1);
                total += ((2 * ma * mb) + C1) * ((2 * cov) + C2) / (((ma * ma) + (mb * mb) + C1) * (va + vb + C2));
                count++;
            }
        }

        return total / count;
    }
}
