using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Functions.Tests;

/// <summary>The Azurite that scripts/with-azurite.sh started (its connection string), or the default local one.</summary>
internal static class Azurite
{
    public static BlobStore CreateStore() => new(BlobClients.FromConnectionString(
        Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } s ? s : "UseDevelopmentStorage=true"));

    /// <summary>Storage options whose containers no other test uses (a fresh prefix), so tests can run in parallel on one Azurite.</summary>
    public static StorageOptions IsolatedStorage(string tag) => new() { ContainerPrefix = $"{tag}{Guid.NewGuid():N}"[..12] + "-" };
}
