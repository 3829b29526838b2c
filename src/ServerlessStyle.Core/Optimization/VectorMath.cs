using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// Dot products over float32 storage accumulated in float64. A chunk resumed on another machine must reproduce the
/// same bits, so the arithmetic is fixed: four accumulators in a fixed order, no fused multiply-add. The SIMD paths
/// use 128-bit vectors of two doubles, which every x64 and arm64 machine has, and compute exactly the scalar loops'
/// operations lane by lane (a float times a float is exact in double; each add and the final rounding are the same),
/// so they give the same bits as the scalar fallback.
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
        if (Vector128.IsHardwareAccelerated)
        {
            // Lanes (s0, s1) and (s2, s3): element i + k always goes to accumulator k, as in the scalar loop.
            var low = Vector128<double>.Zero;
            var high = Vector128<double>.Zero;
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            for (; i + 3 < a.Length; i += 4)
            {
                var (aLow, aHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i));
                var (bLow, bHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref rb, (nuint)i));
                low += aLow * bLow;
                high += aHigh * bHigh;
            }

            (s0, s1, s2, s3) = (low[0], low[1], high[0], high[1]);
        }

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
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var a = Vector128.Create(alpha);
            ref var rx = ref MemoryMarshal.GetReference(x);
            ref var ry = ref MemoryMarshal.GetReference(y);
            for (; i + 3 < y.Length; i += 4)
            {
                var (xLow, xHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref rx, (nuint)i));
                var (yLow, yHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref ry, (nuint)i));
                Vector128.Narrow(yLow + (a * xLow), yHigh + (a * xHigh)).StoreUnsafe(ref ry, (nuint)i);
            }
        }

        for (; i < y.Length; i++)
        {
            y[i] = (float)(y[i] + alpha * x[i]);
        }
    }
}
