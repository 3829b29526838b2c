using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ServerlessStyle.Core.Storage;

/// <summary>Thrown when a conditional write finds that someone else changed the blob first.</summary>
public sealed class BlobConflictException(string blobName, Exception inner)
    : Exception($"Blob '{blobName}' was changed by someone else (its ETag no longer matches); nothing was overwritten.", inner)
{
    public string BlobName { get; } = blobName;
}

/// <summary>Small, explicit blob operations the workflow needs: create-if-absent, conditional writes, reads.</summary>
public sealed class BlobStore(BlobServiceClient service)
{
    public BlobServiceClient Service { get; } = service;

    public async Task<BlobContainerClient> EnsureContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var client = Service.GetBlobContainerClient(container);
        await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Writes a blob only if it does not exist yet. Returns false (and changes nothing) when it does.</summary>
    public async Task<bool> TryCreateAsync(string container, string name, BinaryData content, CancellationToken cancellationToken = default)
    {
        var blob = Service.GetBlobContainerClient(container).GetBlobClient(name);
        try
        {
            await blob.UploadAsync(content, new BlobUploadOptions
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
        var blob = Service.GetBlobContainerClient(container).GetBlobClient(name);
        try
        {
            var info = await blob.UploadAsync(content, new BlobUploadOptions
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

    /// <summary>Overwrites a blob unconditionally; returns the new ETag.</summary>
    public async Task<ETag> UploadAsync(string container, string name, BinaryData content, CancellationToken cancellationToken = default)
    {
        var blob = Service.GetBlobContainerClient(container).GetBlobClient(name);
        var info = await blob.UploadAsync(content, overwrite: true, cancellationToken).ConfigureAwait(false);
        return info.Value.ETag;
    }

    /// <summary>Reads a whole blob with its ETag, or null when it does not exist.</summary>
    public async Task<(BinaryData Content, ETag ETag)?> TryDownloadAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var blob = Service.GetBlobContainerClient(container).GetBlobClient(name);
        try
        {
            var result = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return (result.Value.Content, result.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Names of the blobs in a container under a prefix, in name order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string container, string? prefix = null, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        var client = Service.GetBlobContainerClient(container);
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
