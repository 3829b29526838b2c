using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// A tiled stage's grid as stored beside its tiles (<c>tiles.json</c>): the stage's size, its tiles row by row (the
/// rectangles blended), the halo each tile is optimised with beyond them (<see cref="Tiling.Optimised"/>), and whether
/// the tiles share the stage's style residual (<see cref="StyleEvaluator.ShareStyleResidual"/>). A grid stored before
/// halos and shared residuals existed reads as halo 0 and not shared, and its stage runs on as it started.
/// </summary>
public sealed record TileGridDocument(int Height, int Width, IReadOnlyList<TileRect> Tiles, int Halo = 0, bool SharedStyle = false)
{
    /// <summary>The rectangles the tiles are optimised on: <see cref="Tiles"/> grown by <see cref="Halo"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<TileRect> Optimised => Tiling.Optimised(Tiles, Halo, Height, Width);
}

/// <summary>
/// A worker's internal state in the work container: each pair's targets, its optimiser checkpoints and its chunk
/// outcomes (<see cref="BlobLayout"/>). Targets and checkpoints stay in memory for the pair's next chunk in this process.
/// </summary>
public sealed class WorkStore
{
    private readonly BlobStore _store;
    private readonly string _container;
    private readonly ConcurrentDictionary<string, StyleTargets> _targets = new(StringComparer.Ordinal);

    public WorkStore(BlobStore store, StorageOptions storage, ILogger logger)
    {
        _store = store;
        _container = storage.Container(storage.Work);
        Checkpoints = new CheckpointStore(store, _container, logger);
    }

    /// <summary>The container's full name, for messages.</summary>
    public string Container => _container;

    /// <summary>This process's checkpoints (tests wait for an upload behind through it).</summary>
    public CheckpointStore Checkpoints { get; }

    public Task EnsureContainerAsync(CancellationToken cancellationToken = default) => _store.EnsureContainerAsync(_container, cancellationToken);

    /// <summary>Stores a pair's targets and keeps them in memory for its chunks.</summary>
    public async Task WriteTargetsAsync(string jobId, string pairId, StyleTargets targets, CancellationToken cancellationToken = default)
    {
        var name = BlobLayout.Targets(jobId, pairId);
        await UploadTargetsAsync(name, targets, cancellationToken).ConfigureAwait(false);
        BoundedCache.Remember(_targets, name, targets);
    }

    /// <summary>A pair's targets from memory, else from their blob; throws when PrepareTargets never stored them.</summary>
    public async Task<StyleTargets> ReadTargetsAsync(string jobId, string pairId, CancellationToken cancellationToken = default)
    {
        var name = BlobLayout.Targets(jobId, pairId);
        if (_targets.TryGetValue(name, out var cached))
        {
            return cached;
        }

        var targets = await DownloadTargetsAsync(name, "PrepareTargets did not run for this pair", cancellationToken).ConfigureAwait(false);
        BoundedCache.Remember(_targets, name, targets);
        return targets;
    }

    /// <summary>
    /// Stores per-layer Gram matrices under <paramref name="name"/> (a tiled stage's style or style residual per
    /// position), in the targets' checked format with no content features.
    /// </summary>
    public Task WriteGramsAsync(string name, string networkName, int height, int width, IReadOnlyList<float[]> grams, CancellationToken cancellationToken = default) =>
        UploadTargetsAsync(
            name, new StyleTargets { NetworkName = networkName, Height = height, Width = width, ContentFeatures = [], Grams = grams, StyleLayerWeights = [] },
            cancellationToken);

    /// <summary>Gram matrices <see cref="WriteGramsAsync"/> stored; throws, naming the blob, when they are not there.</summary>
    public async Task<IReadOnlyList<float[]>> ReadGramsAsync(string name, CancellationToken cancellationToken = default) =>
        (await DownloadTargetsAsync(name, whyMissing: null, cancellationToken).ConfigureAwait(false)).Grams;

    private async Task UploadTargetsAsync(string name, StyleTargets targets, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        targets.WriteTo(buffer);
        await _store.UploadAsync(_container, name, BinaryData.FromBytes(buffer.ToArray()), cancellationToken).ConfigureAwait(false);
    }

    private async Task<StyleTargets> DownloadTargetsAsync(string name, string? whyMissing, CancellationToken cancellationToken)
    {
        var blob = await _store.TryDownloadAsync(_container, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{_container}/{name} is missing{(whyMissing is null ? "" : $": {whyMissing}")}.");
        using var stream = blob.Content.ToStream();
        return StyleTargets.ReadFrom(stream);
    }

    /// <summary>Forgets a finished pair's targets in this process (their blob stays).</summary>
    public void ForgetTargets(string jobId, string pairId) => _targets.TryRemove(BlobLayout.Targets(jobId, pairId), out _);

    /// <summary>Stores chunk <paramref name="iteration"/>'s outcome, which re-runs of that chunk and the viewer read back.</summary>
    public Task WriteOutcomeAsync(string jobId, string pairId, int iteration, ChunkOutcome outcome, CancellationToken cancellationToken = default) =>
        _store.UploadAsync(
            _container, BlobLayout.ChunkOutcome(jobId, pairId, iteration),
            BinaryData.FromString(JsonSerializer.Serialize(outcome, JobDocument.JsonOptions)), cancellationToken);

    /// <summary>Chunk <paramref name="iteration"/>'s stored outcome, or null when there is none (or it cannot be read).</summary>
    public async Task<ChunkOutcome?> TryReadOutcomeAsync(string jobId, string pairId, int iteration, CancellationToken cancellationToken = default)
    {
        var blob = await _store.TryDownloadAsync(_container, BlobLayout.ChunkOutcome(jobId, pairId, iteration), cancellationToken).ConfigureAwait(false);
        if (blob is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ChunkOutcome>(blob.Value.Content.ToString(), JobDocument.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Stores an image as raw float32 (.npy, shape [1, 3, H, W]) under <paramref name="name"/>.</summary>
    public async Task WriteImageAsync(string name, ImageTensor image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var buffer = new MemoryStream(256 + (4 * image.Data.Length));
        Npy.WriteFloat32(buffer, image.Data, [1, 3, image.Height, image.Width]);
        await _store.UploadAsync(_container, name, BinaryData.FromBytes(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An image <see cref="WriteImageAsync"/> stored, or null when there is none.</summary>
    public async Task<ImageTensor?> TryReadImageAsync(string name, CancellationToken cancellationToken = default)
    {
        float[] data;
        long[] shape;
        using (var blob = await _store.TryOpenReadAsync(_container, name, cancellationToken).ConfigureAwait(false))
        {
            if (blob is null)
            {
                return null;
            }

            // Into a buffer of the blob's size: a whole download grows its buffer by doubling, copying the image each time.
            var bytes = new byte[blob.Length];
            await blob.Content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            (data, shape) = Npy.ReadFloat32(new MemoryStream(bytes, writable: false));
        }

        return shape is [1, 3, var height, var width]
            ? new ImageTensor((int)height, (int)width, data)
            : throw new InvalidOperationException($"{_container}/{name} holds shape [{string.Join(", ", shape)}], not an image [1, 3, H, W].");
    }

    /// <summary>Stores a tiled stage's grid; the stage counts as prepared once it is there.</summary>
    public Task WriteTileGridAsync(string jobId, string pairId, TileGridDocument grid, CancellationToken cancellationToken = default) =>
        WriteTextAsync(BlobLayout.TileGrid(jobId, pairId), JsonSerializer.Serialize(grid, JobDocument.JsonOptions), cancellationToken);

    /// <summary>A tiled stage's grid, or null when the stage is not tiled (or not prepared yet).</summary>
    public async Task<TileGridDocument?> TryReadTileGridAsync(string jobId, string pairId, CancellationToken cancellationToken = default) =>
        await TryReadTextAsync(BlobLayout.TileGrid(jobId, pairId), cancellationToken).ConfigureAwait(false) is { } json
            ? JsonSerializer.Deserialize<TileGridDocument>(json, JobDocument.JsonOptions)
            : null;

    /// <summary>The tiles of a tiled stage that finished iteration <paramref name="iteration"/> (their outcome is stored), from one listing.</summary>
    public async Task<IReadOnlySet<int>> TilesDoneAsync(string jobId, string pairId, int iteration, CancellationToken cancellationToken = default)
    {
        var done = new HashSet<int>();
        var prefix = $"{jobId}/{pairId}/tile-";
        var outcome = $"/outcome-{iteration:0000}.json";
        foreach (var name in await _store.ListAsync(_container, prefix, cancellationToken).ConfigureAwait(false))
        {
            var slash = name.IndexOf('/', prefix.Length);
            if (slash > 0 && name.EndsWith(outcome, StringComparison.Ordinal) && slash == name.Length - outcome.Length
                && int.TryParse(name[prefix.Length..slash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var tile))
            {
                done.Add(tile);
            }
        }

        return done;
    }

    /// <summary>Stores a text blob of the job's internal state (a tiled stage's grid, a tile's loss rows).</summary>
    public Task WriteTextAsync(string name, string text, CancellationToken cancellationToken = default) =>
        _store.UploadAsync(_container, name, BinaryData.FromString(text), cancellationToken);

    /// <summary>A text blob of <see cref="WriteTextAsync"/>, or null when there is none.</summary>
    public async Task<string?> TryReadTextAsync(string name, CancellationToken cancellationToken = default) =>
        (await _store.TryDownloadAsync(_container, name, cancellationToken).ConfigureAwait(false))?.Content.ToString();

    /// <summary>Deletes a blob of the job's internal state nothing needs any more; false when it was not there.</summary>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        _store.DeleteIfExistsAsync(_container, name, cancellationToken);

    /// <summary>
    /// Deletes state-<paramref name="index"/> (a state two chunks behind the latest stored one: neither the next chunk nor
    /// the rebuild of a lost upload needs it); false when it was not there.
    /// </summary>
    public Task<bool> DeleteStateAsync(string jobId, string pairId, int index, CancellationToken cancellationToken = default) =>
        _store.DeleteIfExistsAsync(_container, BlobLayout.State(jobId, pairId, index), cancellationToken);

    /// <summary>The index of the latest state stored for a pair (its folder), or null when none is.</summary>
    public async Task<int?> LatestStateAsync(string jobId, string pairId, CancellationToken cancellationToken = default)
    {
        int? latest = null;
        foreach (var name in await _store.ListAsync(_container, $"{jobId}/{pairId}/state-", cancellationToken).ConfigureAwait(false))
        {
            if (BlobLayout.TryParseState(name, out var index) && index > (latest ?? -1))
            {
                latest = index;
            }
        }

        return latest;
    }

    /// <summary>
    /// What an ended job keeps: per pair, its latest stage's latest state (so the job could be continued) and latest
    /// outcome (the viewer's seconds per evaluation). Targets, earlier states and stages and the attempt counters go.
    /// Returns the bytes deleted.
    /// </summary>
    public async Task<long> CleanUpAsync(string jobId, IEnumerable<string> pairIds, CancellationToken cancellationToken = default)
    {
        var names = await _store.ListAsync(_container, BlobLayout.WorkPrefix(jobId), cancellationToken).ConfigureAwait(false);
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pairId in pairIds)
        {
            var folder = $"{jobId}/{BlobLayout.LatestPairFolder(names, jobId, pairId)}/";
            var inFolder = names.Where(n => n.StartsWith(folder, StringComparison.Ordinal) && !n[folder.Length..].Contains('/', StringComparison.Ordinal)).ToList();
            keep.UnionWith(inFolder.Where(n => n[folder.Length..].StartsWith("state-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).TakeLast(1));
            keep.UnionWith(inFolder.Where(n => n[folder.Length..].StartsWith("outcome-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).TakeLast(1));
        }

        return await _store.DeletePrefixAsync(_container, BlobLayout.WorkPrefix(jobId), keep.Contains, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes everything of the job in the work container; returns the bytes deleted.</summary>
    public Task<long> DeleteJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        _store.DeletePrefixAsync(_container, BlobLayout.WorkPrefix(jobId), cancellationToken: cancellationToken);
}
