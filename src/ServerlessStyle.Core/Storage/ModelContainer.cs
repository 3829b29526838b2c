using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// A loss network in the models container: <c>{name}.onnx</c> (the same ONNX file the local model store keeps), with its
/// SHA-256, input preprocessing and source in the blob's metadata. A blob without a valid SHA-256 has a null
/// <see cref="Sha256"/>: it was not put there by <c>models upload</c> and is never run.
/// </summary>
public sealed record ModelBlob(string Name, string BlobName, string? Sha256, string Preprocess, string Source, long Bytes, ETag ETag);

/// <summary>
/// The storage account's <c>models</c> container: <c>models upload</c> writes it, the engine reads it before the local model
/// store. Each process downloads a network once, to <see cref="CacheFolder"/>/{sha256}/{name}.onnx, and checks the file
/// against the SHA-256 recorded in the blob's metadata before anything loads it, on every resolve, so a corrupted blob
/// or cache file never runs.
/// </summary>
public sealed class ModelContainer(BlobStore store, StorageOptions options, string cacheFolder)
{
    private readonly BlobContainerClient container = store.Container(options.Container(options.Models));

    // Metadata is written in the same request that commits the content (Put Blob, or Put Block List for large files), so
    // a reader never sees new bytes with an old digest; they can only disagree if the bytes were changed afterwards.
    public const string Sha256Key = "sha256";
    public const string PreprocessKey = "preprocess";
    public const string SourceKey = "source";

    /// <summary>
    /// The cache folder when none is configured: <c>SERVERLESS_STYLE_MODEL_CACHE</c> when set, else
    /// ~/.serverless-style/model-cache (inside a container: the replica's own file system).
    /// </summary>
    public static string DefaultCacheFolder =>
        Environment.GetEnvironmentVariable("SERVERLESS_STYLE_MODEL_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".serverless-style", "model-cache");

    /// <summary>The container's name (prefix included).</summary>
    public string ContainerName => container.Name;

    public string CacheFolder { get; } = cacheFolder;

    /// <summary>The blob of the network called <paramref name="name"/>.</summary>
    public static string BlobNameOf(string name) => name + ".onnx";

    /// <summary>The networks in the container, by name; empty when the container does not exist.</summary>
    public async Task<IReadOnlyList<ModelBlob>> ListAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<ModelBlob>();
        try
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix: null, cancellationToken).ConfigureAwait(false))
            {
                if (item.Name.EndsWith(".onnx", StringComparison.Ordinal) && !item.Name.Contains('/', StringComparison.Ordinal))
                {
                    models.Add(ToModel(item.Name, item.Metadata, item.Properties.ContentLength ?? 0, item.Properties.ETag ?? default));
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }

        return models.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The network called <paramref name="name"/>, or null when the container (or the blob) does not exist.</summary>
    public async Task<ModelBlob?> TryGetAsync(string name, CancellationToken cancellationToken = default)
    {
        var blob = container.GetBlobClient(BlobNameOf(name));
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return ToModel(blob.Name, properties.Metadata, properties.ContentLength, properties.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Puts the ONNX file <paramref name="onnxPath"/> into the container as <paramref name="name"/>, with its SHA-256,
    /// preprocessing and source as metadata. Returns the blob and whether anything was written: a blob whose metadata
    /// already records the same SHA-256 is left alone (so running the upload on every <c>azd provision</c> is cheap)
    /// unless <paramref name="force"/> is set, which repairs a blob whose bytes were damaged under unchanged metadata.
    /// </summary>
    public async Task<(ModelBlob Model, bool Uploaded)> UploadAsync(
        string name, string onnxPath, string preprocess, string source, bool force = false, CancellationToken cancellationToken = default)
    {
        var sha256 = ModelDigest.OfFile(onnxPath);
        if (!force && await TryGetAsync(name, cancellationToken).ConfigureAwait(false) is { } existing && existing.Sha256 == sha256)
        {
            return (existing, false);
        }

        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string>
        {
            [Sha256Key] = sha256,
            [PreprocessKey] = preprocess,
            [SourceKey] = HeaderSafe(source),
        };
        var blob = container.GetBlobClient(BlobNameOf(name));
        await using (var file = File.OpenRead(onnxPath))
        {
            await blob.UploadAsync(file, new BlobUploadOptions
            {
                Metadata = metadata,
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, cancellationToken).ConfigureAwait(false);
        }

        return ((await TryGetAsync(name, cancellationToken).ConfigureAwait(false))!, true);
    }

    /// <summary>
    /// The local path of <paramref name="model"/>'s file, downloaded into the cache the first time and checked against the
    /// SHA-256 in its metadata every time. A mismatch deletes what was downloaded and throws
    /// <see cref="NetworkLoadException"/> (<see cref="NetworkLoadFailure.DigestMismatch"/>): nothing unverified is kept.
    /// </summary>
    public async Task<string> DownloadAsync(ModelBlob model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var where = $"{container.Name}/{model.BlobName}";
        if (model.Sha256 is null)
        {
            throw new NetworkLoadException(
                NetworkLoadFailure.DigestMismatch,
                $"{where} has no '{Sha256Key}' metadata, so it cannot be checked and is not run; put it there with 'serverless-style models upload'.");
        }

        var folder = Path.Combine(CacheFolder, model.Sha256);
        var path = Path.Combine(folder, Path.GetFileName(model.BlobName));
        if (File.Exists(path))
        {
            if (ModelDigest.OfFile(path) == model.Sha256)
            {
                return path;
            }

            // A cache file that no longer matches its own name (disk trouble, a hand edit) is fetched again.
            File.Delete(path);
        }

        Directory.CreateDirectory(folder);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            // If-Match: the bytes are those of the version whose metadata was read, not a later overwrite.
            var response = await container.GetBlobClient(model.BlobName).DownloadStreamingAsync(
                new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = model.ETag } },
                cancellationToken).ConfigureAwait(false);
            string actual;
            await using (var source = response.Value.Content)
            await using (var file = File.Create(temp))
            {
                actual = await ModelDigest.CopyAsync(source, file, HashAlgorithmName.SHA256, cancellationToken).ConfigureAwait(false);
            }

            if (actual != model.Sha256)
            {
                throw new NetworkLoadException(
                    NetworkLoadFailure.DigestMismatch,
                    $"{where} is corrupted: its content has SHA-256 {actual}, but its metadata records {model.Sha256}. Nothing was cached or run; " +
                    "upload the network again with 'serverless-style models upload --force'.");
            }

            File.Move(temp, path, overwrite: true);
            return path;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static ModelBlob ToModel(string blobName, IDictionary<string, string>? metadata, long bytes, ETag etag)
    {
        string? Get(string key) => metadata is not null && metadata.TryGetValue(key, out var value) ? value : null;
        var sha256 = Get(Sha256Key);
        return new ModelBlob(
            blobName[..^".onnx".Length],
            blobName,
            ModelDigest.IsSha256(sha256) ? sha256!.ToLowerInvariant() : null,
            Get(PreprocessKey) ?? "caffe",
            Get(SourceKey) ?? "unknown",
            bytes,
            etag);
    }

    /// <summary>Blob metadata travels as HTTP headers: printable ASCII only.</summary>
    private static string HeaderSafe(string text) =>
        new(text.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
