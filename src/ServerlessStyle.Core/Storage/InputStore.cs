namespace ServerlessStyle.Core.Storage;

/// <summary>Thrown when an input blob is missing or too large; the message names the blob and says which.</summary>
public sealed class InputBlobException(string message) : Exception(message);

/// <summary>
/// The job inputs: blobs a request names as "{logical container}/{path}" (uploads/, styles/, inbox/), read with a size
/// limit, uploaded by the starters and the runner, and streamed to the viewer.
/// </summary>
public sealed class InputStore(BlobStore store, StorageOptions storage)
{
    /// <summary>The whole blob; throws <see cref="InputBlobException"/> when it does not exist or has more than <paramref name="maxBytes"/>.</summary>
    public async Task<byte[]> ReadAsync(string logicalName, long maxBytes, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);

        // The size is checked before the download, so an oversized blob costs one request, not its bytes.
        var length = await store.TryGetLengthAsync(container, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InputBlobException($"{logicalName} does not exist.");
        if (length > maxBytes)
        {
            throw new InputBlobException($"{logicalName} has {length} bytes, over the limit of {maxBytes}.");
        }

        var blob = await store.TryDownloadAsync(container, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InputBlobException($"{logicalName} does not exist.");
        return blob.Content.ToArray();
    }

    /// <summary>An input's ETag and metadata (an inbox drop's request fields), or null when it does not exist.</summary>
    public Task<(Azure.ETag ETag, IReadOnlyDictionary<string, string> Metadata)?> TryGetPropertiesAsync(string logicalName, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        return store.TryGetPropertiesAsync(container, name, cancellationToken);
    }

    /// <summary>Stores an input with metadata (an inbox drop's request fields); its ETag, which names the upload.</summary>
    public async Task<Azure.ETag> UploadWithMetadataAsync(
        string logicalName, BinaryData content, IDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        await store.EnsureContainerAsync(container, cancellationToken).ConfigureAwait(false);
        return await store.UploadAsync(container, name, content, metadata, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores an input under its logical name, e.g. <c>uploads/{job}/content/photo.png</c>.</summary>
    public async Task UploadAsync(string logicalName, BinaryData content, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        await store.EnsureContainerAsync(container, cancellationToken).ConfigureAwait(false);
        await store.UploadAsync(container, name, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores an input only if no blob of that name exists; false (and the blob untouched) when one does.</summary>
    public async Task<bool> TryCreateAsync(string logicalName, BinaryData content, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        await store.EnsureContainerAsync(container, cancellationToken).ConfigureAwait(false);
        return await store.TryCreateAsync(container, name, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams an input for the viewer, or null when it does not exist.</summary>
    public Task<BlobStream?> TryOpenReadAsync(string logicalName, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        return store.TryOpenReadAsync(container, name, cancellationToken);
    }

    /// <summary>The names inside the styles container (the style library).</summary>
    public Task<IReadOnlyList<string>> ListStylesAsync(CancellationToken cancellationToken = default) =>
        store.ListAsync(storage.Container(storage.Styles), cancellationToken: cancellationToken);

    /// <summary>The names under <c>{logicalContainer}/{prefix}</c>, relative to the container (e.g. a job's uploads).</summary>
    public Task<IReadOnlyList<string>> ListAsync(string logicalContainer, string prefix, CancellationToken cancellationToken = default) =>
        store.ListAsync(storage.Container(logicalContainer), prefix, cancellationToken);

    /// <summary>Deletes an input; false when it was not there.</summary>
    public Task<bool> DeleteAsync(string logicalName, CancellationToken cancellationToken = default)
    {
        var (container, name) = Split(logicalName);
        return store.DeleteIfExistsAsync(container, name, cancellationToken);
    }

    /// <summary>Deletes what was uploaded for a job (<c>uploads/{job}/...</c>); returns the bytes deleted.</summary>
    public Task<long> DeleteUploadsAsync(string jobId, CancellationToken cancellationToken = default) =>
        store.DeletePrefixAsync(storage.Container(storage.Uploads), BlobLayout.UploadsPrefix(jobId), cancellationToken: cancellationToken);

    /// <summary>A request's blob name is "{logical container}/{path}"; the configured prefix makes the real container.</summary>
    private (string Container, string Name) Split(string logicalName)
    {
        var slash = logicalName.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == logicalName.Length - 1)
        {
            throw new ArgumentException($"'{logicalName}' is not '{{container}}/{{path}}'.", nameof(logicalName));
        }

        return (storage.Container(logicalName[..slash]), logicalName[(slash + 1)..]);
    }
}
