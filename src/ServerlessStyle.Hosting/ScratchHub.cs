using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Hosting;

/// <summary>
/// A task hub and containers of one's own, deleted at the end, for tools that run real jobs on Azurite (the controls
/// sheet, the pipeline benchmark): their job ids repeat from one run to the next, and nothing of a run may outlive it.
/// </summary>
public sealed class ScratchHub : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly Dictionary<string, string?> _settings;

    private ScratchHub(string connectionString, string name, IReadOnlyDictionary<string, string?> settings)
    {
        // A fresh name each time: a hub whose deletion an earlier, killed run never reached cannot get in the way.
        var prefix = $"{name}{Guid.NewGuid():N}"[..13] + "-";
        _services = new ServiceCollection().AddServerlessStyle(connectionString, prefix).BuildServiceProvider();
        Storage = _services.GetRequiredService<JobStorage>();
        ConnectionString = connectionString;
        TaskHub = prefix.TrimEnd('-');
        _settings = new Dictionary<string, string?>(settings)
        {
            ["ServerlessStyle:Storage:ConnectionString"] = connectionString,
            ["ServerlessStyle:Storage:ContainerPrefix"] = prefix,
            ["ServerlessStyle:Durable:TaskHub"] = TaskHub,
        };
        Configuration = ConfigurationWith();
    }

    /// <summary>The storage account's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>The durable task hub's name: the container prefix without its dash.</summary>
    public string TaskHub { get; }

    /// <summary>The containers of this hub (inputs to upload, results to read).</summary>
    public JobStorage Storage { get; }

    /// <summary>The settings a <see cref="LocalDurableHost"/> on this hub starts with: the caller's, then storage and hub.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>
    /// <see cref="Configuration"/> with <paramref name="extra"/> settings on top, for one host of several on this hub (a
    /// test's second worker with other leases). Hosts keep the hub when they stop, so a later host finds its state.
    /// </summary>
    public IConfiguration ConfigurationWith(params (string Key, string? Value)[] extra)
    {
        var values = new Dictionary<string, string?>(_settings);
        foreach (var (key, value) in extra)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>The Azurite connection string of <c>scripts/with-azurite.sh</c>; throws saying how to get one when it is not set.</summary>
    public static string AzuriteConnectionString() =>
        Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { } connection && !string.IsNullOrWhiteSpace(connection)
            ? connection
            : throw new InvalidOperationException("AZURITE_CONNECTION_STRING is not set; run it under scripts/with-azurite.sh.");

    /// <summary>
    /// A hub named <paramref name="name"/> plus a random suffix (letters and digits, at most 8 of them kept from the
    /// name's start) on <paramref name="connectionString"/>, with <paramref name="settings"/> (ServerlessStyle:* keys)
    /// for its worker.
    /// </summary>
    public static ScratchHub Create(string connectionString, string name, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (name.Length is 0 or > 8 || !name.All(char.IsAsciiLetterLower))
        {
            throw new ArgumentException($"'{name}' is not 1 to 8 lowercase letters (it starts container and task hub names).", nameof(name));
        }

        return new ScratchHub(connectionString, name, settings ?? new Dictionary<string, string?>());
    }

    /// <summary>Starts a worker on this hub; <paramref name="configureServices"/> as in <see cref="LocalDurableHost.StartAsync"/>.</summary>
    public Task<LocalDurableHost> StartAsync(Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default) =>
        LocalDurableHost.StartAsync(Configuration, configureServices, cancellationToken);

    /// <summary>Deletes the containers, then the hub's own tables and queues.</summary>
    public async ValueTask DisposeAsync()
    {
        var options = Storage.Options;
        var store = _services.GetRequiredService<BlobStore>();
        foreach (var container in new[] { options.Inbox, options.Uploads, options.Styles, options.Results, options.Work })
        {
            await store.DeleteContainerAsync(options.Container(container), CancellationToken.None).ConfigureAwait(false);
        }

        await _services.DisposeAsync().ConfigureAwait(false);

        // A host made only to delete the hub: stopping it deletes what the hub's hosts left (they keep it, see ConfigurationWith).
        await using var cleaner = LocalDurableHost.Connect(ConfigurationWith(("ServerlessStyle:Durable:DeleteTaskHubOnStop", "true")));
    }
}
