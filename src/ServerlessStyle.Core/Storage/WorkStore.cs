using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Storage;

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
        using (var buffer = new MemoryStream())
        {
            targets.WriteTo(buffer);
            await _store.UploadAsync(_container, name, BinaryData.FromBytes(buffer.ToArray()), cancellationToken).ConfigureAwait(false);
        }

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

        var blob = await _store.TryDownloadAsync(_container, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{_container}/{name} is missing: PrepareTargets did not run for this pair.");
        using var stream = blob.Content.ToStream();
        var targets = StyleTargets.ReadFrom(stream);
        BoundedCache.Remember(_targets, name, targets);
        return targets;
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
}
