namespace ServerlessStyle.Core.Optimization;

/// <summary>What the line search asks for after a step.</summary>
internal enum LineSearchTask
{
    /// <summary>Evaluate f and f' at the new step.</summary>
    Evaluate = 0,

    /// <summary>The step satisfies the strong Wolfe conditions.</summary>
    Converged = 1,

    /// <summary>No further progress is possible (rounding, xtol, stpmax or stpmin); the current step is taken as is.</summary>
    Warning = 2,
}

/// <summary>
/// The More-Thuente line search (MINPACK-2 dcsrch/dcstep, as used by L-BFGS-B 3.0 inside scipy) with its
/// saved variables as plain fields, so that it can stop between any two evaluations and be checkpointed.
/// </summary>
internal sealed class MoreThuenteSearch
{
    // scipy's L-BFGS-B passes these constants to dcsrch (lnsrlb).
    public const double Ftol = 1e-3;
    public const double Gtol = 0.9;
    public const double Xtol = 0.1;
    public const double StepMin = 0.0;

    private const double Xtrapl = 1.1;
    private const double Xtrapu = 4.0;

    public bool Bracketed;
    public int Stage;
    public double StepMax;
    public double Finit;
    public double Ginit;
    public double Gtest;
    public double Stx;
    public double Fx;
    public double Gx;
    public double Sty;
    public double Fy;
    public double Gy;
    public double Stmin;
    public double Stmax;
    public double Width;
    public double Width1;

    /// <summary>dcsrch with task 'START': f and g are the value and slope at step 0; the first trial is <paramref name="step"/> itself.</summary>
    public void Start(double f, double g, double step, double stepMax)
    {
        if (step < StepMin || step > stepMax || g >= 0)
        {
            throw new InvalidOperationException($"Line search started with step {step}, maximum {stepMax}, slope {g}: the slope must be negative and the step in range.");
        }

        StepMax = stepMax;
        Bracketed = false;
        Stage = 1;
        Finit = f;
        Ginit = g;
        Gtest = Ftol * Ginit;
        Width = stepMax - StepMin;
        Width1 = Width / 0.5;
        Stx = 0;
        Fx = Finit;
        Gx = Ginit;
        Sty = 0;
        Fy = Finit;
        Gy = Ginit;
        Stmin = 0;
        Stmax = step + Xtrapu * step;
    }

    /// <summary>dcsrch with task 'FG': f and g at <paramref name="step"/>; may change the step.</summary>
    public LineSearchTask Next(double f, double g, ref double step)
    {
        var ftest = Finit + step * Gtest;
        if (Stage == 1 && f <= ftest && g >= 0)
        {
            Stage = 2;
        }

        var warning =
            (Bracketed && (step <= Stmin || step >= Stmax))
            || (Bracketed && Stmax - Stmin <= Xtol * Stmax)
            || (step == StepMax && f <= ftest && g <= Gtest)
            || (step == StepMin && (f > ftest || g >= Gtest));

        // dcsrch tests convergence after the warnings and lets it win.
        if (f <= ftest && Math.Abs(g) <= Gtol * -Ginit)
        {
            return LineSearchTask.Converged;
        }

        if (warning)
        {
            return LineSearchTask.Warning;
        }

        // In the first stage, a lower but not sufficiently lower value is judged by the modified function
        // psi(stp) = f(stp) - f(0) - stp * gtest.
        if (Stage == 1 && f <= Fx && f > ftest)
        {
            var fm = f - step * Gtest;
            var fxm = Fx - Stx * Gtest;
            var fym = Fy - Sty * Gtest;
            var gm = g - Gtest;
            var gxm = Gx - Gtest;
            var gym = Gy - Gtest;
            Step(ref Stx, ref fxm, ref gxm, ref Sty, ref fym, ref gym, ref step, fm, gm, ref Bracketed, Stmin, Stmax);
            Fx = fxm + Stx * Gtest;
            Fy = fym + Sty * Gtest;
            Gx = gxm + Gtest;
            Gy = gym + Gtest;
        }
        else
        {
            Step(ref Stx, ref Fx, ref Gx, ref Sty, ref Fy, ref Gy, ref step, f, g, ref Bracketed, Stmin, Stmax);
        }

        if (Bracketed)
        {
            if (Math.Abs(Sty - Stx) >= 0.66 * Width1)
            {
                step = Stx + 0.5 * (Sty - Stx);
            }

            Width1 = Width;
            Width = Math.Abs(Sty - Stx);
            Stmin = Math.Min(Stx, Sty);
            Stmax = Math.Max(Stx, Sty);
        }
        else
        {
            Stmin = step + Xtrapl * (step - Stx);
            Stmax = step + Xtrapu * (step - Stx);
        }

        step = Math.Max(step, StepMin);
        step = Math.Min(step, StepMax);

        if ((Bracketed && (step <= Stmin || step >= Stmax)) || (Bracketed && Stmax - Stmin <= Xtol * Stmax))
        {
            step = Stx;
        }

        return LineSearchTask.Evaluate;
    }

    /// <summary>dcstep: a safeguarded cubic/quadratic step that keeps an interval bracketing a minimiser.</summary>
    private static void Step(
        ref double stx, ref double fx, ref double dx,
        ref double sty, ref double fy, ref double dy,
        ref double stp, double fp, double dp,
        ref bool brackt, double stpmin, double stpmax)
    {
        var sgnd = dp * (dx / Math.Abs(dx));
        double stpf;

        if (fp > fx)
        {
            // A higher function value: the minimum is bracketed.
            var theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            var s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            var gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
            if (stp < stx)
            {
                gamma = -gamma;
            }

            var p = (gamma - dx) + theta;
            var q = ((gamma - dx) + gamma) + dp;
            var r = p / q;
            var stpc = stx + r * (stp - stx);
            var stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
            stpf = Math.Abs(stpc - stx) < Math.Abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0;
            brackt = true;
        }
        else if (sgnd < 0)
        {
            // A lower function value and derivatives of opposite sign: bracketed.
            var theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            var s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            var gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
            if (stp > stx)
            {
                gamma = -gamma;
            }

            var p = (gamma - dp) + theta;
            var q = ((gamma - dp) + gamma) + dx;
            var r = p / q;
            var stpc = stp + r * (stx - stp);
            var stpq = stp + (dp / (dp - dx)) * (stx - stp);
            stpf = Math.Abs(stpc - stp) > Math.Abs(stpq - stp) ? stpc : stpq;
            brackt = true;
        }
        else if (Math.Abs(dp) < Math.Abs(dx))
        {
            // A lower function value, derivatives of the same sign, and the slope's magnitude decreases.
            var theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            var s = Max3(Math.Abs(theta), Math.Abs(dx), Math.Abs(dp));
            var gamma = s * Math.Sqrt(Math.Max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
            if (stp > stx)
            {
                gamma = -gamma;
            }

            var p = (gamma - dp) + theta;
            var q = (gamma + (dx - dp)) + gamma;
            var r = p / q;
            double stpc;
            if (r < 0 && gamma != 0)
            {
                stpc = stp + r * (stx - stp);
            }
            else if (stp > stx)
            {
                stpc = stpmax;
            }
            else
            {
                stpc = stpmin;
            }

            var stpq = stp + (dp / (dp - dx)) * (stx - stp);
            if (brackt)
            {
                stpf = Math.Abs(stpc - stp) < Math.Abs(stpq - stp) ? stpc : stpq;
                stpf = stp > stx ? Math.Min(stp + 0.66 * (sty - stp), stpf) : Math.Max(stp + 0.66 * (sty - stp), stpf);
            }
            else
            {
                stpf = Math.Abs(stpc - stp) > Math.Abs(stpq - stp) ? stpc : stpq;
                stpf = Math.Min(stpmax, stpf);
                stpf = Math.Max(stpmin, stpf);
            }
        }
        else
        {
            // A lower function value, derivatives of the same sign, and the slope's magnitude does not decrease.
            if (brackt)
            {
                var theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
                var s = Max3(Math.Abs(theta), Math.Abs(dy), Math.Abs(dp));
                var gamma = s * Math.Sqrt((theta / s) * (theta / s) - (dy / s) * (dp / s));
                if (stp > sty)
                {
                    gamma = -gamma;
                }

                var p = (gamma - dp) + theta;
                var q = ((gamma - dp) + gamma) + dy;
                var r = p / q;
                stpf = stp + r * (sty - stp);
            }
            else
            {
                stpf = stp > stx ? stpmax : stpmin;
            }
        }

        if (fp > fx)
        {
            sty = stp;
            fy = fp;
            dy = dp;
        }
        else
        {
            if (sgnd < 0)
            {
                sty = stx;
                fy = fx;
                dy = dx;
            }

            stx = stp;
            fx = fp;
            dx = dp;
        }

        stp = stpf;
    }

    private static double Max3(double a, double b, double c) => Math.Max(a, Math.Max(b, c));
}
