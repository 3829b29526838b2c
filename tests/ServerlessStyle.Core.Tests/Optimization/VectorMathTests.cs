using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

/// <summary>
/// The SIMD paths must give the same bits as plain scalar loops (checkpoints resume on other machines), so they are
/// compared bitwise with an independent scalar implementation written here, on lengths that exercise every tail.
/// </summary>
public sealed class VectorMathTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)))).ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(1001)]
    [InlineData(150_531)]
    public void Dot_AnyLength_EqualsFourAccumulatorScalarLoopBitwise(int n)
    {
        var a = Random(n, 1);
        var b = Random(n, 2);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        var i = 0;
        for (; i + 3 < n; i += 4)
        {
            s0 += (double)a[i] * b[i];
            s1 += (double)a[i + 1] * b[i + 1];
            s2 += (double)a[i + 2] * b[i + 2];
            s3 += (double)a[i + 3] * b[i + 3];
        }

        for (; i < n; i++)
        {
            s0 += (double)a[i] * b[i];
        }

        var expected = (s0 + s1) + (s2 + s3);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(VectorMath.Dot(a, b)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(150_531)]
    public void AxpyDot_AnyLength_UpdateEqualsScalarLoopBitwise(int n)
    {
        var x = Random(n, 3);
        var y = Random(n, 4);
        const double alpha = -0.37312345678901234;
        var expected = ScalarAxpy(alpha, x, y);

        VectorMath.AxpyDot(alpha, x, y, x);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>y + alpha * x, each element computed in float64 and rounded once.</summary>
    private static float[] ScalarAxpy(double alpha, float[] x, float[] y) => y.Select((v, i) => (float)(v + alpha * x[i])).ToArray();

    private static void AssertBitwise(float[] expected, float[] actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));

    private static void AssertBitwise(double expected, double actual) =>
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));

    // The fused steps of the two-loop recursion against a scalar update followed by Dot (itself checked above).
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(1003)]
    [InlineData(150_531)]
    public void FusedSteps_AnyLength_EqualTheSeparateCallsBitwise(int n)
    {
        var (x, y, z) = (Random(n, 5), Random(n, 6), Random(n, 7));
        const double alpha = 0.61803398874989484;
        const double theta = 3.1415926535897931;

        var expected = ScalarAxpy(alpha, x, y);
        var actual = y.ToArray();
        AssertBitwise(VectorMath.Dot(z, expected), VectorMath.AxpyDot(alpha, x, actual, z));
        AssertBitwise(expected, actual);

        expected = new float[n];
        x.CopyTo(expected, 0);
        actual = y.ToArray();
        AssertBitwise(VectorMath.Dot(z, expected), VectorMath.CopyDot(x, actual, z));
        AssertBitwise(expected, actual);

        expected = ScalarAxpy(alpha, x, y).Select(v => (float)(v / theta)).ToArray();
        actual = y.ToArray();
        AssertBitwise(VectorMath.Dot(x, expected), VectorMath.AxpyScaleDot(alpha, x, actual, theta));
        AssertBitwise(expected, actual);

        expected = ScalarAxpy(alpha, x, y).Select(v => -v).ToArray();
        actual = y.ToArray();
        var (gy, yy) = VectorMath.AxpyNegateDots(alpha, x, actual, z);
        AssertBitwise(VectorMath.Dot(z, expected), gy);
        AssertBitwise(VectorMath.Dot(expected, expected), yy);
        AssertBitwise(expected, actual);
    }
}
