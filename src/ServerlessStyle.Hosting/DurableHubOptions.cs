using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The task hub that workers, <c>run</c> and <c>jobs</c> share on Durable Task's Azure Storage backend (section
/// <c>ServerlessStyle:Durable</c>). The time limits are short on purpose: they decide how soon another worker takes
/// over the work of one that crashed (docs/runner.md, "Recovery after a crash"), and a local run should not wait the
/// backend's five-minute defaults.
/// </summary>
public sealed partial class DurableHubOptions
{
    public const string SectionName = "ServerlessStyle:Durable";

    /// <summary>The self-hosted workers' hub; a Functions app uses its own (host.json's hubName), never this one.</summary>
    public const string DefaultTaskHub = "serverlessstyleworkers";

    /// <summary>The storage account of the hub; empty: ServerlessStyle:Storage:ConnectionString (the job's blobs).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>3 to 45 letters and digits, starting with a letter: the prefix of the hub's queues, tables and containers.</summary>
    public string TaskHub { get; set; } = DefaultTaskHub;

    /// <summary>This process's name in the hub's partition leases and logs; empty: machine name and process id.</summary>
    public string? WorkerId { get; set; }

    /// <summary>
    /// How long a dequeued activity message stays hidden from other workers. A running activity renews it every 5 s, so
    /// this only bounds how long a crashed worker's chunk waits before another worker takes it.
    /// </summary>
    public TimeSpan WorkItemVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The same for orchestration messages (orchestration steps take milliseconds).</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a worker owns a partition of the hub without renewing it: a crashed worker's partitions move after this.</summary>
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan LeaseAcquireInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest pause between polls of an idle queue; short keeps chunks back to back, longer costs fewer storage calls.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Control queues of the hub, fixed when the hub is created: at most this many workers run orchestration steps.</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>Activities (chunks) one worker runs at once: 1, since one evaluation already uses every core (or the GPU).</summary>
    public int MaxConcurrentActivities { get; set; } = 1;

    public int MaxConcurrentOrchestrations { get; set; } = 10;

    /// <summary>How long stopping may take before the running activity is left to the process exit (Ctrl-C must end within 10 s).</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(7);

    /// <summary>Deletes the hub's queues, tables and containers when the host stops: for tools that use a hub of their own once.</summary>
    public bool DeleteTaskHubOnStop { get; set; }

    /// <summary>The machine name and process id: unique among the workers of one hub, and it says where a chunk ran.</summary>
    public static string DefaultWorkerId => $"{Environment.MachineName}-{Environment.ProcessId}";

    public string EffectiveWorkerId => string.IsNullOrWhiteSpace(WorkerId) ? DefaultWorkerId : WorkerId;

    /// <summary>Reads the section and the storage connection string from <paramref name="configuration"/>, and checks them.</summary>
    public static DurableHubOptions From(IConfiguration configuration)
    {
        var options = new DurableHubOptions();
        configuration.GetSection(SectionName).Bind(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            options.ConnectionString = configuration["ServerlessStyle:Storage:ConnectionString"];
        }

        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="DurableHubException"/> with a message naming the setting.</summary>
    public void Validate()
    {
        if (!IsValidTaskHub(TaskHub))
        {
            throw new DurableHubException($"task hub '{TaskHub}': use 3 to 45 letters and digits, starting with a letter (it prefixes the hub's queues and tables).");
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new DurableHubException("no storage connection string for the task hub (ServerlessStyle:Storage:ConnectionString or ServerlessStyle:Durable:ConnectionString).");
        }

        StorageEndpoints.RequireQueuesAndTables(ConnectionString);
        foreach (var (name, value) in new[]
                 {
                     (nameof(WorkItemVisibilityTimeout), WorkItemVisibilityTimeout), (nameof(ControlQueueVisibilityTimeout), ControlQueueVisibilityTimeout),
                     (nameof(LeaseInterval), LeaseInterval), (nameof(LeaseRenewInterval), LeaseRenewInterval), (nameof(LeaseAcquireInterval), LeaseAcquireInterval),
                     (nameof(MaxQueuePollingInterval), MaxQueuePollingInterval),
                 })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new DurableHubException($"{SectionName}:{name} is {value}; give a positive time such as 00:00:15.");
            }
        }

        if (LeaseRenewInterval >= LeaseInterval)
        {
            throw new DurableHubException($"{SectionName}:LeaseRenewInterval ({LeaseRenewInterval}) must be shorter than LeaseInterval ({LeaseInterval}), or leases expire while they are held.");
        }

        if (PartitionCount is < 1 or > 16)
        {
            throw new DurableHubException($"{SectionName}:PartitionCount is {PartitionCount}; allowed: 1..16.");
        }

        if (MaxConcurrentActivities is < 1 or > 64 || MaxConcurrentOrchestrations is < 1 or > 1000)
        {
            throw new DurableHubException($"{SectionName}: MaxConcurrentActivities ({MaxConcurrentActivities}) must be 1..64 and MaxConcurrentOrchestrations ({MaxConcurrentOrchestrations}) 1..1000.");
        }
    }

    public static bool IsValidTaskHub(string? name) => name is not null && TaskHubPattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex TaskHubPattern();
}

/// <summary>A task hub that cannot be used as configured; the message is one line a user can act on.</summary>
public sealed class DurableHubException(string message, Exception? inner = null) : Exception(message, inner);
