using ServerlessStyle.Core.Evaluation;

namespace ServerlessStyle.CommandLine;

/// <summary>
/// Resolves --provider once, before any session is built: <c>auto</c> without CUDA says so in one plain line (the
/// reason only with --verbose); <c>cuda</c> without CUDA fails with the whole reason.
/// </summary>
public static class ProviderChoice
{
    public static ExecutionProvider Resolve(string option, bool verbose, TextWriter notes)
    {
        var (provider, reason) = CudaProbe.Resolve(ExecutionProviders.Parse(option, "--provider"));
        if (reason is not null)
        {
            notes.WriteLine("CUDA not available: using the CPU");
            if (verbose)
            {
                notes.WriteLine($"  why: {reason}");
            }
        }

        return provider;
    }
}
