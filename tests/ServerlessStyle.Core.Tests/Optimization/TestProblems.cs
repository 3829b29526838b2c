using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

/// <summary>Smooth test objectives with known minimisers, evaluated in float64 from the float32 iterate.</summary>
internal static class TestProblems
{
    /// <summary>scipy.optimize.rosen, the chained form: sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; minimiser all ones.</summary>
    public static Objective Rosenbrock => (x, gradient, _) =>
    {
        var xs = x.Span;
        var g = gradient.Span;
        var f = 0.0;
        g.Clear();
        var gi = new double[xs.Length];
        for (var i = 0; i + 1 < xs.Length; i++)
        {
            double a = xs[i], b = xs[i + 1];
            var t = b - a * a;
            f += 100 * t * t + (1 - a) * (1 - a);
            gi[i] += -400 * a * t - 2 * (1 - a);
            gi[i + 1] += 200 * t;
        }

        for (var i = 0; i < xs.Length; i++)
        {
            g[i] = (float)gi[i];
        }

        return ValueTask.FromResult(f);
    };

    /// <summary>-1.2, 1, -1.2, 1, ...: the classic Rosenbrock start.</summary>
    public static float[] RosenbrockStart(int n) => Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -1.2f : 1f).ToArray();

    /// <summary>0.5 sum a_i (x_i - c_i)^2 with a_i from 1 to 100 and c_i = (i mod 7) - 3; minimiser c, minimum 0.</summary>
    public static Objective Quadratic => (x, gradient, _) =>
    {
        var xs = x.Span;
        var g = gradient.Span;
        var f = 0.0;
        for (var i = 0; i < xs.Length; i++)
        {
            var r = xs[i] - QuadraticMinimiser(i);
            var a = QuadraticCurvature(i, xs.Length);
            f += 0.5 * a * r * r;
            g[i] = (float)(a * r);
        }

        return ValueTask.FromResult(f);
    };

    public static double QuadraticCurvature(int i, int n) => 1.0 + 99.0 * i / (n - 1);

    public static double QuadraticMinimiser(int i) => (i % 7) - 3.0;

    /// <summary>Wraps an objective to record every point it is asked about.</summary>
    public static Objective Recording(Objective inner, List<float[]> points) => (x, gradient, cancellationToken) =>
    {
        points.Add(x.ToArray());
        return inner(x, gradient, cancellationToken);
    };

    /// <summary>Copies the state through the codec, as a chunk boundary on another machine would.</summary>
    public static async Task<OptimizerState> RoundTripAsync(OptimizerState state)
    {
        using var stream = new MemoryStream();
        await CheckpointCodec.WriteAsync(stream, state);
        stream.Position = 0;
        return await CheckpointCodec.ReadAsync(stream, state.Length);
    }

    public static async Task<byte[]> ToBytesAsync(OptimizerState state)
    {
        using var stream = new MemoryStream();
        await CheckpointCodec.WriteAsync(stream, state);
        return stream.ToArray();
    }
}
