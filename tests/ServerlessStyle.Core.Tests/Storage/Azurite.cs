using Azure.Storage.Blobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>The Azurite that scripts/with-azurite.sh started (its connection string), or the default local one.</summary>
internal static class Azurite
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } s ? s : "UseDevelopmentStorage=true";

    public static BlobServiceClient CreateService() => BlobClients.FromConnectionString(ConnectionString);

    /// <summary>A container name no other test uses, so tests can run in parallel on one Azurite.</summary>
    public static string UniqueContainer(string purpose) =>
        Truncate($"t-{purpose}-{Guid.NewGuid():N}".ToLowerInvariant(), 63);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
