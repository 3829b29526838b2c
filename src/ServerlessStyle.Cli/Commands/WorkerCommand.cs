using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>
/// <c>worker</c>: joins the durable task hub and runs the StyleJob and StylePair orchestrations and the activities of
/// any job in it until Ctrl-C or SIGTERM. Any number of workers on any number of machines may share one hub. With
/// RETENTION_SCHEDULE set, as in the Functions app, it also runs the retention purge on that schedule while it is up.
/// </summary>
internal sealed class WorkerCommand : AsyncCommand<WorkerCommand.Settings>
{
    public sealed class Settings : EngineHubSettings
    {
        [CommandOption("--activities <N>")]
        [Description("Chunks this worker runs at once, 1..16 (default 1: one evaluation already uses every core or the GPU).")]
        public int Activities { get; init; } = 1;

        // --network is the network of the jobs whose request says auto (ServerlessStyle:Engine:Network).
        public override ValidationResult Validate()
        {
            return Activities is < 1 or > 16 ? ValidationResult.Error($"--activities {Activities} is out of range; allowed: 1..16.") : base.Validate();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // The retention timer takes the Functions app's settings from the environment, unset by default (no timer); a
        // schedule that does not parse stops the worker before it joins, with the setting and the value named.
        var retentionSchedule = Environment.GetEnvironmentVariable(RetentionTimer.ScheduleKey);
        RetentionTimer.Parse(retentionSchedule);
        using var signals = new ShutdownSignals(cancellationToken);
        // Resolved once before any session is built: "auto" without CUDA says so in one line instead of ONNX Runtime's error.
        var provider = ProviderChoice.Resolve(settings.Provider, settings.Verbose, Console.Out).ToString().ToLowerInvariant();
        using var storage = await StorageChoice.ResolveAsync(settings.Storage, Console.Out, signals.Token).ConfigureAwait(false);
        var configuration = storage.Configuration(settings.TaskHub, new Dictionary<string, string?>
        {
            ["ServerlessStyle:Engine:Network"] = settings.ParsedNetwork.FilePath is { } path ? Path.GetFullPath(path) : settings.Network,
            ["ServerlessStyle:Engine:Preprocess"] = settings.Preprocess,
            ["ServerlessStyle:Engine:Provider"] = provider,
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
            ["ServerlessStyle:Limits:AllowNetworkFiles"] = "true",
            ["ServerlessStyle:Durable:MaxConcurrentActivities"] = settings.Activities.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [RetentionTimer.ScheduleKey] = retentionSchedule,
            ["ServerlessStyle:Retention:InputDays"] = Environment.GetEnvironmentVariable("ServerlessStyle__Retention__InputDays"),
            ["ServerlessStyle:Retention:ResultDays"] = Environment.GetEnvironmentVariable("ServerlessStyle__Retention__ResultDays"),
        });
        var log = new LineLoggerProvider(Console.Out);
        LocalDurableHost host;
        try
        {
            host = await LocalDurableHost.StartAsync(
                configuration,
                services => services.AddLogging(logging => logging.AddProvider(log)),
                signals.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            return 0;
        }

        var failed = false;
        try
        {
            await Task.WhenAny(host.Completion, Task.Delay(Timeout.Infinite, signals.Token)).ConfigureAwait(false);
            if (host.Completion.IsFaulted)
            {
                failed = true;
                await Console.Error.WriteLineAsync($"serverless-style: the worker stopped: {Secrets.Redact(host.Completion.Exception!.GetBaseException().Message)}").ConfigureAwait(false);
            }
        }
        finally
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }

        return failed ? 1 : 0;
    }
}
