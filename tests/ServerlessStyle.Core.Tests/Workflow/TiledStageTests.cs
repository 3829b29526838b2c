using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Tiled stages through the real orchestrators and <see cref="StyleWork"/> on Azurite: chelsea with starry night on the
/// random VGG19 at 64x96 (chelsea is 451x300), 2 iterations of 3 evaluations.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TiledStageTests(EngineFixture fixture)
{
    private const string PairId = "p0-starry_night";

    private async Task<JobRun> RunAsync(string controls, WorkflowSettings? settings = null, Func<Pipeline, IStyleWork, IStyleWork>? decorate = null)
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var json = $$"""
            { "content": "{{content}}", "styles": [ { "blob": "{{starry}}" } ], "iterations": 2, "evaluationsPerIteration": 3,
              "network": "random-vgg19", {{controls}} }
            """;
        var input = pipeline.CreateIntake().FromJson(json, idempotencyKey: null) with { Settings = settings ?? Pipeline.FastRetries };
        var job = await pipeline.RunJobAsync(input, decorate);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.True(summary.State == JobState.Completed, $"job ended {summary.State}: {summary.Reason}");
        return new JobRun(pipeline, input, job);
    }

    private static async Task<byte[]> ResultAsync(JobRun run, string name) => await run.Pipeline.ReadAsync(run.Pipeline.Results, name);

    [Fact]
    public async Task OneTileCoveringTheImage_EveryImageAndLossRow_EqualTheUntiledJobBitForBit()
    {
        // The tiled path end to end (PrepareTargets as tiles, RunTile, BlendTiles, Finalize) with one 96-px tile over
        // 64x96: its targets, its L-BFGS state kept across iterations and its blend are today's, exactly.
        var untiled = await RunAsync("\"height\": 64");
        RunTileCount? count = null;
        var tiled = await RunAsync("\"height\": 64, \"tile\": 96", decorate: (_, real) => count = new RunTileCount(real));

        Assert.Equal(2, count!.Tiles.Count);
        foreach (var name in new[]
        {
            BlobLayout.IterationImage("{0}", PairId, 0), BlobLayout.IterationImage("{0}", PairId, 1), BlobLayout.FinalImage("{0}", PairId), BlobLayout.LossLog("{0}", PairId),
        })
        {
            Assert.Equal(
                await ResultAsync(untiled, string.Format(null, name, untiled.Input.JobId)),
                await ResultAsync(tiled, string.Format(null, name, tiled.Input.JobId)));
        }

        var (a, b) = (untiled.Job.ReadOutputAs<JobSummary>()!.Pairs[0].Result!, tiled.Job.ReadOutputAs<JobSummary>()!.Pairs[0].Result!);
        Assert.Equal((a.Iterations, a.Evaluations, a.Loss), (b.Iterations, b.Evaluations, b.Loss));
    }

    [Fact]
    public async Task TwoByTwoTiles_RunAsEightTileActivities_AndWriteFullSizeImagesAndOneLossRowPerEvaluation()
    {
        RunTileCount? count = null;
        var run = await RunAsync("\"height\": 64, \"tile\": 56, \"tileOverlap\": 16", decorate: (_, real) => count = new RunTileCount(real));
        var jobId = run.Input.JobId;

        Assert.Equal(8, count!.Tiles.Count);
        Assert.Equal(Enumerable.Range(0, 4), count.Tiles.Where(t => t.Iteration == 1).Select(t => t.Tile).Order());
        foreach (var name in new[] { BlobLayout.IterationImage(jobId, PairId, 0), BlobLayout.IterationImage(jobId, PairId, 1), BlobLayout.FinalImage(jobId, PairId) })
        {
            using var image = Image.Load(await ResultAsync(run, name));
            Assert.Equal((64, 96), (image.Height, image.Width));
        }

        var rows = LossCsv.Parse(System.Text.Encoding.UTF8.GetString(await ResultAsync(run, BlobLayout.LossLog(jobId, PairId))));
        Assert.Equal([1, 2, 3, 4, 5, 6], rows.Select(r => r.Evaluation));
        Assert.Equal([0, 0, 0, 1, 1, 1], rows.Select(r => r.Iteration));
        Assert.All(rows, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0, $"row {r}"));
        Assert.NotEqual(
            await ResultAsync(run, BlobLayout.IterationImage(jobId, PairId, 0)),
            await ResultAsync(run, BlobLayout.IterationImage(jobId, PairId, 1)));
    }

    [Fact]
    public async Task Tiles_ContinueAsNewEveryIteration_GivesTheSameImages()
    {
        // An iteration of 4 tiles costs 5 activities: with a budget of 1 each generation still runs one iteration.
        var whole = await RunAsync("\"height\": 64, \"tile\": 56, \"tileOverlap\": 16");
        var split = await RunAsync("\"height\": 64, \"tile\": 56, \"tileOverlap\": 16", Pipeline.FastRetries with { ChunksPerGeneration = 1 });

        Assert.Equal(
            await ResultAsync(whole, BlobLayout.FinalImage(whole.Input.JobId, PairId)),
            await ResultAsync(split, BlobLayout.FinalImage(split.Input.JobId, PairId)));
    }

    [Fact]
    public async Task Scales_SmallStageWhole_LargerStagesTiled_EachStartingFromThePreviousResult()
    {
        // 32x48 fits a 56-px tile and is not the last stage: it runs whole. 64x96 (4 tiles) and 72x108 (6 tiles) are
        // tiled; the last starts from the tiled one's blended image.
        RunTileCount? count = null;
        var run = await RunAsync(
            "\"scales\": [32, 64, 72], \"stageIterations\": [1, 1, 1], \"tile\": 56, \"tileOverlap\": 16", decorate: (_, real) => count = new RunTileCount(real));
        var jobId = run.Input.JobId;

        Assert.Equal(10, count!.Tiles.Count);
        Assert.Equal(4, count.Tiles.Count(t => t.PairId.EndsWith("stage-1-64", StringComparison.Ordinal)));
        using var image = Image.Load(await ResultAsync(run, BlobLayout.FinalImage(jobId, PairId)));
        Assert.Equal((72, 108), (image.Height, image.Width));
        Assert.Equal(
            await ResultAsync(run, BlobLayout.FinalImage(jobId, $"{PairId}/stage-2-72")),
            await ResultAsync(run, BlobLayout.FinalImage(jobId, PairId)));
    }

    /// <summary>Records every RunTile call (pair, iteration, tile).</summary>
    private sealed class RunTileCount(IStyleWork real) : DelegatingStyleWork(real)
    {
        public ConcurrentBag<(string PairId, int Iteration, int Tile)> Tiles { get; } = [];

        public override Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default)
        {
            Tiles.Add((input.Pair.PairId, input.Iteration, input.Tile));
            return base.RunTileAsync(input, cancellationToken);
        }
    }
}
