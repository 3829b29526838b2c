namespace ServerlessStyle.Core.Optimization;

/// <summary>The loss at <paramref name="x"/>: returns f and writes the gradient into <paramref name="gradient"/>.</summary>
public delegate ValueTask<double> Objective(ReadOnlyMemory<float> x, Memory<float> gradient, CancellationToken cancellationToken);

/// <summary>The outcome of one chunk: the (same, advanced) state and one loss per evaluation done in the chunk.</summary>
public sealed record ChunkResult(OptimizerState State, IReadOnlyList<double> Losses);
