using System.Globalization;
using ServerlessStyle.Core.Workflow;
using Spectre.Console;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// Follows a job until it ends: a progress bar per pair (iteration/total, loss, seconds per evaluation, time left) on a
/// terminal, one plain line per finished iteration when the output is redirected (logs, tests, CI).
/// </summary>
public static class RunProgress
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A console on <paramref name="output"/> (normally <see cref="Console.Out"/> as it is now). The shared
    /// <see cref="AnsiConsole.Console"/> keeps the writer of its first use, so a command run twice in one process (the
    /// tests run the CLI in-process with Console.Out redirected) would print its progress to the first run's writer.
    /// </summary>
    public static IAnsiConsole ConsoleFor(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });

    /// <summary>Polls <paramref name="poll"/> until the job's orchestration has ended; returns its last progress.</summary>
    public static async Task<JobProgress> FollowAsync(
        IAnsiConsole console, Func<CancellationToken, Task<JobProgress?>> poll, CancellationToken cancellationToken = default)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await FollowPlainAsync(console, poll, cancellationToken).ConfigureAwait(false);
        }

        JobProgress? last = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                while (true)
                {
                    last = await poll(cancellationToken).ConfigureAwait(false);
                    foreach (var pair in last?.Pairs ?? [])
                    {
                        if (!bars.TryGetValue(pair.PairId, out var bar))
                        {
                            bar = bars[pair.PairId] = context.AddTask(Describe(pair), maxValue: pair.Total);
                        }

                        bar.Description = Describe(pair);
                        bar.Value = pair.Iteration;
                    }

                    if (last is not null && HasEnded(last))
                    {
                        foreach (var bar in bars.Values)
                        {
                            bar.StopTask();
                        }

                        return;
                    }

                    await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        return last!;
    }

    /// <summary>True once the StyleJob orchestration has ended (completed, failed or terminated).</summary>
    public static bool HasEnded(JobProgress progress) =>
        progress.RuntimeStatus is "Completed" or "Failed" or "Terminated";

    private static async Task<JobProgress> FollowPlainAsync(
        IAnsiConsole console, Func<CancellationToken, Task<JobProgress?>> poll, CancellationToken cancellationToken)
    {
        var shown = new Dictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            var progress = await poll(cancellationToken).ConfigureAwait(false);
            foreach (var pair in progress?.Pairs ?? [])
            {
                if (!shown.TryGetValue(pair.PairId, out var iteration) || iteration != pair.Iteration)
                {
                    shown[pair.PairId] = pair.Iteration;
                    console.WriteLine(Describe(pair, markup: false));
                }
            }

            if (progress is not null && HasEnded(progress))
            {
                return progress;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The bar's label is kept short so an 80-column terminal still has room for the bar and the time left.</summary>
    private static string Describe(PairStatus pair, bool markup = true)
    {
        var loss = pair.Loss is { } l ? l.ToString("G4", CultureInfo.InvariantCulture) : "-";
        var seconds = pair.SecondsPerEvaluation is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) : "-";
        return markup
            ? Markup.Escape($"{pair.PairId} {pair.Iteration}/{pair.Total} loss {loss} {seconds} s/eval")
            : $"{pair.PairId}  iteration {pair.Iteration}/{pair.Total}  loss {loss}  {seconds} s/evaluation";
    }
}
