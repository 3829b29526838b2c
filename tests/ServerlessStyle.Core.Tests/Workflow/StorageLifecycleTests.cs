using System.Collections.Concurrent;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// What a job keeps in the work container: while a pair runs, the states two chunks behind the latest stored one go;
/// when the job ends, each pair keeps only its last state (so it could be continued) and its last outcome.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class StorageLifecycleTests(EngineFixture fixture)
{
    private const int Iterations = 5;

    /// <summary>After every chunk: the indices of the pair's states in the work container.</summary>
    private sealed class StateWatch(IStyleWork real, Pipeline pipeline) : DelegatingStyleWork(real)
    {
        public ConcurrentQueue<(string PairId, int Iteration, int[] States)> AfterChunks { get; } = new();

        public override async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            var outcome = await Inner.RunChunkAsync(input, cancellationToken);
            var states = (await pipeline.Store.ListAsync(pipeline.Work, $"{input.JobId}/{input.Pair.PairId}/state-", cancellationToken))
                .Select(n => BlobLayout.TryParseState(n, out var i) ? i : -1).Order().ToArray();
            AfterChunks.Enqueue((input.Pair.PairId, input.Iteration, states));
            return outcome;
        }
    }

    [Fact]
    public async Task StyleJob_FiveIterations_KeepsAtMostThreeStatesWhileRunningAndOnlyTheLastStateAndOutcomeAfter()
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j1/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var scream = await pipeline.UploadSampleAsync("styles", "the_scream.jpg", "styles/the_scream.jpg");
        var request = new JobRequest
        {
            Content = [content], Styles = [new StyleInput(starry), new StyleInput(scream)], Height = 32, Iterations = Iterations,
            EvaluationsPerIteration = 3, Network = NetworkSpec.RandomVgg19,
        };
        StateWatch? watch = null;

        var job = await pipeline.RunJobAsync(new JobInput("j-lifecycle", request, Pipeline.FastRetries), (p, real) => watch = new StateWatch(real, p));

        Assert.Equal(JobState.Completed, job.ReadOutputAs<JobSummary>()!.State);

        // After chunk i: state-i (its start) and state-(i+1) (its end, possibly still uploading) and at most state-(i-1).
        Assert.Equal(2 * Iterations, watch!.AfterChunks.Count);
        Assert.All(watch.AfterChunks, c => Assert.True(
            c.States.All(s => s >= c.Iteration - 1 && s <= c.Iteration + 1),
            $"{c.PairId} after chunk {c.Iteration} holds states {string.Join(", ", c.States)}"));

        // The end: per pair its last state and the outcome of its last chunk; no targets, no earlier states, no counters.
        var left = await pipeline.Store.ListAsync(pipeline.Work, "j-lifecycle/");
        var expected = new[] { "p0-starry_night", "p1-the_scream" }
            .SelectMany(p => new[] { BlobLayout.ChunkOutcome("j-lifecycle", p, Iterations - 1), BlobLayout.State("j-lifecycle", p, Iterations) })
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, left.Order(StringComparer.Ordinal));
    }
}
