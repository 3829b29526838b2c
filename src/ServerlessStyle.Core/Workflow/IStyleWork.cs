using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The work behind the activities: everything that touches blobs, images and the engine. The orchestrations only see
/// this seam, so tests run them with arithmetic and production runs them with the real engine. Every method must be
/// safe to run again (activities are at-least-once): re-running finds what an earlier attempt wrote.
/// Throw <see cref="JobRequestException"/> for bad input (never retried); anything else counts as transient.
/// </summary>
public interface IStyleWork
{
    /// <summary>Checks the blobs exist and decode within the limits, expands the pairs and writes job.json as Running.</summary>
    Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default);

    /// <summary>Writes targets.bin and state-0000.bin for a pair; skips what is already there.</summary>
    Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads state-i, runs at most evaluationsPerIteration evaluations, writes state-(i+1), res_at_iteration_i.png and
    /// one loss row per evaluation. If state-(i+1) already exists, returns the stored outcome without computing.
    /// </summary>
    Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs tile t of iteration i of a tiled stage from its start crop: at most evaluationsPerIteration evaluations;
    /// writes the tile's state, outcome and loss rows. If they are stored already, returns the stored outcome.
    /// </summary>
    Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default);

    /// <summary>
    /// Blends iteration i's tiles into the stage's image: res_at_iteration_i.png, the loss rows, the next iteration's start
    /// crops. If the iteration's outcome is stored already, returns it.
    /// </summary>
    Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default);

    /// <summary>Writes final.png and completes loss.csv.</summary>
    Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default);

    /// <summary>Writes job.json as Completed or Failed with the reason.</summary>
    Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default);
}
