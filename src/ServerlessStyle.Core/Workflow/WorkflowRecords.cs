using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

// The records the orchestrations pass around: names and numbers only, never pixels (images, targets and optimiser
// state live in blobs; see Storage.BlobLayout). They are serialised into Durable history, so they stay small.

/// <summary>Orchestration settings carried in the input, so orchestrators never read configuration.</summary>
public sealed record WorkflowSettings(
    int ChunksPerGeneration = 20, int RetryAttempts = 3, double RetryFirstIntervalSeconds = 5, double RetryBackoffCoefficient = 2);

/// <summary>The StyleJob orchestration's input.</summary>
public sealed record JobInput(string JobId, JobRequest Request, WorkflowSettings Settings);

/// <summary>
/// The StylePair orchestration's input. <see cref="NextChunk"/> and <see cref="Generation"/> advance across
/// ContinueAsNew; <see cref="LastOutcome"/> carries the latest progress into the next generation's status;
/// <see cref="Stage"/> and <see cref="StageStart"/> say which coarse-to-fine stage the pair is in and where it began;
/// <see cref="Tiles"/> is the stage's tile count once PrepareTargets chose tiles (0: untiled); <see cref="EarlierStage"/>
/// marks a coarse-to-fine stage before the last, which is tiled only when larger than a tile.
/// </summary>
public sealed record PairInput(
    string JobId, PairPlan Pair, JobRequest Request, WorkflowSettings Settings,
    int NextChunk = 0, int Generation = 0, ChunkOutcome? LastOutcome = null, int Stage = 0, StageStart? StageStart = null,
    int Tiles = 0, bool EarlierStage = false);

/// <summary>
/// PrepareTargets' answer: whether the targets were computed now or found from an earlier attempt, and the stage's tile
/// count (0: untiled, run as chunks).
/// </summary>
public sealed record PairPrepared(string PairId, bool AlreadyPresent, int Tiles = 0);

/// <summary>RunTile's input: tile <see cref="Tile"/> of iteration <see cref="Iteration"/> of a tiled stage.</summary>
public sealed record TileInput(string JobId, PairPlan Pair, JobRequest Request, int Iteration, int Tile);

/// <summary>One tile's iteration: its evaluations in this iteration, its loss at its last accepted point, its compute time.</summary>
public sealed record TileOutcome(int Tile, int Iteration, int Evaluations, double Loss, double Seconds, bool Converged, bool Reused);

/// <summary>RunChunk's input: chunk <see cref="Iteration"/> reads state-i and writes state-(i+1).</summary>
public sealed record ChunkInput(string JobId, PairPlan Pair, JobRequest Request, int Iteration);

/// <summary>The StylePair custom status: small on purpose (Durable caps custom status at 16 KB).</summary>
public sealed record PairStatus(
    string PairId, int Iteration, int Total, double? Loss, string? LatestImage, double? SecondsPerEvaluation, int Generation);

/// <summary>The StyleJob custom status: the phase and the pair instance ids, so a status query can find the pairs.</summary>
public sealed record JobStatus(string Phase, IReadOnlyList<string> PairInstanceIds);
