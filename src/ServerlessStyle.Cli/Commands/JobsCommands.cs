using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>The storage and task hub of a <c>jobs</c> command, and one job id where the command takes one.</summary>
internal static class JobsConnection
{
    /// <summary>Runs <paramref name="work"/> with a client of the hub (no worker) and the job blobs of the same storage.</summary>
    public static async Task<int> RunAsync(
        HubSettings settings, CancellationToken cancellationToken, Func<LocalDurableHost, JobStorage, CancellationToken, Task<int>> work)
    {
        using var storage = await StorageChoice.ResolveAsync(settings.Storage, Console.Error, cancellationToken).ConfigureAwait(false);
        await using var host = LocalDurableHost.Connect(storage.Configuration(settings.TaskHub));
        await using var services = new ServiceCollection().AddServerlessStyle(storage.ConnectionString).BuildServiceProvider();
        return await work(host, services.GetRequiredService<JobStorage>(), cancellationToken).ConfigureAwait(false);
    }

    public static JobProgress Require(JobProgress? progress, string jobId, LocalDurableHost host) =>
        progress ?? throw new CliUsageException($"no job {jobId} in task hub {host.Hub.TaskHub} (another --storage or --task-hub holds it?).");
}

/// <summary>Settings of the jobs commands that name one job.</summary>
internal class JobSettings : HubSettings
{
    [CommandArgument(0, "<JOB>")]
    [Description("The job id (run prints it as 'job: ID'; jobs list lists them).")]
    public string Job { get; init; } = "";

    public override ValidationResult Validate() =>
        JobIds.IsValid(Job) ? base.Validate() : ValidationResult.Error($"'{Job}' is not a job id (lowercase letters, digits and '-').");
}

/// <summary><c>jobs list</c>: the task hub's jobs, newest first, one line each.</summary>
internal sealed class JobsListCommand : AsyncCommand<HubSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, HubSettings settings, CancellationToken cancellationToken) =>
        JobsConnection.RunAsync(settings, cancellationToken, async (host, _, ct) =>
        {
            var jobs = new List<OrchestrationMetadata>();
            await foreach (var instance in host.Client.GetAllInstancesAsync(new OrchestrationQuery { PageSize = 100 }).WithCancellation(ct).ConfigureAwait(false))
            {
                if (instance.Name == StyleOrchestrationNames.StyleJob)
                {
                    jobs.Add(instance);
                }
            }

            Console.Out.WriteLine($"{"JOB",-40} {"STATUS",-11} {"CREATED (UTC)",-19} UPDATED (UTC)");
            foreach (var job in jobs.OrderByDescending(j => j.CreatedAt))
            {
                Console.Out.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{job.InstanceId,-40} {job.RuntimeStatus,-11} {job.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} {job.LastUpdatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}"));
            }

            return 0;
        });
}

/// <summary><c>jobs show JOB</c>: the job's progress as JSON: state, reason, and per pair the iteration, loss and latest image.</summary>
internal sealed class JobsShowCommand : AsyncCommand<JobSettings>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public override Task<int> ExecuteAsync(CommandContext context, JobSettings settings, CancellationToken cancellationToken) =>
        JobsConnection.RunAsync(settings, cancellationToken, async (host, _, ct) =>
        {
            var progress = JobsConnection.Require(await host.GetProgressAsync(settings.Job, ct).ConfigureAwait(false), settings.Job, host);
            Console.Out.WriteLine(JsonSerializer.Serialize(progress, Json));
            return 0;
        });
}

/// <summary><c>jobs wait JOB</c>: follows the job to its end; 0 when it completed (its files in DIR/{job}/ with --out), else the reason.</summary>
internal sealed class JobsWaitCommand : AsyncCommand<JobsWaitCommand.Settings>
{
    /// <summary>The exit code when the job did not end within --timeout.</summary>
    public const int TimedOut = 2;

    public sealed class Settings : JobSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Download the finished job's results to DIR/{job}/ (as run does).")]
        public string? Out { get; init; }

        [CommandOption("--timeout <SECONDS>")]
        [Description("Give up after this many seconds (exit code 2); default: wait as long as it takes.")]
        public double? Timeout { get; init; }

        public override ValidationResult Validate() =>
            Timeout is <= 0 ? ValidationResult.Error($"--timeout {Timeout}: give a positive number of seconds.") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var signals = new ShutdownSignals(cancellationToken);
        using var deadline = settings.Timeout is { } seconds ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(signals.Token, deadline.Token);
        try
        {
            return await JobsConnection.RunAsync(settings, stop.Token, async (host, blobs, ct) =>
            {
                JobsConnection.Require(await host.GetProgressAsync(settings.Job, ct).ConfigureAwait(false), settings.Job, host);
                var progress = await RunProgress.FollowAsync(RunProgress.ConsoleFor(Console.Out), c => host.GetProgressAsync(settings.Job, c), ct).ConfigureAwait(false);
                if (settings.Out is not null)
                {
                    await JobResults.DownloadAsync(blobs, progress, settings.Out, Console.Out, ct).ConfigureAwait(false);
                }

                return JobResults.Outcome(progress, Console.Error);
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !signals.Token.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"serverless-style: job {settings.Job} did not end within {settings.Timeout} s; it goes on (jobs show {settings.Job}).").ConfigureAwait(false);
            return TimedOut;
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            return signals.ExitCode;
        }
    }
}

/// <summary><c>jobs cancel JOB</c>: marks the job Canceled (final) and terminates it and its pairs; what it made so far stays.</summary>
internal sealed class JobsCancelCommand : AsyncCommand<JobSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, JobSettings settings, CancellationToken cancellationToken) =>
        JobsConnection.RunAsync(settings, cancellationToken, async (host, blobs, ct) =>
        {
            var before = JobsConnection.Require(await host.GetProgressAsync(settings.Job, ct).ConfigureAwait(false), settings.Job, host);
            if (RunProgress.HasEnded(before))
            {
                Console.Out.WriteLine($"job {settings.Job} had already ended ({before.State.ToLowerInvariant()}); nothing to cancel.");
                return 0;
            }

            await StyleJobClient.CancelAsync(host.Client, blobs, settings.Job, cancellationToken: ct).ConfigureAwait(false);

            // The backend terminates through a message that a worker of the hub processes; with none running, it waits there.
            var after = await host.GetProgressAsync(settings.Job, ct).ConfigureAwait(false);
            Console.Out.WriteLine(after is not null && RunProgress.HasEnded(after)
                ? $"job {settings.Job} canceled: its running chunk stops without writing, and what it made so far stays in results/{settings.Job}/."
                : $"job {settings.Job}: cancel requested; it ends as soon as a worker of task hub {host.Hub.TaskHub} takes the request (none has yet).");
            return 0;
        });
}
