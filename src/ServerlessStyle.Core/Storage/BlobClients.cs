using Azure.Storage.Blobs;

namespace ServerlessStyle.Core.Storage;

/// <summary>Creates the one <see cref="BlobServiceClient"/> a process uses.</summary>
public static class BlobClients
{
    /// <summary>
    /// Azure.Storage.Blobs 12.30.1 sends a service version newer than Azurite 3.37 accepts; this one is
    /// the newest both accept, so local runs and the cloud use the same wire protocol.
    /// </summary>
    public const BlobClientOptions.ServiceVersion PinnedServiceVersion = BlobClientOptions.ServiceVersion.V2026_06_06;

    /// <summary>A client for a connection string (Azurite's development string included).</summary>
    public static BlobServiceClient FromConnectionString(string connectionString) =>
        new(connectionString, new BlobClientOptions(PinnedServiceVersion));

    /// <summary>
    /// The client <paramref name="options"/> configure: its connection string, else its service URI with the managed
    /// identity (in Azure: AZURE_CLIENT_ID names the user-assigned one; no keys anywhere).
    /// </summary>
    public static BlobServiceClient Create(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return FromConnectionString(options.ConnectionString);
        }

        if (options.ServiceUri is not null)
        {
            return new BlobServiceClient(options.ServiceUri, new Azure.Identity.DefaultAzureCredential(), new BlobClientOptions(PinnedServiceVersion));
        }

        var section = StorageOptions.SectionName.Replace(":", "__", StringComparison.Ordinal);
        throw new InvalidOperationException(
            $"No storage configured: set {section}__ConnectionString (locally 'UseDevelopmentStorage=true' with Azurite running) " +
            $"or {section}__ServiceUri (managed identity).");
    }
}
