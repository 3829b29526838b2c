using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Whole jobs on real parts: the durable orchestrators, <see cref="StyleWork"/>, the random VGG19 on ONNX Runtime, Azurite.
/// One content (chelsea) x two styles, 32 px high, 3 iterations of 5 evaluations.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PipelineTests(EngineFixture fixture)
{
    private const int Iterations = 3;
    private const int EvaluationsPerIteration = 5;
    private static readonly string[] PairIds = ["p0-starry_night", "p1-the_scream"];

    /// <summary>Uploads the images and runs the standard job in a fresh pipeline, with the work optionally wrapped.</summary>
    private async Task<JobRun> RunStandardJobAsync(Func<Pipeline, IStyleWork, IStyleWork>? decorate = null)
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j1/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var scream = await pipeline.UploadSampleAsync("styles", "the_scream.jpg", "styles/the_scream.jpg");
        var json = $$"""
            {
              "content": "{{content}}", "styles": [ { "blob": "{{starry}}" }, { "blob": "{{scream}}" } ],
              "height": 32, "iterations": {{Iterations}}, "evaluationsPerIteration": {{EvaluationsPerIteration}}, "network": "random-vgg19"
            }
            """;
        var input = pipeline.CreateIntake().FromJson(json, idempotencyKey: null) with { Settings = Pipeline.FastRetries };
        var job = await pipeline.RunJobAsync(input, decorate);
        return new JobRun(pipeline, input, job);
    }

    private Task<JobRun> UninterruptedAsync() => fixture.UninterruptedAsync(() => RunStandardJobAsync());

    private static JobSummary CompletedSummary(OrchestrationMetadata job)
    {
        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.True(summary.State == JobState.Completed, $"job ended {summary.State}: {summary.Reason}");
        return summary;
    }

    [Fact]
    public async Task StyleJob_OneContentTwoStyles_WritesEveryIterationLossRowsFinalImageAndCompletedJobJson()
    {
        var (pipeline, input, job) = await UninterruptedAsync();

        var summary = CompletedSummary(job);
        Assert.Equal(PairIds, summary.Pairs.Select(p => p.PairId));
        foreach (var pairId in PairIds)
        {
            for (var i = 0; i < Iterations; i++)
            {
                using var image = Image.Load(await pipeline.ReadAsync(pipeline.Results, BlobLayout.IterationImage(input.JobId, pairId, i)));
                Assert.Equal(32, image.Height);
                // chelsea.png is 451x300: 32 px high keeps the aspect ratio, floor(451 * 32 / 300) = 48.
                Assert.Equal(48, image.Width);
            }

            // The final image is the state after the last chunk, the same iterate as the last iteration's image.
            var final = await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(input.JobId, pairId));
            Assert.Equal(await pipeline.ReadAsync(pipeline.Results, BlobLayout.IterationImage(input.JobId, pairId, Iterations - 1)), final);

            var lines = System.Text.Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.LossLog(input.JobId, pairId)))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("evaluation,iteration,content,style,tv,loss", lines[0]);
            var rows = lines.Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
            Assert.Equal(Enumerable.Range(1, Iterations * EvaluationsPerIteration).Select(e => (double)e), rows.Select(r => r[0]));
            Assert.Equal(Enumerable.Range(0, Iterations * EvaluationsPerIteration).Select(e => (double)(e / EvaluationsPerIteration)), rows.Select(r => r[1]));
            foreach (var row in rows)
            {
                // The graph adds three float32 terms in float32: two roundings of 2^-24 each, so 1e-6 of the total is ample.
                Assert.Equal(row[2] + row[3] + row[4], row[5], Math.Abs(row[5]) * 1e-6);
            }

            // L-BFGS from the content image must have reduced the loss after 15 evaluations.
            Assert.True(rows[^1][5] < rows[0][5], $"{pairId}: loss went from {rows[0][5]} to {rows[^1][5]}");

            var pair = summary.Pairs.Single(p => p.PairId == pairId).Result!;
            Assert.Equal((Iterations, Iterations * EvaluationsPerIteration), (pair.Iterations, pair.Evaluations));
        }

        using var jobJson = JsonDocument.Parse(await pipeline.ReadAsync(pipeline.Results, BlobLayout.JobJson(input.JobId)));
        Assert.Equal("Completed", jobJson.RootElement.GetProperty("state").GetString());
        Assert.Equal(2, jobJson.RootElement.GetProperty("pairs").GetArrayLength());
    }

    [Fact]
    public async Task RunChunk_FaultBeforeOneChunkAndCrashAfterAnother_CompletesBitwiseEqualToUninterruptedWithoutRecomputing()
    {
        var baseline = await UninterruptedAsync();
        // Pair 0: chunk 1 throws before it starts and its worker is gone: the retry runs on a fresh worker that reads the
        // targets and state-0001 from the blobs. Pair 1: chunk 1 computes, writes state-0002, then the activity "crashes".
        FaultyStyleWork? work = null;

        var (pipeline, input, job) = await RunStandardJobAsync((p, real) => work = new FaultyStyleWork(real, p.CreateWork(), iteration: 1));

        CompletedSummary(job);
        Assert.Equal((1, 1), (work!.FaultsBefore, work.CrashesAfter));
        foreach (var pairId in PairIds)
        {
            Assert.Equal(
                await baseline.Pipeline.ReadAsync(baseline.Pipeline.Results, BlobLayout.FinalImage(baseline.Input.JobId, pairId)),
                await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(input.JobId, pairId)));
            var evaluations = System.Text.Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.LossLog(input.JobId, pairId)))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]);
            Assert.Equal(Enumerable.Range(1, Iterations * EvaluationsPerIteration).Select(e => e.ToString(CultureInfo.InvariantCulture)), evaluations);
        }

        // The retried chunk of pair 1 found state-0002 and returned the stored outcome instead of computing again.
        var retried = work.Outcomes.Where(o => o.PairIndex == 1 && o.Outcome.Iteration == 1).Select(o => o.Outcome).ToArray();
        Assert.Equal([false, true], retried.Select(o => o.Reused));
        Assert.Equal((retried[0].Evaluations, retried[0].Loss), (retried[1].Evaluations, retried[1].Loss));
        Assert.Equal(Iterations, work.Outcomes.Count(o => o.PairIndex == 0));
    }

    [Fact]
    public async Task RunChunk_WorkerDiesBeforeItsCheckpointUploadBehindLands_NextWorkerRebuildsItAndEndsBitwiseEqual()
    {
        var baseline = await UninterruptedAsync();
        // Pair 0: chunk 1 returns and its worker dies with state-0002 still in its memory, never uploaded (the upload is
        // waited for and the blob deleted, which is the same as never landing). Chunk 2 runs on a fresh worker.
        LostUploadStyleWork? work = null;

        var (pipeline, input, job) = await RunStandardJobAsync((p, _) => work = new LostUploadStyleWork(p.CreateWork(out var bare), bare, p.CreateWork(), p));

        CompletedSummary(job);
        Assert.True(work!.Deleted, "the injected loss of state-0002 did not happen");
        foreach (var pairId in PairIds)
        {
            Assert.Equal(
                await baseline.Pipeline.ReadAsync(baseline.Pipeline.Results, BlobLayout.FinalImage(baseline.Input.JobId, pairId)),
                await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(input.JobId, pairId)));
            Assert.Equal(
                await baseline.Pipeline.ReadAsync(baseline.Pipeline.Work, BlobLayout.State(baseline.Input.JobId, pairId, Iterations)),
                await pipeline.ReadAsync(pipeline.Work, BlobLayout.State(input.JobId, pairId, Iterations)));
            var evaluations = System.Text.Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.LossLog(input.JobId, pairId)))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]);
            Assert.Equal(Enumerable.Range(1, Iterations * EvaluationsPerIteration).Select(e => e.ToString(CultureInfo.InvariantCulture)), evaluations);
        }

        // Only the rebuild can have written state-0002 again, and it equals the lost one bitwise.
        Assert.NotNull(work.Lost);
        Assert.Equal(work.Lost, work.Rebuilt);
    }

    /// <summary>The real work; after pair 0's chunk 1 its upload behind is lost and the pair moves to another worker.</summary>
    private sealed class LostUploadStyleWork(IStyleWork real, StyleWork bare, IStyleWork replacement, Pipeline pipeline) : DelegatingStyleWork(real)
    {
        private volatile bool _moved;

        public bool Deleted { get; private set; }

        /// <summary>state-0002 as chunk 1 stored it, before the injected loss.</summary>
        public byte[]? Lost { get; private set; }

        /// <summary>state-0002 as the next worker rebuilt it, read right after its chunk 2 (the job's end keeps only the last state).</summary>
        public byte[]? Rebuilt { get; private set; }

        public override async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            var pair0 = input.Pair.Index == 0;
            var outcome = await (pair0 && _moved ? replacement : Inner).RunChunkAsync(input, cancellationToken);
            var lost = BlobLayout.State(input.JobId, input.Pair.PairId, 2);
            if (pair0 && input.Iteration == 1 && !_moved)
            {
                Assert.Equal(CheckpointUpload.Stored, await bare.Checkpoints.FlushAsync(lost, cancellationToken));
                Lost = await pipeline.ReadAsync(pipeline.Work, lost);
                var blob = pipeline.Store.Service.GetBlobContainerClient(pipeline.Work).GetBlobClient(lost);
                Deleted = (await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value;
                _moved = true;
            }
            else if (pair0 && input.Iteration == 2)
            {
                Rebuilt = await pipeline.ReadAsync(pipeline.Work, lost);
            }

            return outcome;
        }

        public override Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
            (input.Pair.Index == 0 && _moved ? replacement : Inner).FinalizeAsync(input, cancellationToken);
    }

    /// <summary>
    /// The real work with two injected faults at chunk <c>iteration</c>: pair 0 throws once before the real call and from
    /// then on runs on <paramref name="replacement"/> (another worker); pair 1 throws once after the real call (the state
    /// is written, the activity never reports back). Records every outcome returned by the real work.
    /// </summary>
    private sealed class FaultyStyleWork(IStyleWork real, IStyleWork replacement, int iteration) : DelegatingStyleWork(real)
    {
        private int _faultsBefore;
        private int _crashesAfter;

        public int FaultsBefore => _faultsBefore;

        public int CrashesAfter => _crashesAfter;

        public ConcurrentQueue<(int PairIndex, ChunkOutcome Outcome)> Outcomes { get; } = new();

        public override async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            var target = input.Iteration == iteration;
            if (target && input.Pair.Index == 0 && Interlocked.CompareExchange(ref _faultsBefore, 1, 0) == 0)
            {
                throw new TimeoutException($"injected fault before chunk {input.Iteration}");
            }

            var worker = input.Pair.Index == 0 && _faultsBefore > 0 ? replacement : Inner;
            var outcome = await worker.RunChunkAsync(input, cancellationToken);
            Outcomes.Enqueue((input.Pair.Index, outcome));
            if (target && input.Pair.Index == 1 && Interlocked.CompareExchange(ref _crashesAfter, 1, 0) == 0)
            {
                throw new IOException($"injected crash after chunk {input.Iteration} wrote its state");
            }

            return outcome;
        }

        public override Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
            (input.Pair.Index == 0 && _faultsBefore > 0 ? replacement : Inner).FinalizeAsync(input, cancellationToken);
    }
}
