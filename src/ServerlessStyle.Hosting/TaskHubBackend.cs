using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;

namespace ServerlessStyle.Hosting;

/// <summary>Durable Task's Azure Storage backend for one task hub, set up from <see cref="DurableHubOptions"/>.</summary>
internal static class TaskHubBackend
{
    public static AzureStorageOrchestrationService Create(DurableHubOptions options, ILoggerFactory loggerFactory) =>
        new(new AzureStorageOrchestrationServiceSettings
        {
            // The backend's own queue, table and blob clients: they need no API-version pin against Azurite (only the
            // project's blob client does, see BlobClients).
            StorageAccountClientProvider = new StorageAccountClientProvider(options.ConnectionString!),
            TaskHubName = options.TaskHub,
            WorkerId = options.EffectiveWorkerId,
            PartitionCount = options.PartitionCount,
            WorkItemQueueVisibilityTimeout = options.WorkItemVisibilityTimeout,
            ControlQueueVisibilityTimeout = options.ControlQueueVisibilityTimeout,
            LeaseInterval = options.LeaseInterval,
            LeaseRenewInterval = options.LeaseRenewInterval,
            LeaseAcquireInterval = options.LeaseAcquireInterval,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            // The app lease lets one Functions app at a time (named by WEBSITE_SITE_NAME) own a hub; self-hosted workers
            // are one fleet on a hub of their own, so they share the partitions without it.
            UseAppLease = false,
            // Scheduling an id that is already running is an error the client reports, not a silent no-op.
            ThrowExceptionOnInvalidDedupeStatus = true,
            LoggerFactory = loggerFactory,
        });
}
