namespace ServerlessStyle.Core.Optimization;

/// <summary>Which optimiser drives the image.</summary>
public enum OptimizerKind
{
    /// <summary>Limited-memory BFGS with a strong-Wolfe line search, like scipy's fmin_l_bfgs_b.</summary>
    Lbfgs = 0,

    /// <summary>Adam (Kingma and Ba) with betas 0.9/0.999 and epsilon 1e-8.</summary>
    Adam = 1,
}

/// <summary>How an optimisation is run; saved in every checkpoint header.</summary>
/// <param name="Kind">The optimiser.</param>
/// <param name="History">L-BFGS memory: the number of correction pairs kept (scipy's m).</param>
/// <param name="RestartEachIteration">Throw the memory away at the start of every chunk, as the Keras example does.</param>
/// <param name="LearningRate">Adam's step size, in the 0..255 pixel units of the optimisation space.</param>
public sealed record OptimizerSettings(
    OptimizerKind Kind = OptimizerKind.Lbfgs,
    int History = 10,
    bool RestartEachIteration = false,
    double LearningRate = 10.0)
{
    /// <summary>Largest accepted <see cref="History"/>; it bounds what a checkpoint header may ask to allocate.</summary>
    public const int MaxHistory = 1000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown optimizer kind; use Lbfgs or Adam.");
        }

        if (History is < 1 or > MaxHistory)
        {
            throw new ArgumentOutOfRangeException(nameof(History), History, $"History must be between 1 and {MaxHistory}.");
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be a positive finite number.");
        }
    }
}
