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
    public void Axpy_AnyLength_EqualsScalarLoopBitwise(int n)
    {
        var x = Random(n, 3);
        var y = Random(n, 4);
        var expected = y.ToArray();
        const double alpha = -0.37312345678901234;
        for (var i = 0; i < n; i++)
        {
            expected[i] = (float)(expected[i] + alpha * x[i]);
        }

        VectorMath.Axpy(alpha, x, y);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
    }
}
