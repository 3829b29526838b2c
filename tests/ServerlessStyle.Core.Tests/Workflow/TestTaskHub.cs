using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// The product's durable engine for the workflow tests: the StyleJob and StylePair orchestrations and their activities
/// on Durable Task's Azure Storage backend (the one Durable Functions runs on), in a task hub of the test's own on the
/// test run's Azurite, with a worker in this process whose work is <paramref name="work"/>. The hub's queues, tables and
/// containers are deleted at the end.
/// </summary>
internal sealed class TestTaskHub : IAsyncDisposable
{
    private readonly LocalDurableHost _host;

    private TestTaskHub(LocalDurableHost host) => _host = host;

    public DurableTaskClient Client => _host.Client;

    /// <summary>
    /// Joins a new hub as its only worker. Leases and visibility timeouts are short so that a start takes about a
    /// second; up to four activities run at once so that pairs overlap as they do on a fleet.
    /// </summary>
    public static async Task<TestTaskHub> StartAsync(IStyleWork work, CancellationToken cancellationToken = default)
    {
        var hub = $"t{Guid.NewGuid():N}"[..12];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = Azurite.ConnectionString,
            // The worker's inbox listener reads {prefix}inbox-events: a queue of this hub's own, so that it never takes
            // a drop meant for another test's workers.
            ["ServerlessStyle:Storage:ContainerPrefix"] = $"{hub}-",
            ["ServerlessStyle:Durable:TaskHub"] = hub,
            ["ServerlessStyle:Durable:PartitionCount"] = "1",
            ["ServerlessStyle:Durable:MaxConcurrentActivities"] = "4",
            ["ServerlessStyle:Durable:LeaseInterval"] = "00:00:06",
            ["ServerlessStyle:Durable:LeaseRenewInterval"] = "00:00:02",
            ["ServerlessStyle:Durable:LeaseAcquireInterval"] = "00:00:01",
            ["ServerlessStyle:Durable:DeleteTaskHubOnStop"] = "true",
        }).Build();
        var host = await LocalDurableHost.StartAsync(configuration, services => services.AddSingleton(work), cancellationToken);
        return new TestTaskHub(host);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
