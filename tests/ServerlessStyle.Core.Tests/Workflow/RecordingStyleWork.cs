using System.Collections.Concurrent;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// An <see cref="IStyleWork"/> that does arithmetic instead of style transfer and records every call, so the
/// orchestration logic can be tested on its own. Faults are injected per (pair index, iteration).
/// </summary>
internal sealed class RecordingStyleWork : IStyleWork
{
    private readonly ConcurrentQueue<string> calls = new();
    private readonly ConcurrentDictionary<(string Pair, int Iteration), ChunkOutcome> chunks = new();
    private readonly ConcurrentDictionary<(int Pair, int Iteration), int> transientFaultsLeft = new();

    public IReadOnlyList<string> Calls => calls.ToArray();

    public ConcurrentBag<PairInput> Finalized { get; } = [];

    public ConcurrentBag<JobSummary> Summaries { get; } = [];

    /// <summary>ValidateJob throws this request error when set.</summary>
    public JobRequestException? ValidationError { get; init; }

    /// <summary>Every RunChunk of this pair index throws a (transient-looking) fault, so the pair fails after its retries.</summary>
    public int? BrokenPair { get; init; }

    /// <summary>Chunk (pair, iteration) throws once, then succeeds.</summary>
    public void FailOnce(int pair, int iteration) => transientFaultsLeft[(pair, iteration)] = 1;

    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue("ValidateJob");
        if (ValidationError is not null)
        {
            throw ValidationError;
        }

        return Task.FromResult(JobPlan.Create(input.JobId, input.Request));
    }

    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue($"PrepareTargets {input.Pair.PairId}");
        return Task.FromResult(new PairPrepared(input.Pair.PairId, AlreadyPresent: false));
    }

    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue($"RunChunk {input.Pair.PairId} {input.Iteration}");
        if (input.Pair.Index == BrokenPair)
        {
            throw new IOException($"simulated storage outage in pair {input.Pair.PairId}");
        }

        if (transientFaultsLeft.TryGetValue((input.Pair.Index, input.Iteration), out var left) && left > 0)
        {
            transientFaultsLeft[(input.Pair.Index, input.Iteration)] = left - 1;
            throw new TimeoutException($"simulated transient fault at chunk {input.Iteration}");
        }

        var outcome = chunks.GetOrAdd((input.Pair.PairId, input.Iteration), key =>
        {
            var evaluations = (key.Iteration + 1) * input.Request.EvaluationsPerIteration;
            return new ChunkOutcome(
                key.Iteration, evaluations, Loss: 1000.0 / (key.Iteration + 1),
                BlobLayout.IterationImage(input.JobId, key.Pair, key.Iteration), Seconds: 1, SecondsPerEvaluation: 0.05,
                Converged: false, Reused: false);
        });
        return Task.FromResult(outcome);
    }

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue($"RunTile {input.Pair.PairId} {input.Iteration} {input.Tile}");
        return Task.FromResult(new TileOutcome(input.Tile, input.Iteration, input.Request.EvaluationsPerIteration, 10, 1, Converged: false, Reused: false));
    }

    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue($"BlendTiles {input.Pair.PairId} {input.Iteration}");
        return Task.FromResult(new ChunkOutcome(
            input.Iteration, (input.Iteration + 1) * input.Request.EvaluationsPerIteration, 1000.0 / (input.Iteration + 1),
            BlobLayout.IterationImage(input.JobId, input.Pair.PairId, input.Iteration), Seconds: 1, SecondsPerEvaluation: 0.05, Converged: false, Reused: false));
    }

    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        calls.Enqueue($"Finalize {input.Pair.PairId}");
        Finalized.Add(input);
        var last = input.LastOutcome!;
        return Task.FromResult(new PairResult(
            input.Pair.PairId, BlobLayout.FinalImage(input.JobId, input.Pair.PairId), BlobLayout.LossLog(input.JobId, input.Pair.PairId),
            input.NextChunk, last.Evaluations, last.Loss));
    }

    public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default)
    {
        calls.Enqueue("WriteSummary");
        Summaries.Add(summary);
        return Task.CompletedTask;
    }
}
