using System.Diagnostics;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Hosting;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerlessStyle.Hosting;

/// <summary>
/// A durabletask-dotnet worker whose engine is DurableTask.Core's <see cref="TaskHubWorker"/> over the Azure Storage
/// backend: the orchestrators and activities registered with <c>AddStyleWorkflow</c> reach it as an
/// <see cref="IDurableTaskFactory"/> (through <c>UseBuildTarget</c>), and <see cref="DurableTaskShimFactory"/> turns
/// each into the DurableTask.Core object the backend's dispatchers run. Every activity gets a service scope of its own
/// and runs through the <see cref="ActivityGate"/>, so stopping the worker abandons it instead of losing it.
/// </summary>
internal sealed class AzureStorageWorker : DurableTaskWorker
{
    private readonly IServiceProvider _services;
    private readonly AzureStorageOrchestrationService _backend;
    private readonly ActivityGate _gate;
    private readonly DurableHubOptions _hub;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly DurableTaskShimFactory _shims;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AzureStorageWorker(
        string name, IDurableTaskFactory factory, IServiceProvider services, AzureStorageOrchestrationService backend, ActivityGate gate,
        DurableHubOptions hub, IOptionsMonitor<DurableTaskWorkerOptions> options, ILoggerFactory loggerFactory)
        : base(name, factory)
    {
        _services = services;
        _backend = backend;
        _gate = gate;
        _hub = hub;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger(LogCategory);
        _shims = new DurableTaskShimFactory(options.Get(name), loggerFactory);
    }

    /// <summary>The log category of the worker's own lines: joined, and one per activity started, done, failed or abandoned.</summary>
    public const string LogCategory = "ServerlessStyle.Hosting.Worker";

    /// <summary>Completes once the worker has joined the hub; faults when it could not.</summary>
    public Task Started => _started.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TaskHubWorker worker;
        try
        {
            await _backend.CreateIfNotExistsAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
            worker = new TaskHubWorker(_backend, new Orchestrations(this), new Activities(this), _loggerFactory)
            {
                // Activity failures reach the orchestrators as TaskFailureDetails (type, message, inner failure): the
                // workflow reads them to tell bad input from transient faults, as it does under Durable Functions.
                ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
            };
            await worker.StartAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            throw;
        }

        _log.LogInformation(
            "worker {WorkerId} joined task hub {TaskHub} on {Storage}; Ctrl-C or SIGTERM stops it, handing its running chunk back",
            _hub.EffectiveWorkerId, _hub.TaskHub, StorageEndpoints.Describe(_hub.ConnectionString!));
        _started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        // Running activities give up first, so the dispatchers below have nothing left to wait for; their messages go
        // back to the queue. Then the worker stops fetching and releases its partition leases for the other workers.
        _gate.Stop();
        await worker.StopAsync(isForced: false).ConfigureAwait(false);
        _log.LogInformation("worker {WorkerId} left task hub {TaskHub}", _hub.EffectiveWorkerId, _hub.TaskHub);
    }

    /// <summary>Creates a shim per orchestration execution; an unknown name gives null (the backend retries it, so every name is registered).</summary>
    private sealed class Orchestrations(AzureStorageWorker worker) : INameVersionObjectManager<TaskOrchestration>
    {
        public void Add(ObjectCreator<TaskOrchestration> creator) =>
            throw new NotSupportedException("Orchestrations are registered with AddStyleWorkflow, not on the DurableTask.Core worker.");

        public TaskOrchestration? GetObject(string name, string? version) =>
            worker.Factory.TryCreateOrchestrator(new TaskName(name), worker._services, out var orchestrator)
                ? worker._shims.CreateOrchestration(new TaskName(name), orchestrator)
                : null;
    }

    private sealed class Activities(AzureStorageWorker worker) : INameVersionObjectManager<TaskActivity>
    {
        public void Add(ObjectCreator<TaskActivity> creator) =>
            throw new NotSupportedException("Activities are registered with AddStyleWorkflow, not on the DurableTask.Core worker.");

        public TaskActivity? GetObject(string name, string? version) =>
            worker.Factory.TryCreateActivity(new TaskName(name), worker._services, out _) ? new GatedActivity(worker, name) : null;
    }

    /// <summary>
    /// One activity execution: a service scope of its own, the gate (stop refuses new ones and abandons running ones,
    /// which puts the message back on the queue at once instead of after the visibility timeout), and a log line at
    /// start and end that says which worker ran what.
    /// </summary>
    private sealed class GatedActivity(AzureStorageWorker worker, string name) : TaskActivity
    {
        public override string Run(TaskContext context, string input) =>
            throw new NotSupportedException("Activities run asynchronously.");

        public override async Task<string> RunAsync(TaskContext context, string input)
        {
            var instance = context.OrchestrationInstance.InstanceId;
            using var running = worker._gate.Enter();
            await using var scope = worker._services.CreateAsyncScope();
            if (!worker.Factory.TryCreateActivity(new TaskName(name), scope.ServiceProvider, out var activity))
            {
                throw new InvalidOperationException($"Activity {name} is not registered.");
            }

            var clock = Stopwatch.StartNew();
            worker._log.LogInformation("{Activity} for {Instance} started on {WorkerId}", name, instance, worker._hub.EffectiveWorkerId);
            try
            {
                var output = await worker._shims.CreateActivity(new TaskName(name), activity).RunAsync(context, input).ConfigureAwait(false);
                worker._log.LogInformation(
                    "{Activity} for {Instance} done in {Seconds:0.000} s on {WorkerId}", name, instance, clock.Elapsed.TotalSeconds, worker._hub.EffectiveWorkerId);
                return output!;
            }
            catch (Exception) when (worker._gate.IsStopping)
            {
                worker._log.LogInformation(
                    "{Activity} for {Instance} abandoned after {Seconds:0.000} s on {WorkerId}: the worker is stopping, the message goes back to the queue",
                    name, instance, clock.Elapsed.TotalSeconds, worker._hub.EffectiveWorkerId);
                throw new SessionAbortedException($"{name} for {instance} was stopped with its worker.");
            }
            catch (Exception e)
            {
                worker._log.LogWarning("{Activity} for {Instance} failed on {WorkerId}: {Message}", name, instance, worker._hub.EffectiveWorkerId, e.Message);
                throw;
            }
        }
    }
}
