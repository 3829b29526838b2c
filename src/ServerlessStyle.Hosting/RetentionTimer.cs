using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using NCrontab;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The retention purge (<see cref="JobRetention.ApplyAsync"/>) on a schedule in a worker, as the Functions app's
/// <c>Retention_Purge</c> timer runs it in a replica: the same setting (<see cref="ScheduleKey"/>, NCRONTAB with
/// seconds, UTC) parsed by the same library as the Functions timer trigger. Off unless the schedule is set.
/// </summary>
public static class RetentionTimer
{
    /// <summary>The Functions app's setting for its timer (<c>%RETENTION_SCHEDULE%</c>), read by the worker too.</summary>
    public const string ScheduleKey = "RETENTION_SCHEDULE";

    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(1);

    /// <summary>
    /// The schedule of <paramref name="text"/>: six fields, seconds first, as the Functions timer takes them; null for
    /// null or blank (no timer). Anything else is a <see cref="FormatException"/> naming the setting and the value.
    /// </summary>
    public static CrontabSchedule? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return CrontabSchedule.TryParse(text.Trim(), new CrontabSchedule.ParseOptions { IncludingSeconds = true })
            ?? throw new FormatException(
                $"{ScheduleKey} '{text}' is not an NCRONTAB expression with seconds: six fields 'second minute hour day month day-of-week' in UTC, for example '0 30 3 * * *' (daily at 03:30).");
    }

    /// <summary>
    /// Purges at every occurrence of <paramref name="schedule"/> until <paramref name="cancellationToken"/> is canceled.
    /// An occurrence missed while the worker was down is not made up here: the deployment's cron window starts a
    /// replica before the schedule (docs/deploy.md, "Retention at zero"). A failed run is logged and the next
    /// occurrence tried, as the timer trigger does.
    /// </summary>
    public static async Task RunAsync(
        CrontabSchedule schedule, JobStorage storage, DurableTaskClient client, RetentionOptions options, TimeProvider clock, ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        var last = clock.GetUtcNow().UtcDateTime;
        while (!cancellationToken.IsCancellationRequested)
        {
            // From the later of now and the last occurrence: a delay that ends a tick early must not run one occurrence twice.
            var now = clock.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now > last ? now : last);
            // In steps of at most a day: a timer cannot wait past 49 days at once, and a yearly schedule may ask for more.
            for (var left = next - now; left > TimeSpan.Zero; left = next - clock.GetUtcNow().UtcDateTime)
            {
                await Task.Delay(left < MaxStep ? left : MaxStep, clock, cancellationToken).ConfigureAwait(false);
            }

            last = next;
            try
            {
                var run = await JobRetention.ApplyAsync(storage, client, options, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                logger.LogInformation(
                    "Retention at {Occurrence:HH:mm:ss}: inputs, state and history of {Inputs} ended jobs deleted, results of {Results} (InputDays={InputDays}, ResultDays={ResultDays})",
                    next, run.InputsDeleted.Count, run.ResultsDeleted.Count, options.InputDays, options.ResultDays);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogError("Retention at {Occurrence:HH:mm:ss} failed: {Error}: {Message}", next, e.GetType().Name, e.Message);
            }
        }
    }
}
