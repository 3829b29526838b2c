using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Coarse-to-fine stages through the real orchestrators (on the product's durable engine, <see cref="TestTaskHub"/>) and <see cref="StyleWork"/> on Azurite:
/// chelsea with starry night on the random VGG19, scales 32 then 48, a few evaluations per stage.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CoarseToFineTests(EngineFixture fixture)
{
    private const string PairId = "p0-starry_night";

    private async Task<(Pipeline Pipeline, JobInput Input, OrchestrationMetadata Job)> RunAsync(
        WorkflowSettings settings, Func<Pipeline, IStyleWork, IStyleWork>? decorate = null)
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var json = $$"""
            { "content": "{{content}}", "styles": [ { "blob": "{{starry}}" } ], "scales": [32, 48], "stageIterations": [2, 1],
              "evaluationsPerIteration": 3, "network": "random-vgg19" }
            """;
        var input = pipeline.CreateIntake().FromJson(json, idempotencyKey: null) with { Settings = settings };
        var job = await pipeline.RunJobAsync(input, decorate);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.True(summary.State == JobState.Completed, $"job ended {summary.State}: {summary.Reason}");
        return (pipeline, input, job);
    }

    [Fact]
    public async Task Scales_TwoStages_SecondStartsFromFirstResultUpscaled()
    {
        StartOfStage1? capture = null;
        var (pipeline, input, job) = await RunAsync(Pipeline.FastRetries, (p, real) => capture = new StartOfStage1(real, p));
        var jobId = input.JobId;
        var stage0 = $"{PairId}/stage-0-32";
        var stage1 = $"{PairId}/stage-1-48";

        // Stage 0 ran its 2 iterations at 32x48, stage 1 its 1 at 48x72 (chelsea is 451x300: floor(451 * 48 / 300) = 72).
        var first = await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(jobId, stage0));
        Assert.Equal(first, await pipeline.ReadAsync(pipeline.Results, BlobLayout.IterationImage(jobId, stage0, 1)));
        using (var image = Image.Load(await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(jobId, stage1))))
        {
            Assert.Equal((48, 72), (image.Height, image.Width));
        }

        // Exact: stage 1's start is stage 0's final image through the same decoder and resampler as any input.
        using var stream = new MemoryStream(capture!.State0!);
        var start = await CheckpointCodec.ReadAsync(stream, 3 * 48 * 72);
        Assert.Equal(ImageLoader.LoadExact(first, 48, 72).Data, start.X);

        // job.json records the request with its controls, as sent.
        var recorded = System.Text.Json.Nodes.JsonNode.Parse(await pipeline.ReadAsync(pipeline.Results, BlobLayout.JobJson(jobId)))!["request"]!;
        Assert.Equal("[32,48]", recorded["scales"]!.ToJsonString());
        Assert.Equal("[2,1]", recorded["stageIterations"]!.ToJsonString());

        var pair = Assert.Single(job.ReadOutputAs<JobSummary>()!.Pairs);
        Assert.Equal(PairId, pair.PairId);
        Assert.EndsWith($"{jobId}/{stage1}/final.png", pair.Result!.FinalImage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scales_LastStagesFinalImage_IsAlsoThePairsFinalImage()
    {
        // Where users (the CLI prints {pair}/final.png), the contact sheet and the job page look for a pair's result.
        var (pipeline, input, _) = await RunAsync(Pipeline.FastRetries);

        Assert.Equal(
            await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(input.JobId, $"{PairId}/stage-1-48")),
            await pipeline.ReadAsync(pipeline.Results, BlobLayout.FinalImage(input.JobId, PairId)));
    }

    [Fact]
    public async Task Scales_ContinueAsNewEveryChunk_GivesTheSameImages()
    {
        var whole = await RunAsync(Pipeline.FastRetries);
        var split = await RunAsync(Pipeline.FastRetries with { ChunksPerGeneration = 1 });

        foreach (var stage in new[] { $"{PairId}/stage-0-32", $"{PairId}/stage-1-48" })
        {
            Assert.Equal(
                await whole.Pipeline.ReadAsync(whole.Pipeline.Results, BlobLayout.FinalImage(whole.Input.JobId, stage)),
                await split.Pipeline.ReadAsync(split.Pipeline.Results, BlobLayout.FinalImage(split.Input.JobId, stage)));
        }
    }

    /// <summary>Reads stage 1's state-0 as soon as it is prepared (the job's end keeps only each pair's last state).</summary>
    private sealed class StartOfStage1(IStyleWork real, Pipeline pipeline) : DelegatingStyleWork(real)
    {
        public byte[]? State0 { get; private set; }

        public override async Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default)
        {
            var prepared = await Inner.PrepareTargetsAsync(input, cancellationToken);
            if (input.Pair.PairId.EndsWith("/stage-1-48", StringComparison.Ordinal))
            {
                State0 = await pipeline.ReadAsync(pipeline.Work, BlobLayout.State(input.JobId, input.Pair.PairId, 0));
            }

            return prepared;
        }
    }
}
