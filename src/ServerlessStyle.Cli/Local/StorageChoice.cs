using System.Collections;
using Microsoft.Extensions.Configuration;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// The storage account a command uses, and the settings of its task hub: <c>--storage</c>, else
/// <c>$ServerlessStyle__Storage__ConnectionString</c>, else <c>$AZURITE_CONNECTION_STRING</c>, else the runner's own
/// Azurite (the one already running on its data folder, or a new one). Disposing stops that Azurite when this
/// command started it and nothing asked to keep it.
/// </summary>
internal sealed class StorageChoice : IDisposable
{
    private const string DurableEnvironmentPrefix = "ServerlessStyle__Durable__";

    private StorageChoice(string connectionString, LocalAzurite? azurite, bool fromOption)
    {
        ConnectionString = connectionString;
        Azurite = azurite;
        FromOption = fromOption;
    }

    public string ConnectionString { get; }

    /// <summary>The runner's own Azurite, or null when the storage was given.</summary>
    public LocalAzurite? Azurite { get; }

    /// <summary>True when the connection string came from --storage (a later command needs it again).</summary>
    public bool FromOption { get; }

    /// <summary>What to add to a command line that should reach the same storage: never the connection string itself (it holds a key).</summary>
    public string StorageArgument => FromOption ? " --storage \"<the same connection string>\"" : "";

    /// <summary>Finds the storage; prints one line when it is the runner's own Azurite.</summary>
    public static async Task<StorageChoice> ResolveAsync(string? option, TextWriter notes, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return new StorageChoice(option, null, fromOption: true);
        }

        var given = NonEmpty(Environment.GetEnvironmentVariable("ServerlessStyle__Storage__ConnectionString"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING"));
        if (given is not null)
        {
            return new StorageChoice(given, null, fromOption: false);
        }

        var azurite = await LocalAzurite.StartAsync(LocalAzurite.DefaultLocation, TimeSpan.FromSeconds(30), notes, cancellationToken).ConfigureAwait(false);
        notes.WriteLine($"storage: {azurite.Description}");
        return new StorageChoice(azurite.ConnectionString, azurite, fromOption: false);
    }

    /// <summary>
    /// The ServerlessStyle:* settings of a command: the storage, the task hub (option, else environment, else the
    /// default), any <c>ServerlessStyle__Durable__*</c> environment variable (time limits), then <paramref name="settings"/>.
    /// </summary>
    public IConfiguration Configuration(string? taskHub, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string key && key.StartsWith(DurableEnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                values[key.Replace("__", ":", StringComparison.Ordinal)] = variable.Value as string;
            }
        }

        values["ServerlessStyle:Storage:ConnectionString"] = ConnectionString;
        if (taskHub is not null)
        {
            values["ServerlessStyle:Durable:TaskHub"] = taskHub;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    public void Dispose() => Azurite?.Dispose();

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
