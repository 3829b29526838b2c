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
}
