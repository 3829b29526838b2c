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

    /// <summary>
    /// The two-loop recursion's steps, fused so that each walks memory once: y += alpha * x (each element computed in
    /// float64 and rounded once), then the dot product of z with the new y with the same bits as <see cref="Dot"/>.
    /// </summary>
    public static double AxpyDot(double alpha, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> z) =>
        Fused(FusedStep.Axpy, alpha, 1.0, x, y, z, default, out _);

    /// <summary>destination = source, then Dot(z, destination).</summary>
    public static double CopyDot(ReadOnlySpan<float> source, Span<float> destination, ReadOnlySpan<float> z) =>
        Fused(FusedStep.Copy, 0.0, 1.0, source, destination, z, default, out _);

    /// <summary>y = (y + alpha * x) rounded, divided by theta and rounded again; then Dot(x, y).</summary>
    public static double AxpyScaleDot(double alpha, ReadOnlySpan<float> x, Span<float> y, double theta) =>
        Fused(FusedStep.AxpyScale, alpha, theta, x, y, x, default, out _);

    /// <summary>y = -(y + alpha * x) rounded; then Dot(g, y) and Dot(y, y).</summary>
    public static (double GDotY, double YDotY) AxpyNegateDots(double alpha, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> g)
    {
        var gy = Fused(FusedStep.AxpyNegate, alpha, 1.0, x, y, g, y, out var yy);
        return (gy, yy);
    }

    private enum FusedStep
    {
        Copy,
        Axpy,
        AxpyScale,
        AxpyNegate,
    }

    /// <summary>
    /// One pass: y[i] from the step, then z[i] * y[i] (and, with <paramref name="w"/>, w[i] * y[i]) into four
    /// accumulators in the order <see cref="Dot"/> uses, so every result has the bits of the separate calls.
    /// </summary>
    private static double Fused(
        FusedStep step, double alpha, double theta, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> z, ReadOnlySpan<float> w, out double second)
    {
        if (x.Length != y.Length || z.Length != y.Length || (!w.IsEmpty && w.Length != y.Length))
        {
            throw new ArgumentException($"Vector lengths differ: {x.Length}, {y.Length}, {z.Length}.", nameof(y));
        }

        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var a = Vector128.Create(alpha);
            var th = Vector128.Create(theta);
            var (low, high, wLow, wHigh) = (Vector128<double>.Zero, Vector128<double>.Zero, Vector128<double>.Zero, Vector128<double>.Zero);
            ref var rx = ref MemoryMarshal.GetReference(x);
            ref var ry = ref MemoryMarshal.GetReference(y);
            ref var rz = ref MemoryMarshal.GetReference(z);
            ref var rw = ref MemoryMarshal.GetReference(w);
            for (; i + 3 < y.Length; i += 4)
            {
                var (xLow, xHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref rx, (nuint)i));
                Vector128<float> next;
                if (step == FusedStep.Copy)
                {
                    next = Vector128.LoadUnsafe(ref rx, (nuint)i);
                }
                else
                {
                    var (yLow, yHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref ry, (nuint)i));
                    next = Vector128.Narrow(yLow + (a * xLow), yHigh + (a * xHigh));
                    if (step == FusedStep.AxpyScale)
                    {
                        var (nLow, nHigh) = Vector128.Widen(next);
                        next = Vector128.Narrow(nLow / th, nHigh / th);
                    }
                    else if (step == FusedStep.AxpyNegate)
                    {
                        next = -next;
                    }
                }

                next.StoreUnsafe(ref ry, (nuint)i);
                var (vLow, vHigh) = Vector128.Widen(next);
                var (zLow, zHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref rz, (nuint)i));
                low += zLow * vLow;
                high += zHigh * vHigh;
                if (!w.IsEmpty)
                {
                    var (uLow, uHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref rw, (nuint)i));
                    wLow += uLow * vLow;
                    wHigh += uHigh * vHigh;
                }
            }

            (s0, s1, s2, s3) = (low[0], low[1], high[0], high[1]);
            (t0, t1, t2, t3) = (wLow[0], wLow[1], wHigh[0], wHigh[1]);
        }

        for (; i < y.Length; i++)
        {
            var next = step switch
            {
                FusedStep.Copy => x[i],
                FusedStep.Axpy => (float)(y[i] + alpha * x[i]),
                FusedStep.AxpyScale => (float)((float)(y[i] + alpha * x[i]) / theta),
                _ => -(float)(y[i] + alpha * x[i]),
            };
            y[i] = next;
            var product = (double)z[i] * next;
            var other = w.IsEmpty ? 0.0 : (double)w[i] * next;
            // Dot's tail (the last Length % 4 elements) goes to the first accumulator.
            switch (i < (y.Length & ~3) ? i & 3 : 0)
            {
                case 0: s0 += product; t0 += other; break;
                case 1: s1 += product; t1 += other; break;
                case 2: s2 += product; t2 += other; break;
                default: s3 += product; t3 += other; break;
            }
        }

        second = (t0 + t1) + (t2 + t3);
        return (s0 + s1) + (s2 + s3);
    }
}
