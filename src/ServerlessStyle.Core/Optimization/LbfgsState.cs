namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// L-BFGS for an unbounded problem, following scipy's fmin_l_bfgs_b (L-BFGS-B 3.0): the same first step,
/// line search, update-skipping rule, restarts and stopping tests, with the two-loop recursion in place of
/// the compact form (equal without bounds). x, the gradient, the direction and the history are float32;
/// dot products accumulate in float64.
/// </summary>
internal sealed class LbfgsState : OptimizerState
{
    public const string GradientConverged = "CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL";
    public const string ReductionConverged = "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH";
    public const string LineSearchAbnormal = "ABNORMAL_TERMINATION_IN_LNSRCH";

    // scipy's defaults: pgtol 1e-5, factr 1e7 (times machine epsilon), maxls 20; lnsrlb's stpmx for no bounds.
    public const double ProjectedGradientTolerance = 1e-5;
    public const double RelativeReductionTolerance = 1e7 * 2.220446049250313e-16;
    public const int MaxLineSearchEvaluations = 20;
    public const double StepMax = 1e10;

    internal LbfgsState(OptimizerSettings settings, float[] x0)
        : base(settings, x0)
    {
        G = new float[x0.Length];
        D = new float[x0.Length];
        S = new float[settings.History][];
        Y = new float[settings.History][];
        Ys = new double[settings.History];
        Search = new MoreThuenteSearch();
        Theta = 1.0;
        FirstIteration = true;
        Phase = LbfgsPhase.Initial;
    }

    internal enum LbfgsPhase
    {
        /// <summary>Waiting for f and g at the start point.</summary>
        Initial = 0,

        /// <summary>Waiting for f and g at X + Step * D.</summary>
        LineSearch = 1,

        /// <summary>Stopped; see ConvergenceReason.</summary>
        Done = 2,
    }

    internal LbfgsPhase Phase;

    /// <summary>The gradient at X.</summary>
    internal readonly float[] G;

    /// <summary>The search direction of the current line search.</summary>
    internal readonly float[] D;

    /// <summary>Correction pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k in a ring: oldest at Start, Count in use; slots are allocated when first used.</summary>
    internal readonly float[]?[] S;
    internal readonly float[]?[] Y;
    internal readonly double[] Ys;
    internal int Start;
    internal int Count;

    /// <summary>L-BFGS-B's theta = y'y / s'y of the newest pair; the initial Hessian is theta * I.</summary>
    internal double Theta;

    /// <summary>scipy scales the first step of the first iteration (iter == 0) to 1/|d|; later steps start at 1.</summary>
    internal bool FirstIteration;

    /// <summary>A restart was asked for while a line search had evaluations in hand: it finishes, then the memory goes.</summary>
    internal bool RestartPending;

    // The next pair is written here while it is measured, then swapped into the ring if the update is kept (so a skipped
    // update leaves the oldest pair intact). Working memory only: not part of the state or the checkpoint.
    private float[]? _spareS;
    private float[]? _spareY;

    internal double Step;
    internal int LineSearchEvaluations;
    internal int SkippedUpdates;
    internal readonly MoreThuenteSearch Search;

    internal override void WritePendingPoint(Span<float> point)
    {
        switch (Phase)
        {
            case LbfgsPhase.Initial:
                X.CopyTo(point);
                break;
            case LbfgsPhase.LineSearch:
                for (var i = 0; i < X.Length; i++)
                {
                    point[i] = TrialValue(i);
                }

                break;
            default:
                throw new InvalidOperationException("The optimisation has stopped and asks for no more evaluations.");
        }
    }

    internal override void Tell(double loss, ReadOnlySpan<float> gradient)
    {
        CountEvaluation(loss, gradient);
        if (Phase == LbfgsPhase.Initial)
        {
            gradient.CopyTo(G);
            Loss = loss;
            if (VectorMath.MaxAbs(G) <= ProjectedGradientTolerance)
            {
                Stop(GradientConverged);
                return;
            }

            BeginIteration();
            return;
        }

        var slope = VectorMath.Dot(gradient, D);
        LineSearchEvaluations++;
        var step = Step;
        var task = Search.Next(loss, slope, ref step);
        if (task == LineSearchTask.Evaluate)
        {
            Step = step;
            if (LineSearchEvaluations >= MaxLineSearchEvaluations)
            {
                LineSearchFailed();
            }

            return;
        }

        Accept(loss, gradient);
    }

    /// <summary>The next evaluation is at the new X (as at the start), then an iteration begins with the (s, y) pairs kept.</summary>
    private protected override void OnMoved()
    {
        Phase = LbfgsPhase.Initial;
        RestartPending = false;
        LineSearchEvaluations = 0;

        // Without memory the first step is scaled as at the start; with it, the quasi-Newton step of 1 is.
        FirstIteration = Count == 0;
    }

    internal override void Restart()
    {
        // Waiting for the loss at X (the start, or a point MoveTo set): nothing is in hand, so the memory simply goes.
        if (Phase == LbfgsPhase.Initial)
        {
            ClearMemory();
            FirstIteration = true;
            return;
        }

        if (Phase != LbfgsPhase.LineSearch)
        {
            return;
        }

        if (LineSearchEvaluations == 0)
        {
            ClearMemory();
            FirstIteration = true;
            BeginIteration();
        }
        else
        {
            RestartPending = true;
        }
    }

    private float TrialValue(int i) => (float)(X[i] + Step * D[i]);

    private void Accept(double loss, ReadOnlySpan<float> gradient)
    {
        var previousLoss = Loss!.Value;

        // The pair is measured from the stored float32 vectors so that the history agrees with them exactly; one pass
        // writes it to the spare slot and moves X and G to the accepted point.
        var sNext = _spareS ??= new float[X.Length];
        var yNext = _spareY ??= new float[X.Length];
        double sy = 0, yy = 0, maxAbsGradient = 0;
        for (var i = 0; i < X.Length; i++)
        {
            var next = TrialValue(i);
            var s = (float)(next - (double)X[i]);
            var y = (float)((double)gradient[i] - G[i]);
            sy += (double)s * y;
            yy += (double)y * y;
            maxAbsGradient = Math.Max(maxAbsGradient, Math.Abs((double)gradient[i]));
            sNext[i] = s;
            yNext[i] = y;
            X[i] = next;
            G[i] = gradient[i];
        }

        // L-BFGS-B skips the update when the curvature s'y is not safely positive (dr <= epsmch * (-gd_old * stp)).
        var update = sy > 2.220446049250313e-16 * (-Search.Ginit * Step) && !RestartPending;
        if (update)
        {
            var slot = Count < S.Length ? Count : Start;
            (_spareS, _spareY) = (S[slot], Y[slot]);
            (S[slot], Y[slot]) = (sNext, yNext);
            Ys[slot] = sy;
            Theta = yy / sy;
            if (Count < S.Length)
            {
                Count++;
            }
            else
            {
                Start = (Start + 1) % S.Length;
            }
        }
        else if (!RestartPending)
        {
            SkippedUpdates++;
        }

        Loss = loss;
        Iterations++;
        FirstIteration = false;
        LineSearchEvaluations = 0;

        if (maxAbsGradient <= ProjectedGradientTolerance)
        {
            Stop(GradientConverged);
            return;
        }

        if (previousLoss - loss <= RelativeReductionTolerance * Math.Max(Math.Max(Math.Abs(previousLoss), Math.Abs(loss)), 1.0))
        {
            Stop(ReductionConverged);
            return;
        }

        if (RestartPending)
        {
            RestartPending = false;
            ClearMemory();
            FirstIteration = true;
        }

        BeginIteration();
    }

    /// <summary>More than maxls trials, as in mainlb: back to X; without memory that is the end, with memory start over from -g.</summary>
    private void LineSearchFailed()
    {
        LineSearchEvaluations = 0;
        if (Count == 0)
        {
            Stop(LineSearchAbnormal);
            return;
        }

        if (RestartPending)
        {
            RestartPending = false;
            FirstIteration = true;
        }

        ClearMemory();
        BeginIteration();
    }

    private void BeginIteration()
    {
        var (slope, dd) = ComputeDirection();
        if (slope >= 0)
        {
            // Not a descent direction (lnsrlb's info = -4): restart from steepest descent, or give up without memory.
            if (Count == 0)
            {
                Stop(LineSearchAbnormal);
                return;
            }

            ClearMemory();
            BeginIteration();
            return;
        }

        var norm = Math.Sqrt(dd);
        Step = FirstIteration ? Math.Min(1.0 / norm, StepMax) : 1.0;
        LineSearchEvaluations = 0;
        Search.Start(Loss!.Value, slope, Step, StepMax);
        Phase = LbfgsPhase.LineSearch;
    }

    /// <summary>
    /// D = -H G by the two-loop recursion with H0 = I / theta; returns G'D and D'D. Each step's update of D and the next
    /// step's dot product share one pass over memory (<see cref="VectorMath.AxpyDot"/>): the same bits as separate loops.
    /// </summary>
    private (double Slope, double DirectionSquared) ComputeDirection()
    {
        var m = S.Length;
        if (Count == 0)
        {
            // Steepest descent: the first iteration and after a restart.
            for (var i = 0; i < D.Length; i++)
            {
                D[i] = -G[i];
            }

            return (VectorMath.Dot(G, D), VectorMath.Dot(D, D));
        }

        int Slot(int k) => (Start + k) % m;
        Span<double> alpha = Count <= 64 ? stackalloc double[Count] : new double[Count];
        alpha[Count - 1] = VectorMath.CopyDot(G, D, S[Slot(Count - 1)]!) / Ys[Slot(Count - 1)];
        for (var k = Count - 1; k > 0; k--)
        {
            alpha[k - 1] = VectorMath.AxpyDot(-alpha[k], Y[Slot(k)]!, D, S[Slot(k - 1)]!) / Ys[Slot(k - 1)];
        }

        var beta = VectorMath.AxpyScaleDot(-alpha[0], Y[Slot(0)]!, D, Theta) / Ys[Slot(0)];
        for (var k = 0; k < Count - 1; k++)
        {
            beta = VectorMath.AxpyDot(alpha[k] - beta, S[Slot(k)]!, D, Y[Slot(k + 1)]!) / Ys[Slot(k + 1)];
        }

        return VectorMath.AxpyNegateDots(alpha[Count - 1] - beta, S[Slot(Count - 1)]!, D, G);
    }

    private void ClearMemory()
    {
        Count = 0;
        Start = 0;
        Theta = 1.0;
    }

    private void Stop(string reason)
    {
        Phase = LbfgsPhase.Done;
        Converged = true;
        ConvergenceReason = reason;
    }

    internal override async Task WriteBodyAsync(CheckpointWriter writer, CancellationToken cancellationToken)
    {
        await writer.EnsureRoomAsync(CheckpointCodec.ScalarRoom, cancellationToken).ConfigureAwait(false);
        WriteCounters(writer);
        writer.WriteInt32((int)Phase);
        writer.WriteBool(FirstIteration);
        writer.WriteBool(RestartPending);
        writer.WriteDouble(Step);
        writer.WriteInt32(LineSearchEvaluations);
        writer.WriteInt32(SkippedUpdates);
        writer.WriteBool(Search.Bracketed);
        writer.WriteInt32(Search.Stage);
        foreach (var value in SearchDoubles())
        {
            writer.WriteDouble(value);
        }

        writer.WriteDouble(Theta);
        writer.WriteInt32(Start);
        writer.WriteInt32(Count);
        await writer.EnsureRoomAsync(8 * Ys.Length, cancellationToken).ConfigureAwait(false);
        foreach (var value in Ys)
        {
            writer.WriteDouble(value);
        }

        await writer.WriteFloatsAsync(X, cancellationToken).ConfigureAwait(false);
        await writer.WriteFloatsAsync(G, cancellationToken).ConfigureAwait(false);
        await writer.WriteFloatsAsync(D, cancellationToken).ConfigureAwait(false);

        // Slots 0..Count-1 are exactly the ones in use: the ring only wraps once it is full.
        for (var slot = 0; slot < Count; slot++)
        {
            await writer.WriteFloatsAsync(S[slot]!, cancellationToken).ConfigureAwait(false);
            await writer.WriteFloatsAsync(Y[slot]!, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static async Task<LbfgsState> ReadBodyAsync(
        CheckpointReader reader, OptimizerSettings settings, int length, CancellationToken cancellationToken)
    {
        var state = new LbfgsState(settings, new float[length]);
        await state.ReadCountersAsync(reader, cancellationToken).ConfigureAwait(false);
        const int searchDoubles = 14;
        await reader.EnsureAsync(4 + 1 + 1 + 8 + 4 + 4 + 1 + 4 + (8 * searchDoubles) + 8 + 4 + 4, cancellationToken).ConfigureAwait(false);
        var phase = reader.ReadInt32();
        if (!Enum.IsDefined((LbfgsPhase)phase))
        {
            throw new CheckpointException($"The checkpoint is corrupt: unknown L-BFGS phase {phase}.");
        }

        state.Phase = (LbfgsPhase)phase;
        state.FirstIteration = reader.ReadBool();
        state.RestartPending = reader.ReadBool();
        state.Step = reader.ReadDouble();
        state.LineSearchEvaluations = reader.ReadInt32();
        state.SkippedUpdates = reader.ReadInt32();
        var search = state.Search;
        search.Bracketed = reader.ReadBool();
        search.Stage = reader.ReadInt32();
        search.StepMax = reader.ReadDouble();
        search.Finit = reader.ReadDouble();
        search.Ginit = reader.ReadDouble();
        search.Gtest = reader.ReadDouble();
        search.Stx = reader.ReadDouble();
        search.Fx = reader.ReadDouble();
        search.Gx = reader.ReadDouble();
        search.Sty = reader.ReadDouble();
        search.Fy = reader.ReadDouble();
        search.Gy = reader.ReadDouble();
        search.Stmin = reader.ReadDouble();
        search.Stmax = reader.ReadDouble();
        search.Width = reader.ReadDouble();
        search.Width1 = reader.ReadDouble();
        state.Theta = reader.ReadDouble();
        state.Start = reader.ReadInt32();
        state.Count = reader.ReadInt32();
        var m = settings.History;
        if (state.Count < 0 || state.Count > m || state.Start < 0 || state.Start >= m || (state.Count < m && state.Start != 0))
        {
            throw new CheckpointException($"The checkpoint is corrupt: history ring start {state.Start}, count {state.Count} do not fit m = {m}.");
        }

        await reader.EnsureAsync(8 * m, cancellationToken).ConfigureAwait(false);
        for (var slot = 0; slot < m; slot++)
        {
            state.Ys[slot] = reader.ReadDouble();
        }

        await reader.ReadFloatsAsync(state.X, cancellationToken).ConfigureAwait(false);
        await reader.ReadFloatsAsync(state.G, cancellationToken).ConfigureAwait(false);
        await reader.ReadFloatsAsync(state.D, cancellationToken).ConfigureAwait(false);
        for (var slot = 0; slot < state.Count; slot++)
        {
            state.S[slot] = new float[length];
            state.Y[slot] = new float[length];
            await reader.ReadFloatsAsync(state.S[slot]!, cancellationToken).ConfigureAwait(false);
            await reader.ReadFloatsAsync(state.Y[slot]!, cancellationToken).ConfigureAwait(false);
        }

        return state;
    }

    private double[] SearchDoubles() =>
    [
        Search.StepMax, Search.Finit, Search.Ginit, Search.Gtest, Search.Stx, Search.Fx, Search.Gx,
        Search.Sty, Search.Fy, Search.Gy, Search.Stmin, Search.Stmax, Search.Width, Search.Width1,
    ];
}
