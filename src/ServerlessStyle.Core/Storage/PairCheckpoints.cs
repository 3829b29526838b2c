using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// The checkpoint protocol of a pair's chunks over <see cref="CheckpointStore"/>. Chunk i reports done only once its own
/// start point, state-i, is stored (its upload ran behind, during this chunk); state-(i+1) is then uploaded behind,
/// during the next chunk. If this process dies before that upload lands, state-(i+1) is rebuilt from state-i
/// (<see cref="TakeAsync"/>). A stored state never lags more than one chunk, and states two chunks behind go.
/// </summary>
public sealed class PairCheckpoints(WorkStore work, ILogger logger)
{
    private CheckpointStore Store => work.Checkpoints;

    /// <summary>True when any state of the pair is stored: an earlier attempt prepared it (state-0 goes once the chunks are past it).</summary>
    public async Task<bool> AnyStoredAsync(string jobId, string pairId, CancellationToken cancellationToken = default) =>
        await Store.ExistsAsync(BlobLayout.State(jobId, pairId, 0), cancellationToken).ConfigureAwait(false)
        || await work.LatestStateAsync(jobId, pairId, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Chunk <paramref name="iteration"/>'s outcome when an earlier attempt finished it: its outcome is stored and so is its
    /// end state, or a later one (states two chunks behind the latest are deleted as the pair goes on); else null.
    /// </summary>
    public async Task<ChunkOutcome?> TryReadDoneAsync(string jobId, string pairId, int iteration, CancellationToken cancellationToken = default) =>
        await work.TryReadOutcomeAsync(jobId, pairId, iteration, cancellationToken).ConfigureAwait(false) is { } stored
        && (await Store.ExistsAsync(BlobLayout.State(jobId, pairId, iteration + 1), cancellationToken).ConfigureAwait(false)
            || await work.LatestStateAsync(jobId, pairId, cancellationToken).ConfigureAwait(false) > iteration + 1)
            ? stored
            : null;

    /// <summary>Stores a pair's first state now, not behind: every later checkpoint can be rebuilt from it.</summary>
    public Task WriteFirstAsync(string jobId, string pairId, OptimizerState state, CancellationToken cancellationToken = default) =>
        Store.WriteAsync(BlobLayout.State(jobId, pairId, 0), state, cancellationToken);

    /// <summary>Stores the state chunk <paramref name="iteration"/> ended with, as the protocol above says.</summary>
    public async Task StoreNextAsync(string jobId, string pairId, int iteration, OptimizerState state, CancellationToken cancellationToken = default)
    {
        var nextState = BlobLayout.State(jobId, pairId, iteration + 1);
        if (!await FlushAsync(BlobLayout.State(jobId, pairId, iteration), cancellationToken).ConfigureAwait(false))
        {
            // state-i's upload failed: store state-(i+1) now, so that a stored state never lags more than one chunk.
            await Store.WriteAsync(nextState, state, cancellationToken).ConfigureAwait(false);
            return;
        }

        // state-i is stored: state-(i-2) is needed by nothing (a lost state-(i+1) is rebuilt from state-i).
        await Task.WhenAll(
            Store.WriteBehindAsync(nextState, state, cancellationToken),
            DeleteSupersededAsync(jobId, pairId, iteration - 2)).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes sure a pair's last state is stored before the pair reports done: a later coarse-to-fine stage starts from
    /// it, and an ended job keeps it.
    /// </summary>
    public async Task StoreLastAsync(string jobId, string pairId, int index, OptimizerState state, CancellationToken cancellationToken = default)
    {
        var name = BlobLayout.State(jobId, pairId, index);
        if (!await FlushAsync(name, cancellationToken).ConfigureAwait(false))
        {
            await Store.WriteAsync(name, state, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// state-<paramref name="index"/> for a chunk to advance: from memory or its blob; when neither has it (a worker
    /// uploaded it behind and stopped before the upload landed), <paramref name="rerun"/> advances state-(index-1), which
    /// that chunk stored before it reported done, by one chunk. The optimiser and the engine are deterministic on one
    /// machine, so the rebuilt state is the lost one; its image and loss rows were written when it first ran.
    /// </summary>
    public async Task<OptimizerState> TakeAsync(
        string jobId, string pairId, int index, int length, Func<OptimizerState, Task> rerun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rerun);
        var name = BlobLayout.State(jobId, pairId, index);
        if (await Store.TryTakeAsync(name, length, cancellationToken).ConfigureAwait(false) is { } state)
        {
            return state;
        }

        var previousName = BlobLayout.State(jobId, pairId, index - 1);
        var previous = index > 0 ? await Store.TryTakeAsync(previousName, length, cancellationToken).ConfigureAwait(false) : null;
        if (previous is null)
        {
            throw new InvalidOperationException(
                $"{work.Container}/{name} is missing and cannot be rebuilt: {(index > 0 ? $"{work.Container}/{previousName} is missing too" : "PrepareTargets did not run for this pair")}.");
        }

        logger.LogWarning("Checkpoint {Name} was lost before its upload finished; rebuilding it from {Previous}.", name, previousName);
        await rerun(previous).ConfigureAwait(false);

        // Another attempt may have stored it meanwhile: then continue from the stored one, as every other worker will.
        await Store.WriteAsync(name, previous, cancellationToken).ConfigureAwait(false);
        return await Store.TryTakeAsync(name, length, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{work.Container}/{name} vanished after it was written.");
    }

    /// <summary>The image of a finished stage, for the next stage to start from; throws when that stage did not finish.</summary>
    public async Task<ImageTensor> FinishedImageAsync(string jobId, StageStart stage, CancellationToken cancellationToken = default)
    {
        // A tiled stage ends with its last blended image instead of a state.
        if (await work.TryReadImageAsync(BlobLayout.TiledImage(jobId, stage.PairId, stage.Chunk), cancellationToken).ConfigureAwait(false) is { } tiled)
        {
            return tiled;
        }

        var size = await work.ReadTargetsAsync(jobId, stage.PairId, cancellationToken).ConfigureAwait(false);
        var name = BlobLayout.State(jobId, stage.PairId, stage.Chunk);
        var state = await Store.TryTakeAsync(name, 3 * size.Height * size.Width, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{work.Container}/{name} is missing: the previous stage did not finish.");
        return new ImageTensor(size.Height, size.Width, state.X);
    }

    /// <summary>
    /// Waits for this process's upload behind of that state: true when it is stored (or none was under way), false when
    /// the upload failed and the caller must write the state itself. Throws <see cref="CheckpointConflictException"/> when
    /// another attempt stored it first: this attempt's result may come from another state than the stored one, so it is
    /// thrown away and the chunk runs again (a transient failure, retried) from the stored state, as every other worker will.
    /// </summary>
    private async Task<bool> FlushAsync(string name, CancellationToken cancellationToken) =>
        await Store.FlushAsync(name, cancellationToken).ConfigureAwait(false) switch
        {
            CheckpointUpload.AlreadyStored => throw new CheckpointConflictException(
                $"{work.Container}/{name} was stored by another attempt first; this attempt's result is discarded and the chunk runs again from the stored state."),
            CheckpointUpload.Failed => false,
            _ => true,
        };

    /// <summary>Deletes a state nothing needs any more; a failure only leaves it for the clean-up at the job's end.</summary>
    private async Task DeleteSupersededAsync(string jobId, string pairId, int index)
    {
        if (index < 0)
        {
            return;
        }

        try
        {
            await work.DeleteStateAsync(jobId, pairId, index, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Job {JobId}: state {Index} of {PairId} could not be deleted: {Reason}", jobId, index, pairId, e.Message);
        }
    }
}
