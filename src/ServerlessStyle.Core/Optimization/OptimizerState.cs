namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// The whole state of an optimisation as plain data, driven by reverse communication: it names the point it
/// wants evaluated and is told the loss and gradient there, so a chunk can stop after any evaluation and a
/// checkpoint can be saved and loaded bitwise.
/// </summary>
public abstract class OptimizerState
{
    private protected OptimizerState(OptimizerSettings settings, float[] x)
    {
        Settings = settings;
        X = x;
    }

    /// <summary>The settings this state was created with.</summary>
    public OptimizerSettings Settings { get; }

    /// <summary>The number of variables (3*H*W for an image).</summary>
    public int Length => X.Length;

    /// <summary>The current accepted iterate: the image of the latest finished iteration, never a line-search trial point.</summary>
    public float[] X { get; }

    /// <summary>Loss evaluations done since the start.</summary>
    public int Evaluations { get; private protected set; }

    /// <summary>Accepted iterates since the start.</summary>
    public int Iterations { get; private protected set; }

    /// <summary>The loss at <see cref="X"/>; null before the first evaluation.</summary>
    public double? Loss { get; private protected set; }

    /// <summary>True once a stopping test has fired; a converged state asks for no more evaluations.</summary>
    public bool Converged { get; private protected set; }

    /// <summary>Why the optimisation stopped (scipy's wording for L-BFGS), or null while it runs.</summary>
    public string? ConvergenceReason { get; private protected set; }

    /// <summary>Starts an optimisation at <paramref name="x0"/>.</summary>
    public static OptimizerState Create(OptimizerSettings settings, ReadOnlySpan<float> x0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (x0.IsEmpty)
        {
            throw new ArgumentException("The start point is empty.", nameof(x0));
        }

        for (var i = 0; i < x0.Length; i++)
        {
            if (!float.IsFinite(x0[i]))
            {
                throw new ArgumentException($"The start point has a non-finite value {x0[i]} at index {i}.", nameof(x0));
            }
        }

        return settings.Kind switch
        {
            OptimizerKind.Lbfgs => new LbfgsState(settings, x0.ToArray()),
            OptimizerKind.Adam => new AdamState(settings, x0.ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "Unknown optimizer kind."),
        };
    }

    /// <summary>
    /// Moves the accepted iterate to <paramref name="x"/> (a tile's crop of the blended image) and keeps the memory: the
    /// next evaluation is at <paramref name="x"/>, and the search goes on from there with the curvature learnt so far
    /// instead of from scratch. An unfinished line search is dropped (its trial points were along a direction from the
    /// old point), and a converged state runs again.
    /// </summary>
    public void MoveTo(ReadOnlySpan<float> x)
    {
        if (x.Length != Length)
        {
            throw new ArgumentException($"The point has {x.Length} values, expected {Length}.", nameof(x));
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i]))
            {
                throw new ArgumentException($"The point has a non-finite value {x[i]} at index {i}.", nameof(x));
            }
        }

        x.CopyTo(X);
        Loss = null;
        Converged = false;
        ConvergenceReason = null;
        OnMoved();
    }

    /// <summary>What <see cref="MoveTo"/> resets of the optimiser's own state.</summary>
    private protected abstract void OnMoved();

    /// <summary>Writes the point the optimiser wants evaluated next.</summary>
    internal abstract void WritePendingPoint(Span<float> point);

    /// <summary>Takes the loss and gradient at the pending point and advances to the next one.</summary>
    internal abstract void Tell(double loss, ReadOnlySpan<float> gradient);

    /// <summary>Forgets the memory (and any unfinished line search) and starts afresh from <see cref="X"/>.</summary>
    internal abstract void Restart();

    internal abstract Task WriteBodyAsync(CheckpointWriter writer, CancellationToken cancellationToken);

    private protected void CountEvaluation(double loss, ReadOnlySpan<float> gradient)
    {
        if (Converged)
        {
            throw new InvalidOperationException("The optimisation has converged and asks for no more evaluations.");
        }

        if (gradient.Length != Length)
        {
            throw new ArgumentException($"The gradient has {gradient.Length} values, expected {Length}.", nameof(gradient));
        }

        if (!double.IsFinite(loss))
        {
            throw new ArgumentException($"The objective returned a non-finite loss {loss} at evaluation {Evaluations + 1}.", nameof(loss));
        }

        // Checked before anything changes, so a bad evaluation leaves the state as it was.
        for (var i = 0; i < gradient.Length; i++)
        {
            if (!float.IsFinite(gradient[i]))
            {
                throw new ArgumentException($"The objective returned a non-finite gradient {gradient[i]} at index {i}, evaluation {Evaluations + 1}.", nameof(gradient));
            }
        }

        Evaluations++;
    }

    private protected void WriteCounters(CheckpointWriter writer)
    {
        writer.WriteInt32(Evaluations);
        writer.WriteInt32(Iterations);
        writer.WriteBool(Loss.HasValue);
        writer.WriteDouble(Loss ?? 0.0);
        writer.WriteString(ConvergenceReason);
    }

    private protected async Task ReadCountersAsync(CheckpointReader reader, CancellationToken cancellationToken)
    {
        await reader.EnsureAsync(4 + 4 + 1 + 8, cancellationToken).ConfigureAwait(false);
        Evaluations = reader.ReadInt32();
        Iterations = reader.ReadInt32();
        var hasLoss = reader.ReadBool();
        var loss = reader.ReadDouble();
        Loss = hasLoss ? loss : null;
        ConvergenceReason = await reader.ReadStringAsync(CheckpointCodec.MaxReasonBytes, cancellationToken).ConfigureAwait(false);
        Converged = ConvergenceReason is not null;
        if (Evaluations < 0 || Iterations < 0)
        {
            throw new CheckpointException($"The checkpoint is corrupt: negative counters (evaluations {Evaluations}, iterations {Iterations}).");
        }
    }
}
