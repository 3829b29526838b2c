using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// The real StyleJob and StylePair orchestrators and the real activity classes, run with replay on the product's durable
/// engine (<see cref="TestTaskHub"/>); only the work behind <see cref="IStyleWork"/> is arithmetic.
/// </summary>
public sealed class StyleOrchestrationTests
{
    // Short retry intervals keep the tests fast; the policy's shape (attempts, backoff) is what is under test.
    private static readonly WorkflowSettings FastRetries = new(ChunksPerGeneration: 20, RetryAttempts: 3, RetryFirstIntervalSeconds: 0.05, RetryBackoffCoefficient: 1);

    // Generous: each test needs a second or two; a hang should fail rather than block the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static JobRequest Request(int iterations, params string[] styles) => new()
    {
        Content = ["uploads/j1/photo.jpg"],
        Styles = styles.Select(s => new StyleInput($"styles/{s}.jpg")).ToArray(),
        Iterations = iterations,
        EvaluationsPerIteration = 20,
    };

    private static async Task<(OrchestrationMetadata Job, IStyleWork Work)> RunJobAsync(
        IStyleWork work, JobInput input, Func<DurableTaskClient, Task>? inspect = null)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        await using var host = await TestTaskHub.StartAsync(work, cancel.Token);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(
            StyleOrchestrationNames.StyleJob, input, new Microsoft.DurableTask.StartOrchestrationOptions(input.JobId), cancel.Token);
        var job = await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cancel.Token);
        if (inspect is not null)
        {
            await inspect(host.Client);
        }

        return (job, work);
    }

    [Fact]
    public async Task StyleJob_OneContentTwoStylesThreeChunks_FansOutAndCallsActivitiesInOrder()
    {
        var work = new RecordingStyleWork();
        var (job, _) = await RunJobAsync(work, new JobInput("job-a", Request(3, "starry_night", "the_scream"), FastRetries));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Completed, summary.State);
        Assert.Equal(["p0-starry_night", "p1-the_scream"], summary.Pairs.Select(p => p.PairId));
        Assert.All(summary.Pairs, p => Assert.Equal(3, p.Result!.Iterations));
        Assert.All(summary.Pairs, p => Assert.Equal(60, p.Result!.Evaluations));

        // Pairs run in parallel, so the order is checked per pair; the job's own steps bracket them.
        var calls = work.Calls;
        Assert.Equal("ValidateJob", calls[0]);
        Assert.Equal("WriteSummary", calls[^1]);
        foreach (var pair in new[] { "p0-starry_night", "p1-the_scream" })
        {
            Assert.Equal(
                [$"PrepareTargets {pair}", $"RunChunk {pair} 0", $"RunChunk {pair} 1", $"RunChunk {pair} 2", $"Finalize {pair}"],
                calls.Where(c => c.Contains(pair, StringComparison.Ordinal)));
        }

        Assert.Equal(12, calls.Count);
    }

    [Fact]
    public async Task StylePair_ChunkThrowsOnce_IsRetriedAndJobCompletes()
    {
        var work = new RecordingStyleWork();
        work.FailOnce(pair: 0, iteration: 1);

        var (job, _) = await RunJobAsync(work, new JobInput("job-b", Request(3, "starry_night"), FastRetries));

        Assert.Equal(JobState.Completed, job.ReadOutputAs<JobSummary>()!.State);
        Assert.Equal(2, work.Calls.Count(c => c == "RunChunk p0-starry_night 1"));
        Assert.Equal(1, work.Calls.Count(c => c == "RunChunk p0-starry_night 2"));
    }

    [Fact]
    public async Task StyleJob_ValidationError_FailsFastWithReasonAndNoRetry()
    {
        var work = new RecordingStyleWork { ValidationError = new JobRequestException("content", "blob 'uploads/j1/photo.jpg' does not exist") };

        var (job, _) = await RunJobAsync(work, new JobInput("job-c", Request(3, "starry_night"), FastRetries));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Failed, summary.State);
        Assert.Contains("content: blob 'uploads/j1/photo.jpg' does not exist", summary.Reason);
        Assert.Empty(summary.Pairs);
        Assert.Equal(["ValidateJob", "WriteSummary"], work.Calls);
        Assert.Equal(JobState.Failed, Assert.Single(work.Summaries).State);
    }

    [Fact]
    public async Task StylePair_SixtyChunksWithTwentyPerGeneration_ContinuesAsNewTwiceAndCompletes()
    {
        var work = new RecordingStyleWork();
        PairStatus? pairStatus = null;

        var (job, _) = await RunJobAsync(
            work,
            new JobInput("job-d", Request(60, "starry_night"), FastRetries with { ChunksPerGeneration = 20 }),
            async client =>
            {
                var pair = await client.GetInstanceAsync(JobIds.Pair("job-d", 0), getInputsAndOutputs: true);
                pairStatus = pair!.ReadCustomStatusAs<PairStatus>();
            });

        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Completed, summary.State);
        Assert.Equal(60, summary.Pairs[0].Result!.Iterations);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"RunChunk p0-starry_night {i}"), work.Calls.Where(c => c.StartsWith("RunChunk", StringComparison.Ordinal)));
        // Generations 0, 1 and 2 ran 20 chunks each; the targets were prepared once, not once per generation.
        Assert.Equal(2, Assert.Single(work.Finalized).Generation);
        Assert.Equal(1, work.Calls.Count(c => c.StartsWith("PrepareTargets", StringComparison.Ordinal)));
        Assert.NotNull(pairStatus);
        Assert.Equal((60, 60, 2), (pairStatus!.Iteration, pairStatus.Total, pairStatus.Generation));
        Assert.Equal(BlobLayout.IterationImage("job-d", "p0-starry_night", 59), pairStatus.LatestImage);
    }

    [Fact]
    public async Task StyleJob_OnePairFails_JobFailsWithItsReasonAndOtherPairFinishes()
    {
        var work = new RecordingStyleWork { BrokenPair = 1 };

        var (job, _) = await RunJobAsync(work, new JobInput("job-e", Request(2, "starry_night", "the_scream"), FastRetries));

        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Failed, summary.State);
        Assert.Contains("p1-the_scream", summary.Reason);
        Assert.Contains("simulated storage outage in pair p1-the_scream", summary.Reason);
        Assert.Equal(JobState.Completed, summary.Pairs[0].State);
        Assert.Equal(JobState.Failed, summary.Pairs[1].State);
        Assert.Contains("Finalize p0-starry_night", work.Calls);
        // Three attempts (the retry policy), then the pair gives up.
        Assert.Equal(3, work.Calls.Count(c => c == "RunChunk p1-the_scream 0"));
        Assert.Equal(JobState.Failed, Assert.Single(work.Summaries).State);
    }

    [Fact]
    public async Task StylePair_BadInputDuringChunk_IsNotRetried()
    {
        var work = new BadChunkWork();

        var (job, _) = await RunJobAsync(work, new JobInput("job-f", Request(2, "starry_night"), FastRetries));

        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Failed, summary.State);
        Assert.Contains("height: 5000 px decoded", summary.Reason);
        Assert.Equal(1, work.Attempts);
    }

    private sealed class BadChunkWork : IStyleWork
    {
        private int attempts;

        public int Attempts => attempts;

        public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
            Task.FromResult(JobPlan.Create(input.JobId, input.Request));

        public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
            Task.FromResult(new PairPrepared(input.Pair.PairId, false));

        public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref attempts);
            throw new JobRequestException("height", "5000 px decoded; allowed: 32..1024");
        }

        public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not reached");

        public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not reached");

        public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not reached");

        public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
