namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// Dot products over float32 storage accumulated in float64. Written as plain scalar loops on purpose: SIMD
/// widths differ between machines, and a chunk resumed on another machine must reproduce the same bits.
/// </summary>
internal static class VectorMath
{
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vector lengths differ: {a.Length} and {b.Length}.", nameof(b));
        }

        // Four fixed accumulators: independent chains run faster and the order is the same everywhere.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        var i = 0;
        for (; i + 3 < a.Length; i += 4)
        {
            s0 += (double)a[i] * b[i];
            s1 += (double)a[i + 1] * b[i + 1];
            s2 += (double)a[i + 2] * b[i + 2];
            s3 += (double)a[i + 3] * b[i + 3];
        }

        for (; i < a.Length; i++)
        {
            s0 += (double)a[i] * b[i];
        }

        return (s0 + s1) + (s2 + s3);
    }

    public static double MaxAbs(ReadOnlySpan<float> a)
    {
        var max = 0.0;
        foreach (var v in a)
        {
            max = Math.Max(max, Math.Abs((double)v));
        }

        return max;
    }

    /// <summary>y += alpha * x, each element computed in float64 and rounded once.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = (float)(y[i] + alpha * x[i]);
        }
    }
}
