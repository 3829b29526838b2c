using System.Diagnostics;
using DurableTask.AzureStorage;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The StyleJob and StylePair orchestrations and their activities on Durable Task's Azure Storage backend, the one
/// Durable Functions itself runs on: a task hub of queues, tables and blobs in one storage account (Azurite locally).
/// <see cref="StartAsync"/> joins the hub as a worker in this process, with the services of
/// <see cref="ServiceCollectionExtensions.AddServerlessStyle"/>, and gives a client; <see cref="Connect"/> gives the
/// client alone. Any number of such workers, in any number of processes and machines, share the work of one hub, and
/// a job outlives the process that submitted it.
/// </summary>
public sealed class LocalDurableHost : IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _backend;
    private readonly ServiceProvider? _services;
    private readonly AzureStorageWorker? _worker;
    private readonly ActivityGate? _gate;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _backgroundStop = new();
    private Task _inboxListener = Task.CompletedTask;
    private Task _retentionTimer = Task.CompletedTask;
    private int _disposed;

    private LocalDurableHost(
        DurableHubOptions hub, AzureStorageOrchestrationService backend, ServiceProvider? services, AzureStorageWorker? worker, ActivityGate? gate, ILogger log)
    {
        Hub = hub;
        _backend = backend;
        _services = services;
        _worker = worker;
        _gate = gate;
        _log = log;
        Client = new AzureStorageDurableTaskClient(backend);
    }

    public DurableTaskClient Client { get; }

    /// <summary>The hub's settings as used (task hub name, worker id, time limits).</summary>
    public DurableHubOptions Hub { get; }

    /// <summary>This process's worker id, or null for a client without a worker.</summary>
    public string? WorkerId => _worker is null ? null : Hub.EffectiveWorkerId;

    /// <summary>Ends when the worker stops; faults when it fails (storage gone, for example). Never ends without a worker.</summary>
    public Task Completion => _worker?.ExecuteTask ?? Task.Delay(Timeout.Infinite);

    /// <summary>
    /// Joins the task hub as a worker; <paramref name="configuration"/> holds the ServerlessStyle:* settings (storage,
    /// engine, limits, and Durable for the hub), and <paramref name="configureServices"/> may replace or wrap services
    /// after them (a benchmark times the work, a command adds a log provider).
    /// </summary>
    public static async Task<LocalDurableHost> StartAsync(
        IConfiguration configuration, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        var hub = DurableHubOptions.From(configuration);
        var retention = RetentionTimer.Parse(configuration[RetentionTimer.ScheduleKey]);
        var gate = new ActivityGate();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        // No log providers unless the caller adds one: `run` shows progress bars, failures come back in the job summary.
        services.AddLogging();
        services.AddServerlessStyle();
        configureServices?.Invoke(services);
        StoppableStyleWork.Decorate(services, gate);
        services.AddSingleton(gate);
        services.AddSingleton(hub);
        services.AddSingleton(sp => TaskHubBackend.Create(hub, sp.GetRequiredService<ILoggerFactory>()));
        services.AddDurableTaskWorker(builder =>
        {
            builder.AddTasks(registry => registry.AddStyleWorkflow());
            builder.UseBuildTarget<AzureStorageWorker>();
        });

        var provider = services.BuildServiceProvider();
        var worker = provider.GetServices<IHostedService>().OfType<AzureStorageWorker>().Single();
        var host = new LocalDurableHost(
            hub, provider.GetRequiredService<AzureStorageOrchestrationService>(), provider, worker, gate,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger(AzureStorageWorker.LogCategory));
        try
        {
            await worker.StartAsync(cancellationToken).ConfigureAwait(false);
            await worker.Started.WaitAsync(cancellationToken).ConfigureAwait(false);
            host.ListenToInbox(configuration, provider);
            if (retention is not null)
            {
                host.StartRetentionTimer(retention, configuration[RetentionTimer.ScheduleKey]!, provider);
            }

            return host;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await host.DisposeAsync().ConfigureAwait(false);
            // The storage SDK's retries arrive as an AggregateException listing every try: the first one says why.
            var reason = e is AggregateException { InnerExceptions.Count: > 0 } tries ? tries.InnerExceptions[0].Message : e.Message;
            throw new DurableHubException($"could not join task hub {hub.TaskHub} on {StorageEndpoints.Describe(hub.ConnectionString!)}: {reason}", e);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A client of the task hub without a worker: to submit, follow, list and cancel jobs that workers elsewhere run.</summary>
    public static LocalDurableHost Connect(IConfiguration configuration, ILoggerFactory? loggerFactory = null)
    {
        var hub = DurableHubOptions.From(configuration);
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        return new LocalDurableHost(hub, TaskHubBackend.Create(hub, logs), null, null, null, logs.CreateLogger(AzureStorageWorker.LogCategory));
    }

    /// <summary>Schedules StyleJob with the job's own id unless an instance of that id exists already.</summary>
    public Task<StartedJob> ScheduleAsync(JobInput input, CancellationToken cancellationToken = default) =>
        StyleJobClient.StartAsync(Client, input, cancellationToken);

    /// <summary>
    /// Makes sure the job runs: schedules it when the hub has no instance of it, leaves a running one alone, and starts
    /// one whose orchestration failed or was terminated again with the same id, so that it continues from its
    /// checkpoints (finished chunks are found and reused). A completed job is left as it is. (A job its user canceled
    /// stays canceled: its job.json says so, and its activities then do no work.)
    /// </summary>
    public async Task<JobStart> ScheduleOrResumeAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        var existing = await Client.GetInstanceAsync(input.JobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return (await ScheduleAsync(input, cancellationToken).ConfigureAwait(false)).AlreadyExisted ? JobStart.Running : JobStart.Scheduled;
        }

        if (!existing.IsCompleted)
        {
            return JobStart.Running;
        }

        if (existing.RuntimeStatus == OrchestrationRuntimeStatus.Completed && existing.ReadOutputAs<JobSummary>()?.State == JobState.Completed)
        {
            return JobStart.Completed;
        }

        await Client.ScheduleNewOrchestrationInstanceAsync(
            StyleOrchestrationNames.StyleJob, input, new Microsoft.DurableTask.StartOrchestrationOptions(input.JobId), cancellationToken).ConfigureAwait(false);
        return JobStart.Restarted;
    }

    /// <summary>The job's progress: its state and, per pair, the latest iteration, loss and image.</summary>
    public Task<JobProgress?> GetProgressAsync(string jobId, CancellationToken cancellationToken = default) =>
        StyleJobClient.GetProgressAsync(Client, jobId, cancellationToken);

    /// <summary>Schedules a job and waits for its end: its summary (Completed or Failed with the reason).</summary>
    public async Task<JobSummary> RunToEndAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        await ScheduleAsync(input, cancellationToken).ConfigureAwait(false);
        var wait = Client.WaitForInstanceCompletionAsync(input.JobId, getInputsAndOutputs: true, cancellationToken);
        if (await Task.WhenAny(wait, Completion).ConfigureAwait(false) != wait)
        {
            await Completion.ConfigureAwait(false);
            throw new DurableHubException($"the worker stopped before job {input.JobId} ended.");
        }

        var job = await wait.ConfigureAwait(false);
        return job.RuntimeStatus == OrchestrationRuntimeStatus.Completed
            ? job.ReadOutputAs<JobSummary>() ?? throw new InvalidOperationException($"Job {input.JobId} completed without a summary.")
            : new JobSummary(input.JobId, JobState.Failed, job.FailureDetails?.ErrorMessage ?? $"the orchestration ended {job.RuntimeStatus}", []);
    }

    /// <summary>
    /// Stops the worker: the running activity gives up at its next evaluation and its message goes back to the queue
    /// (another worker, or this one next time, runs that chunk again from its checkpoint), the partition leases are
    /// released, and the engine's ONNX Runtime sessions are disposed once no activity runs any more.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        await _backgroundStop.CancelAsync().ConfigureAwait(false);
        await _inboxListener.ConfigureAwait(false);
        await _retentionTimer.ConfigureAwait(false);
        _backgroundStop.Dispose();
        var idle = true;
        if (_worker is not null)
        {
            _gate!.Stop();
            using var budget = new CancellationTokenSource(Hub.StopTimeout);
            try
            {
                await _worker.StopAsync(budget.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or AggregateException)
            {
            }

            idle = await _gate.WhenIdleAsync(Remaining(clock)).ConfigureAwait(false);
        }

        if (Hub.DeleteTaskHubOnStop)
        {
            try
            {
                await _backend.DeleteAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.LogWarning("could not delete task hub {TaskHub}: {Message}", Hub.TaskHub, e.Message);
            }
        }

        if (!idle)
        {
            // Disposing the engine now would free native sessions under a running evaluation (a crash, not an error):
            // the process is about to end and frees them itself; the activity's message is redelivered after the
            // visibility timeout.
            _log.LogWarning("an activity was still running {Seconds:0} s after stopping; its engine is left to the process exit", clock.Elapsed.TotalSeconds);
            return;
        }

        if (_services is not null)
        {
            await _services.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _backend.Dispose();
        }

        _gate?.Dispose();
    }

    /// <summary>
    /// Every worker consumes the inbox queue, as the Functions app does in Azure: a drop (<see cref="InboxQueue.DropAsync"/>)
    /// starts its job on whichever worker takes the message. Its failures are logged and never stop the worker.
    /// </summary>
    private void ListenToInbox(IConfiguration configuration, ServiceProvider provider)
    {
        var inbox = new InboxQueue(
            configuration["ServerlessStyle:Storage:ConnectionString"] is { Length: > 0 } storage ? storage : Hub.ConnectionString!,
            provider.GetRequiredService<JobStorage>());
        var starter = provider.GetRequiredService<InboxStarter>();
        var log = provider.GetRequiredService<ILoggerFactory>().CreateLogger<InboxQueue>();
        _inboxListener = Task.Run(async () =>
        {
            try
            {
                await inbox.ListenAsync(starter, Client, log, _backgroundStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_backgroundStop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                log.LogError("the inbox queue {Queue} is no longer listened to: {Message}", inbox.Name, e.Message);
            }
        });
    }

    /// <summary>
    /// With <see cref="RetentionTimer.ScheduleKey"/> set (<paramref name="text"/>), the worker purges ended jobs on that schedule while it is up, as
    /// the Functions app's timer does in a replica (ServerlessStyle:Retention for the days). Its failures are logged and
    /// never stop the worker.
    /// </summary>
    private void StartRetentionTimer(NCrontab.CrontabSchedule schedule, string text, ServiceProvider provider)
    {
        var storage = provider.GetRequiredService<JobStorage>();
        var options = provider.GetRequiredService<IOptions<RetentionOptions>>().Value;
        var log = provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RetentionTimer).FullName!);
        log.LogInformation("Retention on schedule '{Schedule}' (UTC): InputDays={InputDays}, ResultDays={ResultDays}", text, options.InputDays, options.ResultDays);
        _retentionTimer = Task.Run(async () =>
        {
            try
            {
                await RetentionTimer.RunAsync(schedule, storage, Client, options, TimeProvider.System, log, _backgroundStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_backgroundStop.IsCancellationRequested)
            {
            }
        });
    }

    private TimeSpan Remaining(Stopwatch clock)
    {
        var left = Hub.StopTimeout - clock.Elapsed;
        return left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1);
    }
}

/// <summary>What <see cref="LocalDurableHost.ScheduleOrResumeAsync"/> found and did.</summary>
public enum JobStart
{
    /// <summary>The hub had no such job: it is scheduled now.</summary>
    Scheduled,

    /// <summary>The job is running (or waiting for a worker) already.</summary>
    Running,

    /// <summary>The job's orchestration had failed or been terminated: it starts again from its checkpoints.</summary>
    Restarted,

    /// <summary>The job completed earlier: nothing to run.</summary>
    Completed,
}
