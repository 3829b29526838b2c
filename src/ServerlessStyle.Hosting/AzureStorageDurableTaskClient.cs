using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using CoreFailure = DurableTask.Core.FailureDetails;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace ServerlessStyle.Hosting;

/// <summary>
/// A <see cref="DurableTaskClient"/> over the Azure Storage backend's own client API, so that <c>StyleJobClient</c>
/// and everything else written against Durable Task's client runs unchanged outside Azure Functions. It covers what the
/// project calls: schedule, read an instance (status, custom status, input and output), wait, terminate (recursively:
/// the backend terminates one instance, so this terminates the sub-orchestrations named in the parent's history too),
/// raise an event, list and purge. The rest throws <see cref="NotSupportedException"/> naming the member.
/// </summary>
public sealed class AzureStorageDurableTaskClient : DurableTaskClient
{
    // Reads of one table row: cheap enough for a progress display, short enough that a finished job is seen at once.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    // How long a recursive terminate waits for the parent to record its termination before it reads the children.
    private static readonly TimeSpan TerminateSettleTimeout = TimeSpan.FromSeconds(5);

    private static readonly CoreStatus[] Unfinished = [CoreStatus.Running, CoreStatus.Pending, CoreStatus.Suspended];

    private readonly AzureStorageOrchestrationService _backend;
    private readonly DataConverter _converter;

    internal AzureStorageDurableTaskClient(AzureStorageOrchestrationService backend, DataConverter? converter = null)
        : base("azure-storage")
    {
        _backend = backend;
        _converter = converter ?? Microsoft.DurableTask.Converters.JsonDataConverter.Default;
    }

    /// <summary>Starts an instance; an instance of that id that is still running, pending or suspended makes it throw.</summary>
    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instance = new OrchestrationInstance
        {
            InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"),
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var started = new ExecutionStartedEvent(-1, _converter.Serialize(input))
        {
            Name = orchestratorName.Name,
            Version = options?.Version?.Version ?? string.Empty,
            OrchestrationInstance = instance,
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
        };
        if (options?.Tags is { Count: > 0 } tags)
        {
            started.Tags = new Dictionary<string, string>(tags);
        }

        try
        {
            await _backend.CreateTaskOrchestrationAsync(new TaskMessage { Event = started, OrchestrationInstance = instance }, Unfinished)
                .WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException e)
        {
            throw new InvalidOperationException($"An orchestration with id {instance.InstanceId} is already running: {e.Message}", e);
        }

        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        _backend.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new EventRaisedEvent(-1, _converter.Serialize(eventPayload)) { Name = eventName },
        }).WaitAsync(cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        PollAsync(instanceId, getInputsAndOutputs, m => m.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        PollAsync(instanceId, getInputsAndOutputs, m => m.IsCompleted, cancellation);

    /// <summary>
    /// Terminates the instance; with <see cref="TerminateInstanceOptions.Recursive"/>, then every unfinished
    /// sub-orchestration its history created, depth first (a StyleJob's pairs).
    /// </summary>
    public override async Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var reason = _converter.Serialize(options?.Output);
        await _backend.ForceTerminateTaskOrchestrationAsync(instanceId, reason).WaitAsync(cancellation).ConfigureAwait(false);
        if (options?.Recursive == true)
        {
            await TerminateChildrenAsync(instanceId, reason, depth: 0, cancellation).ConfigureAwait(false);
        }
    }

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        throw Unsupported(nameof(SuspendInstanceAsync));

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        throw Unsupported(nameof(ResumeInstanceAsync));

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var states = await _backend.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: getInputsAndOutputs)
            .WaitAsync(cancellation).ConfigureAwait(false);
        return states.FirstOrDefault() is { } state ? ToMetadata(state, getInputsAndOutputs) : null;
    }

    /// <summary>Pages of instances by creation time, status and id prefix (the backend has no filter by name).</summary>
    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null)
    {
        var query = filter ?? new OrchestrationQuery();
        var condition = new OrchestrationInstanceStatusQueryCondition
        {
            CreatedTimeFrom = query.CreatedFrom?.UtcDateTime ?? default,
            CreatedTimeTo = query.CreatedTo?.UtcDateTime ?? default,
            RuntimeStatus = query.Statuses?.Select(s => (CoreStatus)(int)s).ToArray(),
            InstanceIdPrefix = query.InstanceIdPrefix,
            FetchInput = query.FetchInputsAndOutputs,
        };
        return Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var result = await _backend.GetOrchestrationStateAsync(condition, pageSize ?? query.PageSize, continuation ?? query.ContinuationToken, cancellation)
                .ConfigureAwait(false);
            var items = result.OrchestrationState.Select(s => ToMetadata(s, query.FetchInputsAndOutputs)).ToList();
            return new Page<OrchestrationMetadata>(items, string.IsNullOrEmpty(result.ContinuationToken) ? null : result.ContinuationToken);
        });
    }

    /// <summary>Deletes one instance's history and status (not its sub-orchestrations').</summary>
    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        if (options?.Recursive == true)
        {
            throw Unsupported($"{nameof(PurgeInstanceAsync)} with Recursive");
        }

        var result = await _backend.PurgeInstanceHistoryAsync(instanceId).WaitAsync(cancellation).ConfigureAwait(false);
        return new PurgeResult(result.InstancesDeleted);
    }

    public override Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) =>
        throw Unsupported(nameof(PurgeAllInstancesAsync));

    /// <summary>The backend belongs to the host that made this client; it stops it.</summary>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private NotSupportedException Unsupported(string member) =>
        new($"{member} is not supported by {nameof(AzureStorageDurableTaskClient)}, the self-hosted workers' client over Durable Task's Azure Storage backend; " +
            "it covers schedule, get, wait, terminate, raise event, list and purge.");

    private async Task<OrchestrationMetadata> PollAsync(
        string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation).ConfigureAwait(false) is { } metadata && done(metadata))
            {
                return metadata;
            }

            await Task.Delay(PollInterval, cancellation).ConfigureAwait(false);
        }
    }

    private async Task TerminateChildrenAsync(string instanceId, string? reason, int depth, CancellationToken cancellation)
    {
        // Deep enough for any workflow of this project (job -> pairs); a cycle in ids cannot recurse forever.
        if (depth > 8)
        {
            return;
        }

        // Waits (briefly) until the parent has processed its termination, so that no child it creates afterwards is
        // missed; when no worker runs, the children are not running either, and the ones in its history are ended now.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        OrchestrationState? parent;
        while (true)
        {
            parent = (await _backend.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: false).WaitAsync(cancellation).ConfigureAwait(false))
                .FirstOrDefault();
            if (parent is null || !Unfinished.Contains(parent.OrchestrationStatus) || clock.Elapsed > TerminateSettleTimeout)
            {
                break;
            }

            await Task.Delay(PollInterval, cancellation).ConfigureAwait(false);
        }

        if (parent?.OrchestrationInstance?.ExecutionId is not { } executionId)
        {
            return;
        }

        var history = await _backend.GetOrchestrationHistoryAsync(instanceId, executionId).WaitAsync(cancellation).ConfigureAwait(false);
        foreach (var child in SubOrchestrationIds(history))
        {
            var state = (await _backend.GetOrchestrationStateAsync(child, allExecutions: false, fetchInput: false).WaitAsync(cancellation).ConfigureAwait(false))
                .FirstOrDefault();
            if (state is not null && Unfinished.Contains(state.OrchestrationStatus))
            {
                await _backend.ForceTerminateTaskOrchestrationAsync(child, reason).WaitAsync(cancellation).ConfigureAwait(false);
            }

            await TerminateChildrenAsync(child, reason, depth + 1, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>The instance ids of the SubOrchestrationInstanceCreated events in a history as the backend serialises it (JSON).</summary>
    internal static IReadOnlyList<string> SubOrchestrationIds(string historyJson)
    {
        var ids = new List<string>();
        using var history = JsonDocument.Parse(historyJson);
        foreach (var e in history.RootElement.EnumerateArray())
        {
            if (e.TryGetProperty("EventType", out var type) && IsSubOrchestrationCreated(type)
                && e.TryGetProperty("InstanceId", out var id) && id.GetString() is { Length: > 0 } child && !ids.Contains(child))
            {
                ids.Add(child);
            }
        }

        return ids;
    }

    private static bool IsSubOrchestrationCreated(JsonElement type) => type.ValueKind switch
    {
        JsonValueKind.Number => type.GetInt32() == (int)EventType.SubOrchestrationInstanceCreated,
        JsonValueKind.String => type.GetString() == nameof(EventType.SubOrchestrationInstanceCreated),
        _ => false,
    };

    private OrchestrationMetadata ToMetadata(OrchestrationState state, bool withData) =>
        new(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = _converter,
            RuntimeStatus = ToRuntimeStatus(state.OrchestrationStatus),
            CreatedAt = Utc(state.CreatedTime),
            LastUpdatedAt = Utc(state.LastUpdatedTime),
            SerializedInput = withData ? state.Input : null,
            SerializedOutput = withData ? state.Output : null,
            SerializedCustomStatus = withData ? state.Status : null,
            FailureDetails = ToFailure(state.FailureDetails),
        };

    private static OrchestrationRuntimeStatus ToRuntimeStatus(CoreStatus status) => status switch
    {
        // ContinuedAsNew is a moment between two generations of one running instance.
        CoreStatus.Running or CoreStatus.ContinuedAsNew => OrchestrationRuntimeStatus.Running,
        CoreStatus.Completed => OrchestrationRuntimeStatus.Completed,
        CoreStatus.Failed => OrchestrationRuntimeStatus.Failed,
        CoreStatus.Terminated or CoreStatus.Canceled => OrchestrationRuntimeStatus.Terminated,
        CoreStatus.Pending => OrchestrationRuntimeStatus.Pending,
        CoreStatus.Suspended => OrchestrationRuntimeStatus.Suspended,
        _ => throw new NotSupportedException($"Unknown orchestration status {status}."),
    };

    private static TaskFailureDetails? ToFailure(CoreFailure? failure) =>
        failure is null ? null : new TaskFailureDetails(failure.ErrorType, failure.ErrorMessage, failure.StackTrace, ToFailure(failure.InnerFailure), null);

    private static DateTimeOffset Utc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime());
}
