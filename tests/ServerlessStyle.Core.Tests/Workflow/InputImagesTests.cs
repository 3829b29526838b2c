using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Each input is downloaded once to validate the job and once per pair that uses it, whatever the number of iterations:
/// counted through a decorator on the image source, over a whole job on the real pipeline.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class InputImagesTests(EngineFixture fixture)
{
    /// <summary>The real source, with every download counted by blob name.</summary>
    private sealed class CountingSource(IInputImageSource real) : IInputImageSource
    {
        public ConcurrentDictionary<string, int> Downloads { get; } = new(StringComparer.Ordinal);

        public Task<byte[]> DownloadAsync(string blob, long maxBytes, CancellationToken cancellationToken = default)
        {
            Downloads.AddOrUpdate(blob, 1, (_, n) => n + 1);
            return real.DownloadAsync(blob, maxBytes, cancellationToken);
        }
    }

    [Fact]
    public async Task StyleJob_PreserveColorsOverSeveralIterations_DownloadsEachInputOncePerPairAndOnceToValidate()
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", "j1/chelsea.png", "content/chelsea.png");
        var starry = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        var scream = await pipeline.UploadSampleAsync("styles", "the_scream.jpg", "styles/the_scream.jpg");
        var request = new JobRequest
        {
            Content = [content],
            Styles = [new StyleInput(starry), new StyleInput(scream)],
            Height = 32,
            Iterations = 3,
            EvaluationsPerIteration = 2,
            Network = NetworkSpec.RandomVgg19,

            // Every saved image needs the content's colours: before, each iteration downloaded the content again.
            PreserveColors = true,
        };
        CountingSource? counting = null;

        var job = await pipeline.RunJobAsync(
            new JobInput("j-downloads", request, Pipeline.FastRetries),
            (p, _) => p.CreateWork(counting = new CountingSource(new StorageInputImageSource(p.CreateStorage()))));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        Assert.Equal(JobState.Completed, job.ReadOutputAs<JobSummary>()!.State);

        // Two pairs (one per style) share the content: validation + 2 pairs; each style: validation + its pair.
        Assert.Equal(new Dictionary<string, int> { [content] = 3, [starry] = 2, [scream] = 2 }, counting!.Downloads.ToDictionary());
    }
}
