using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Activities are at-least-once: two workers may run the same chunk at the same time, and a copy may arrive late. On
/// the real pipeline (Azurite, random VGG19) the pair still ends as an uninterrupted run: every loss row once, the
/// same final image and state.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DuplicateChunkTests(EngineFixture fixture)
{
    private const int Iterations = 4;
    private const int Evaluations = 5;

    private async Task<(Pipeline Pipeline, PairInput Pair, IStyleWork First)> NewPairAsync()
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j/chelsea.png", "content/chelsea.png");
        var style = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var request = new JobRequest
        {
            Content = [content], Styles = [new StyleInput(style)], Height = 32, Iterations = Iterations, EvaluationsPerIteration = Evaluations,
            Network = NetworkSpec.RandomVgg19,
        };
        var first = pipeline.CreateWork();
        var plan = await first.ValidateJobAsync(new JobInput("dup", request, Pipeline.FastRetries));
        var pair = new PairInput("dup", plan.Pairs[0], request, Pipeline.FastRetries);
        await first.PrepareTargetsAsync(pair);
        return (pipeline, pair, first);
    }

    /// <summary>Runs a chunk as the durable retry policy would: again after a transient failure (a checkpoint conflict).</summary>
    private static async Task<ChunkOutcome> RunWithRetryAsync(IStyleWork work, ChunkInput chunk)
    {
        try
        {
            return await work.RunChunkAsync(chunk);
        }
        catch (CheckpointConflictException)
        {
            return await work.RunChunkAsync(chunk);
        }
    }

    private static async Task<(string LossCsv, byte[] Final, byte[] LastState)> EndAsync(Pipeline pipeline, PairInput pair, IStyleWork work)
    {
        // Retried as the durable retry policy would: the other worker may have stored the last chunk's end state first,
        // which this worker learns only when it flushes its own upload of it here.
        try
        {
            await work.FinalizeAsync(pair with { NextChunk = Iterations });
        }
        catch (CheckpointConflictException)
        {
            await work.FinalizeAsync(pair with { NextChunk = Iterations });
        }

        return (
            System.Text.Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.LossLog("dup", pair.Pair.PairId))),
            await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage("dup", pair.Pair.PairId)),
            await pipeline.ReadAsync(pipeline.Work, BlobLayout.State("dup", pair.Pair.PairId, Iterations)));
    }

    [Fact]
    public async Task RunChunk_TwoWorkersRunEveryChunkAtOnceAndALateCopyComes_EndsAsAnUninterruptedRun()
    {
        var (reference, referencePair, single) = await NewPairAsync();
        for (var i = 0; i < Iterations; i++)
        {
            await single.RunChunkAsync(new ChunkInput("dup", referencePair.Pair, referencePair.Request, i));
        }

        var expected = await EndAsync(reference, referencePair, single);

        var (pipeline, pair, a) = await NewPairAsync();
        var b = pipeline.CreateWork();
        for (var i = 0; i < Iterations; i++)
        {
            var chunk = new ChunkInput("dup", pair.Pair, pair.Request, i);
            await Task.WhenAll(RunWithRetryAsync(a, chunk), RunWithRetryAsync(b, chunk));
            if (i == 2)
            {
                // A copy of chunk 1 that started before chunk 1 had stored its outcome and ends only now, after chunk 2,
                // on a third worker: it computes chunk 1 again and writes its rows late.
                await pipeline.Store.Service.GetBlobContainerClient(pipeline.Work).DeleteBlobAsync(BlobLayout.ChunkOutcome("dup", pair.Pair.PairId, 1));
                var late = await pipeline.CreateWork().RunChunkAsync(new ChunkInput("dup", pair.Pair, pair.Request, 1));
                Assert.False(late.Reused);
            }
        }

        var actual = await EndAsync(pipeline, pair, a);

        var rows = actual.LossCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => int.Parse(r.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(1, Iterations * Evaluations), rows);
        Assert.Equal(expected.LossCsv, actual.LossCsv);
        Assert.Equal(expected.Final, actual.Final);
        Assert.Equal(expected.LastState, actual.LastState);
    }
}
