using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Cancel for real, on the real pipeline: job.json says Canceled (the viewer stops there), the running chunk stops at
/// its next evaluation without writing anything, the orchestration ends; with purge the job's blobs and history go.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CancelTests(EngineFixture fixture)
{
    /// <summary>Records when each chunk ended and how.</summary>
    private sealed class ChunkWatch(IStyleWork real) : DelegatingStyleWork(real)
    {
        public ConcurrentQueue<(int Iteration, long At, Exception? Error)> Ended { get; } = new();

        public int Started => _started;

        private int _started;

        public TaskCompletionSource FirstChunkStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            if (input.Iteration == 0)
            {
                FirstChunkStarted.TrySetResult();
            }

            try
            {
                var outcome = await Inner.RunChunkAsync(input, cancellationToken);
                Ended.Enqueue((input.Iteration, Stopwatch.GetTimestamp(), null));
                return outcome;
            }
            catch (Exception e)
            {
                Ended.Enqueue((input.Iteration, Stopwatch.GetTimestamp(), e));
                throw;
            }
        }
    }

    private async Task<(Pipeline Pipeline, JobInput Input)> JobAsync(string jobId)
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadSampleAsync("uploads", $"{jobId}/chelsea.png", "content/chelsea.png");
        var style = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");

        // Chunks of 100 evaluations of VGG19 at 128 px: seconds each, so the cancel lands inside one.
        var request = new JobRequest
        {
            Content = [content], Styles = [new StyleInput(style)], Height = 128, Iterations = 20, EvaluationsPerIteration = 100,
            Network = NetworkSpec.RandomVgg19,
        };
        return (pipeline, new JobInput(jobId, request, Pipeline.FastRetries));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancel_DuringAChunk_StopsItWithoutWritingAndEndsTheJobCanceled(bool purge)
    {
        var (pipeline, input) = await JobAsync(purge ? "j-cancel-purge" : "j-cancel");
        var watch = new ChunkWatch(pipeline.CreateWork());
        await using var host = await TestTaskHub.StartAsync(watch);
        await StyleJobClient.StartAsync(host.Client, input);
        await watch.FirstChunkStarted.Task.WaitAsync(TimeSpan.FromSeconds(120));
        await Task.Delay(1000);

        var canceledAt = Stopwatch.GetTimestamp();
        Assert.True(await StyleJobClient.CancelAsync(host.Client, pipeline.CreateStorage(), input.JobId, purge));

        // The running chunk stops at its next evaluation (the check runs every 0.5 s): well within 10 s here.
        var clock = Stopwatch.StartNew();
        while (!watch.Ended.Any(e => e.Iteration == 0) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        var (_, endedAt, error) = watch.Ended.First(e => e.Iteration == 0);
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.InRange(Stopwatch.GetElapsedTime(canceledAt, endedAt).TotalSeconds, 0, 10);
        Assert.DoesNotContain(watch.Ended, e => e.Iteration > 0);

        // A retry the orchestration scheduled before its termination landed refuses to start: no work, no writes.
        await Task.Delay(1000);
        Assert.Equal(watch.Started, watch.Ended.Count);
        Assert.All(watch.Ended, e => Assert.IsAssignableFrom<OperationCanceledException>(e.Error));
        var pairId = JobPlan.Create(input.JobId, input.Request).Pairs[0].PairId;
        var job = await host.Client.GetInstanceAsync(input.JobId);
        if (!purge)
        {
            Assert.Equal(OrchestrationRuntimeStatus.Terminated, job!.RuntimeStatus);

            // The stopped chunk wrote nothing: no image, no outcome, no end state.
            var results = await pipeline.Store.ListAsync(pipeline.Results, $"{input.JobId}/");
            Assert.DoesNotContain(BlobLayout.IterationImage(input.JobId, pairId, 0), results);
            Assert.Null(await pipeline.Store.TryDownloadAsync(pipeline.Work, BlobLayout.ChunkOutcome(input.JobId, pairId, 0)));
            Assert.Null(await pipeline.Store.TryDownloadAsync(pipeline.Work, BlobLayout.State(input.JobId, pairId, 1)));
            var view = await JobView.LoadAsync(pipeline.CreateStorage(), input.JobId);
            Assert.Equal(("Canceled", "canceled by request"), (view!.State, view.Reason));
        }
        else
        {
            Assert.Null(job);
            Assert.Equal([BlobLayout.JobJson(input.JobId)], await pipeline.Store.ListAsync(pipeline.Results, $"{input.JobId}/"));
            var tombstone = await pipeline.CreateStorage().Documents.ReadAsync(input.JobId);
            Assert.Equal(JobState.Canceled, tombstone!.State);
            Assert.Contains("purged", tombstone.Reason, StringComparison.Ordinal);
            Assert.Null(tombstone.Request);
            Assert.Empty(await pipeline.Store.ListAsync(pipeline.Work, $"{input.JobId}/"));
            Assert.Empty(await pipeline.Store.ListAsync(pipeline.Storage.Container("uploads"), $"{input.JobId}/"));
        }
    }
}
