using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Cli.Samples;

/// <summary>
/// The content and style pictures <c>run</c> uses when none are given, drawn here pixel by pixel so the README's
/// command needs no download and the pictures may be committed. Both are deterministic: the same bytes every run, so
/// two runs of the same request can be compared bit for bit.
/// </summary>
public static class SamplePictures
{
    public const string ContentFileName = "sample-landscape.png";

    public const string StyleFileName = "sample-swirls.png";

    /// <summary>A small landscape: sky gradient, sun, two rows of hills and a house with a red roof (384x256).</summary>
    public static Image<Rgb24> Landscape()
    {
        const int width = 384, height = 256;
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    row[x] = LandscapePixel(x, y, width, height);
                }
            }
        });
        return image;
    }

    /// <summary>Colourful swirling brush strokes: a flow field of short curved strokes over a warm-cool wash (256x256).</summary>
    public static Image<Rgb24> Swirls()
    {
        const int size = 256;
        var canvas = new float[size, size, 3];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var t = (x + y) / (2f * size);
                canvas[y, x, 0] = Lerp(30, 20, t);
                canvas[y, x, 1] = Lerp(40, 60, t);
                canvas[y, x, 2] = Lerp(90, 140, t);
            }
        }

        // A fixed seed keeps the picture identical across runs and machines (System.Random with a seed is stable).
        var random = new Random(20160101);
        (float R, float G, float B)[] palette =
        [
            (250, 200, 40), (240, 120, 30), (40, 110, 220), (90, 200, 230), (250, 240, 200), (200, 60, 90), (60, 170, 90),
        ];
        for (var stroke = 0; stroke < 1400; stroke++)
        {
            float px = random.Next(size), py = random.Next(size);
            var colour = palette[random.Next(palette.Length)];
            var radius = 1.5f + (float)random.NextDouble() * 2.5f;
            var length = 10 + random.Next(30);
            for (var step = 0; step < length; step++)
            {
                // Strokes follow the tangent of a few whirlpools, which gives the swirling look.
                var (dx, dy) = Flow(px, py, size);
                px += dx * 1.5f;
                py += dy * 1.5f;
                Dab(canvas, px, py, radius, colour, size);
            }
        }

        var image = new Image<Rgb24>(size, size);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < size; x++)
                {
                    row[x] = new Rgb24(ToByte(canvas[y, x, 0]), ToByte(canvas[y, x, 1]), ToByte(canvas[y, x, 2]));
                }
            }
        });
        return image;
    }

    /// <summary>PNG bytes of a picture.</summary>
    public static byte[] ToPng(Image<Rgb24> image)
    {
        using var buffer = new MemoryStream();
        image.SaveAsPng(buffer);
        return buffer.ToArray();
    }

    private static Rgb24 LandscapePixel(int x, int y, int width, int height)
    {
        float fx = x, fy = y;

        // House: walls, a door, a window and a triangular roof standing on the near hill.
        const float wallLeft = 230, wallRight = 300, wallTop = 170, wallBottom = 215;
        if (fx >= wallLeft && fx <= wallRight && fy >= wallTop && fy <= wallBottom)
        {
            if (fx is >= 255 and <= 272 && fy >= 188)
            {
                return new Rgb24(90, 50, 30);
            }

            if (fx is >= 280 and <= 294 && fy is >= 178 and <= 192)
            {
                return new Rgb24(250, 230, 140);
            }

            return new Rgb24(235, 225, 200);
        }

        var roofHalf = (wallRight - wallLeft) / 2 + 8;
        var roofCentre = (wallLeft + wallRight) / 2;
        if (fy is >= 140 and < wallTop && Math.Abs(fx - roofCentre) <= roofHalf * (fy - 140) / (wallTop - 140))
        {
            return new Rgb24(180, 40, 35);
        }

        // Near hill, then far hill: sine curves so their edges are smooth and curved.
        var nearHill = height * 0.78f - 18 * MathF.Sin(fx / 60f + 1.0f);
        if (fy >= nearHill)
        {
            var shade = (fy - nearHill) / (height - nearHill + 1);
            return new Rgb24(ToByte(Lerp(70, 40, shade)), ToByte(Lerp(160, 110, shade)), ToByte(Lerp(60, 40, shade)));
        }

        var farHill = height * 0.62f - 30 * MathF.Sin(fx / 45f) - 12 * MathF.Sin(fx / 17f + 2);
        if (fy >= farHill)
        {
            return new Rgb24(70, 120, 110);
        }

        // Sun with a soft glow over a sky that goes from deep blue at the top to pale near the horizon.
        float sunX = 80, sunY = 60, sunRadius = 26;
        var distance = MathF.Sqrt((fx - sunX) * (fx - sunX) + (fy - sunY) * (fy - sunY));
        if (distance <= sunRadius)
        {
            return new Rgb24(255, 220, 80);
        }

        var t = fy / (height * 0.7f);
        var glow = MathF.Max(0, 1 - (distance - sunRadius) / 60f) * 0.6f;
        return new Rgb24(
            ToByte(Lerp(Lerp(40, 190, t), 255, glow)),
            ToByte(Lerp(Lerp(90, 220, t), 230, glow)),
            ToByte(Lerp(Lerp(190, 245, t), 150, glow)));
    }

    private static (float Dx, float Dy) Flow(float x, float y, int size)
    {
        (float X, float Y, float Spin)[] centres = [(0.3f, 0.3f, 1), (0.72f, 0.35f, -1), (0.45f, 0.75f, 1), (0.9f, 0.85f, -1)];
        float dx = 0.15f, dy = 0.05f;
        foreach (var (cx, cy, spin) in centres)
        {
            float rx = x - cx * size, ry = y - cy * size;
            var falloff = 1f / (1 + (rx * rx + ry * ry) / (size * size * 0.02f));
            dx += -ry * spin * falloff / size * 8;
            dy += rx * spin * falloff / size * 8;
        }

        var norm = MathF.Sqrt(dx * dx + dy * dy) + 1e-6f;
        return (dx / norm, dy / norm);
    }

    private static void Dab(float[,,] canvas, float cx, float cy, float radius, (float R, float G, float B) colour, int size)
    {
        var r = (int)MathF.Ceiling(radius);
        for (var y = (int)cy - r; y <= (int)cy + r; y++)
        {
            for (var x = (int)cx - r; x <= (int)cx + r; x++)
            {
                if (x < 0 || y < 0 || x >= size || y >= size)
                {
                    continue;
                }

                var d = MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                var alpha = Math.Clamp(radius - d, 0, 1) * 0.7f;
                canvas[y, x, 0] = Lerp(canvas[y, x, 0], colour.R, alpha);
                canvas[y, x, 1] = Lerp(canvas[y, x, 1], colour.G, alpha);
                canvas[y, x, 2] = Lerp(canvas[y, x, 2], colour.B, alpha);
            }
        }
    }

    private static float Lerp(float a, float b, float t) => a + (b - a) * t;

    private static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value), 0, 255);
}
