using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ServerlessStyle.Core.Storage;

/// <summary>Thrown when a conditional write finds that someone else changed the blob first.</summary>
public sealed class BlobConflictException(string blobName, Exception inner)
    : Exception($"Blob '{blobName}' was changed by someone else (its ETag no longer matches); nothing was overwritten.", inner)
{
    public string BlobName { get; } = blobName;
}

/// <summary>A blob opened for reading: its content and its length in bytes.</summary>
public sealed record BlobStream(Stream Content, long Length) : IDisposable
{
    public void Dispose() => Content.Dispose();
}

/// <summary>
/// Small, explicit blob operations by container and name: create-if-absent, conditional writes, reads, listings. The
/// one owner of the process's <see cref="BlobServiceClient"/>; nothing outside Storage touches a blob client.
/// </summary>
public sealed class BlobStore(BlobServiceClient service)
{
    /// <summary>The store for a connection string (Azurite's development string included).</summary>
    public static BlobStore FromConnectionString(string connectionString) => new(BlobClients.FromConnectionString(connectionString));

    /// <summary>The store <paramref name="options"/> configure (connection string, or service URI with managed identity).</summary>
    public static BlobStore Create(StorageOptions options) => new(BlobClients.Create(options));

    /// <summary>The raw client, for the Storage classes that need block-level or streaming access (and tests).</summary>
    internal BlobServiceClient Service { get; } = service;

    internal BlobContainerClient Container(string container) => Service.GetBlobContainerClient(container);

    internal BlobClient Blob(string container, string name) => Container(container).GetBlobClient(name);

    internal BlockBlobClient BlockBlob(string container, string name) => Container(container).GetBlockBlobClient(name);

    public async Task EnsureContainerAsync(string container, CancellationToken cancellationToken = default) =>
        await Container(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes a whole container if it exists (benchmarks and tools that made containers of their own).</summary>
    public async Task DeleteContainerAsync(string container, CancellationToken cancellationToken = default) =>
        await Container(container).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Writes a blob only if it does not exist yet. Returns false (and changes nothing) when it does.</summary>
    public async Task<bool> TryCreateAsync(string container, string name, BinaryData content, CancellationToken cancellationToken = default)
    {
        try
        {
            await Blob(container, name).UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Overwrites a blob only if it still has <paramref name="expected"/> as its ETag; returns the new ETag.</summary>
    public async Task<ETag> ReplaceAsync(string container, string name, BinaryData content, ETag expected, CancellationToken cancellationToken = default)
    {
        try
        {
            var info = await Blob(container, name).UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfMatch = expected },
            }, cancellationToken).ConfigureAwait(false);
            return info.Value.ETag;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            throw new BlobConflictException($"{container}/{name}", e);
        }
    }

    /// <summary>
    /// Read-modify-write of a small blob: <paramref name="change"/> gets the current content (null when there is none)
    /// and returns the new one (null: leave the blob as it is), which is stored only if nobody changed the blob in
    /// between (its ETag, or its absence); otherwise it runs again on what is there now. Returns what was stored.
    /// </summary>
    public async Task<BinaryData?> UpdateAsync(string container, string name, Func<BinaryData?, BinaryData?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        const int MaxAttempts = 16;
        for (var attempt = 1; ; attempt++)
        {
            var current = await TryDownloadAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (change(current?.Content) is not { } next)
            {
                return null;
            }

            try
            {
                if (current is { } c)
                {
                    await ReplaceAsync(container, name, next, c.ETag, cancellationToken).ConfigureAwait(false);
                    return next;
                }

                if (await TryCreateAsync(container, name, next, cancellationToken).ConfigureAwait(false))
                {
                    return next;
                }
            }
            catch (BlobConflictException) when (attempt < MaxAttempts)
            {
            }

            if (attempt >= MaxAttempts)
            {
                throw new BlobConflictException($"{container}/{name}", new InvalidOperationException($"it kept changing under {MaxAttempts} attempts to update it"));
            }
        }
    }

    /// <summary>Overwrites a blob unconditionally; returns the new ETag.</summary>
    public async Task<ETag> UploadAsync(string container, string name, BinaryData content, CancellationToken cancellationToken = default)
    {
        var info = await Blob(container, name).UploadAsync(content, overwrite: true, cancellationToken).ConfigureAwait(false);
        return info.Value.ETag;
    }

    /// <summary>Uploads a blob with metadata, overwriting; its new ETag.</summary>
    public async Task<ETag> UploadAsync(
        string container, string name, BinaryData content, IDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        var options = new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = metadata };
        var info = await Blob(container, name).UploadAsync(content, options, cancellationToken).ConfigureAwait(false);
        return info.Value.ETag;
    }

    /// <summary>Reads a whole blob with its ETag, or null when it does not exist.</summary>
    public async Task<(BinaryData Content, ETag ETag)?> TryDownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await Blob(container, name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return (result.Value.Content, result.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>A blob's length in bytes, or null when it does not exist.</summary>
    public async Task<long?> TryGetLengthAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return (await Blob(container, name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ContentLength;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>A blob's ETag and metadata, or null when it does not exist.</summary>
    public async Task<(ETag ETag, IReadOnlyDictionary<string, string> Metadata)?> TryGetPropertiesAsync(
        string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var properties = (await Blob(container, name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return (properties.ETag, properties.Metadata.AsReadOnly());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Opens a blob for streaming, or null when it does not exist.</summary>
    public async Task<BlobStream?> TryOpenReadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var download = await Blob(container, name).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new BlobStream(download.Value.Content, download.Value.Details.ContentLength);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Deletes a blob if it exists; true when it did.</summary>
    public async Task<bool> DeleteIfExistsAsync(string container, string name, CancellationToken cancellationToken = default) =>
        (await Blob(container, name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Deletes every blob under <paramref name="prefix"/> but those <paramref name="keep"/> says to keep; returns the bytes deleted.</summary>
    public async Task<long> DeletePrefixAsync(string container, string prefix, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        var client = Container(container);
        if (!await client.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var deleted = 0L;
        await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (keep?.Invoke(item.Name) != true && (await client.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken).ConfigureAwait(false)).Value)
            {
                deleted += item.Properties.ContentLength ?? 0;
            }
        }

        return deleted;
    }

    /// <summary>True when the blob exists.</summary>
    public async Task<bool> ExistsAsync(string container, string name, CancellationToken cancellationToken = default) =>
        (await Blob(container, name).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Names of the blobs in a container under a prefix, in name order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        var client = Container(container);
        if (!await client.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return names;
        }

        await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
        {
            names.Add(item.Name);
        }

        return names;
    }
}
