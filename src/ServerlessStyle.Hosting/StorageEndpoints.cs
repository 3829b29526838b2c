namespace ServerlessStyle.Hosting;

/// <summary>
/// What a storage connection string points at, read without any network call: the task hub needs queues and tables
/// besides blobs, and logs and errors may name the account but never print its key.
/// </summary>
public static class StorageEndpoints
{
    /// <summary>
    /// Throws when the connection string names a blob endpoint but no queue or table endpoint: the backend would then
    /// send its queue and table calls to the public cloud endpoints of that account name and retry for minutes.
    /// </summary>
    public static void RequireQueuesAndTables(string connectionString)
    {
        var parts = Parse(connectionString);
        if (parts.ContainsKey("UseDevelopmentStorage"))
        {
            return;
        }

        if (parts.ContainsKey("BlobEndpoint") && !(parts.ContainsKey("QueueEndpoint") && parts.ContainsKey("TableEndpoint")))
        {
            throw new DurableHubException(
                $"the storage connection string ({Describe(connectionString)}) has a BlobEndpoint but no QueueEndpoint and TableEndpoint; " +
                "the durable task hub keeps its messages in queues and its history in tables (with Azurite, start blob, queue and table, and add both endpoints).");
        }
    }

    /// <summary>The account or endpoint for logs: <c>account NAME</c>, the blob endpoint, or the development storage; never a key.</summary>
    public static string Describe(string connectionString)
    {
        var parts = Parse(connectionString);
        if (parts.ContainsKey("UseDevelopmentStorage"))
        {
            return "development storage";
        }

        if (parts.TryGetValue("BlobEndpoint", out var endpoint))
        {
            return endpoint;
        }

        return parts.TryGetValue("AccountName", out var account) ? $"account {account}" : "the given storage";
    }

    private static Dictionary<string, string> Parse(string connectionString)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
            }
        }

        return parts;
    }
}
