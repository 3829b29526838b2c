using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// The product's durable engine for the workflow tests: the StyleJob and StylePair orchestrations and their activities
/// on Durable Task's Azure Storage backend (the one Durable Functions runs on), in a <see cref="ScratchHub"/> on the
/// test run's Azurite, with a worker in this process whose work is the test's. The hub's container prefix also gives
/// the worker's inbox listener a queue of its own, so that it never takes a drop meant for another test's workers; the
/// hub's queues, tables and containers are deleted at the end.
/// </summary>
internal sealed class TestTaskHub : IAsyncDisposable
{
    // Short leases so that a start takes about a second; up to four activities at once so that pairs overlap as they
    // do on a fleet.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["ServerlessStyle:Durable:PartitionCount"] = "1",
        ["ServerlessStyle:Durable:MaxConcurrentActivities"] = "4",
        ["ServerlessStyle:Durable:LeaseInterval"] = "00:00:06",
        ["ServerlessStyle:Durable:LeaseRenewInterval"] = "00:00:02",
        ["ServerlessStyle:Durable:LeaseAcquireInterval"] = "00:00:01",
    };

    private readonly ScratchHub _hub;
    private readonly LocalDurableHost _host;

    private TestTaskHub(ScratchHub hub, LocalDurableHost host)
    {
        _hub = hub;
        _host = host;
    }

    public DurableTaskClient Client => _host.Client;

    /// <summary>Joins a new hub as its only worker, running <paramref name="work"/>.</summary>
    public static async Task<TestTaskHub> StartAsync(IStyleWork work, CancellationToken cancellationToken = default)
    {
        var hub = ScratchHub.Create(Azurite.ConnectionString, "t", Settings);
        try
        {
            return new TestTaskHub(hub, await hub.StartAsync(services => services.AddSingleton(work), cancellationToken));
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _hub.DisposeAsync();
    }
}
