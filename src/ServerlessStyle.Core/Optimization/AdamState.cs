namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// Adam (Kingma and Ba, 2015) in 3n floats: X is the latest evaluated point, M and V already hold its gradient,
/// and the next point X - lr * mhat / (sqrt(vhat) + eps) is computed when asked for, never stored.
/// </summary>
internal sealed class AdamState : OptimizerState
{
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.999;
    public const double Epsilon = 1e-8;

    internal AdamState(OptimizerSettings settings, float[] x0)
        : base(settings, x0)
    {
        M = new float[x0.Length];
        V = new float[x0.Length];
        Beta1Power = 1.0;
        Beta2Power = 1.0;
    }

    internal readonly float[] M;
    internal readonly float[] V;

    /// <summary>beta^t kept as running products rather than Math.Pow, whose last bit may differ between runtimes.</summary>
    internal double Beta1Power;
    internal double Beta2Power;

    /// <summary>Adam steps taken since the start or the last restart; 0 means the pending point is X itself.</summary>
    internal int Step;

    internal override void WritePendingPoint(Span<float> point)
    {
        for (var i = 0; i < X.Length; i++)
        {
            point[i] = PendingValue(i);
        }
    }

    internal override void Tell(double loss, ReadOnlySpan<float> gradient)
    {
        CountEvaluation(loss, gradient);
        if (Step > 0)
        {
            for (var i = 0; i < X.Length; i++)
            {
                X[i] = PendingValue(i);
            }

            Iterations++;
        }

        Loss = loss;
        Step++;
        Beta1Power *= Beta1;
        Beta2Power *= Beta2;
        for (var i = 0; i < X.Length; i++)
        {
            double g = gradient[i];
            M[i] = (float)(Beta1 * M[i] + (1 - Beta1) * g);
            V[i] = (float)(Beta2 * V[i] + (1 - Beta2) * g * g);
        }
    }

    /// <summary>The moments stay: the next step is taken from the new point with them.</summary>
    private protected override void OnMoved()
    {
    }

    internal override void Restart()
    {
        Array.Clear(M);
        Array.Clear(V);
        Beta1Power = 1.0;
        Beta2Power = 1.0;
        Step = 0;
    }

    private float PendingValue(int i)
    {
        if (Step == 0)
        {
            return X[i];
        }

        var mHat = M[i] / (1 - Beta1Power);
        var vHat = V[i] / (1 - Beta2Power);
        return (float)(X[i] - Settings.LearningRate * mHat / (Math.Sqrt(vHat) + Epsilon));
    }

    internal override async Task WriteBodyAsync(CheckpointWriter writer, CancellationToken cancellationToken)
    {
        await writer.EnsureRoomAsync(CheckpointCodec.ScalarRoom, cancellationToken).ConfigureAwait(false);
        WriteCounters(writer);
        writer.WriteInt32(Step);
        writer.WriteDouble(Beta1Power);
        writer.WriteDouble(Beta2Power);
        await writer.WriteFloatsAsync(X, cancellationToken).ConfigureAwait(false);
        await writer.WriteFloatsAsync(M, cancellationToken).ConfigureAwait(false);
        await writer.WriteFloatsAsync(V, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<AdamState> ReadBodyAsync(
        CheckpointReader reader, OptimizerSettings settings, int length, CancellationToken cancellationToken)
    {
        var state = new AdamState(settings, new float[length]);
        await state.ReadCountersAsync(reader, cancellationToken).ConfigureAwait(false);
        await reader.EnsureAsync(4 + 8 + 8, cancellationToken).ConfigureAwait(false);
        state.Step = reader.ReadInt32();
        state.Beta1Power = reader.ReadDouble();
        state.Beta2Power = reader.ReadDouble();
        if (state.Step < 0)
        {
            throw new CheckpointException($"The checkpoint is corrupt: Adam step count {state.Step} is negative.");
        }

        await reader.ReadFloatsAsync(state.X, cancellationToken).ConfigureAwait(false);
        await reader.ReadFloatsAsync(state.M, cancellationToken).ConfigureAwait(false);
        await reader.ReadFloatsAsync(state.V, cancellationToken).ConfigureAwait(false);
        return state;
    }
}
