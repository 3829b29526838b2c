using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>
/// The workflow on Durable Task's Azure Storage backend over the test run's Azurite, in this process: the real
/// orchestrations, activities, engine (a random VGG19 at 32 px) and storage.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LocalDurableHostTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task RunToEndAsync_TwoPairs_CompletesWithAFinalImageAndOneLossRowPerEvaluation()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-two", iterations: 2, evaluations: 3, styles: 2);

        JobSummary summary;
        await using (var host = await LocalDurableHost.StartAsync(hub.Configuration()))
        {
            using var timeout = new CancellationTokenSource(JobTimeout);
            summary = await host.RunToEndAsync(input, timeout.Token);
        }

        Assert.True(summary.State == JobState.Completed, $"{summary.State}: {summary.Reason}");
        Assert.Equal(2, summary.Pairs.Count);
        foreach (var pair in summary.Pairs)
        {
            Assert.NotNull(await hub.Jobs.Results.TryReadAsync(BlobLayout.FinalImage("job-two", pair.PairId), default));
            var rows = (await hub.Jobs.Results.TryReadAsync(BlobLayout.LossLog("job-two", pair.PairId), default))!.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["1", "2", "3", "4", "5", "6"], rows.Skip(1).Select(r => r.Split(',')[0]));
        }
    }

    [Fact]
    public async Task Connect_AfterTheWorkerStopped_ReadsTheFinishedJobsStatusOutputAndPairs()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-read", iterations: 1);
        await using (var host = await LocalDurableHost.StartAsync(hub.Configuration()))
        {
            using var timeout = new CancellationTokenSource(JobTimeout);
            await host.RunToEndAsync(input, timeout.Token);
        }

        // A new client, no worker: everything comes from the hub's tables.
        await using var reader = LocalDurableHost.Connect(hub.Configuration());
        var progress = await reader.GetProgressAsync("job-read");

        Assert.NotNull(progress);
        Assert.Equal(("Completed", "Completed"), (progress.State, progress.RuntimeStatus));
        var pair = Assert.Single(progress.Pairs);
        Assert.Equal((1, 1), (pair.Iteration, pair.Total));
        Assert.NotNull(pair.Loss);
        Assert.Equal(input.JobId, progress.Summary!.JobId);
        var job = await reader.Client.GetInstanceAsync("job-read", getInputsAndOutputs: true);
        Assert.Equal(input.Request.Iterations, job!.ReadInputAs<JobInput>()!.Request.Iterations);
    }

    [Fact]
    public async Task RunToEndAsync_MissingContent_FailsWithTheReasonNamingTheField()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-bad", iterations: 1);
        input = input with { Request = input.Request with { Content = ["uploads/job-bad/nothing-here.png"] } };

        await using var host = await LocalDurableHost.StartAsync(hub.Configuration());
        using var timeout = new CancellationTokenSource(JobTimeout);
        var summary = await host.RunToEndAsync(input, timeout.Token);

        // The activity's JobRequestException crossed the backend as failure details: no retry, its own message.
        Assert.Equal(JobState.Failed, summary.State);
        Assert.Contains("content", summary.Reason);
        Assert.Contains("nothing-here.png", summary.Reason);
    }

    [Fact]
    public async Task TerminateInstanceAsync_RecursiveOnARunningJob_TerminatesTheJobAndEveryPair()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-cancel", iterations: 200, evaluations: 2, styles: 2);
        await using var host = await LocalDurableHost.StartAsync(hub.Configuration());
        await host.ScheduleAsync(input);
        using var timeout = new CancellationTokenSource(JobTimeout);
        var progress = await WaitAsync(host, "job-cancel", p => p.Pairs.Count == 2 && p.Pairs.All(pair => pair.Iteration >= 1), timeout.Token);

        // What StyleJobClient.CancelAsync asks for after marking job.json Canceled; the backend itself ends one instance.
        await host.Client.TerminateInstanceAsync("job-cancel", new TerminateInstanceOptions { Output = "canceled by request", Recursive = true }, timeout.Token);

        var job = await host.Client.WaitForInstanceCompletionAsync("job-cancel", cancellation: timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, job.RuntimeStatus);

        // Left alone, each pair would run for minutes: ending within seconds, terminated, means the recursion ended it.
        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var k in Enumerable.Range(0, progress.Pairs.Count))
        {
            var pairId = JobIds.Pair("job-cancel", k);
            var state = await host.Client.WaitForInstanceCompletionAsync(pairId, cancellation: soon.Token)
                .ContinueWith(t => t.IsCanceled ? null : t.Result, TaskScheduler.Default);
            Assert.True(state is not null, $"pair {pairId} was still running 30 s after the job was terminated");
            Assert.Equal(OrchestrationRuntimeStatus.Terminated, state.RuntimeStatus);
        }
    }

    [Fact]
    public async Task CancelAsync_RunningJob_EndsTheJobCanceledWithinSeconds()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-stop", iterations: 200, evaluations: 2);
        await using var host = await LocalDurableHost.StartAsync(hub.Configuration());
        await host.ScheduleAsync(input);
        using var timeout = new CancellationTokenSource(JobTimeout);
        await WaitAsync(host, "job-stop", p => p.Pairs.Count == 1 && p.Pairs[0].Iteration >= 1, timeout.Token);

        Assert.True(await StyleJobClient.CancelAsync(host.Client, hub.Jobs, "job-stop", cancellationToken: timeout.Token));

        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var pair = await host.Client.WaitForInstanceCompletionAsync(JobIds.Pair("job-stop", 0), cancellation: soon.Token);
        var progress = await host.GetProgressAsync("job-stop", timeout.Token);
        Assert.Equal("Canceled", progress!.State);
        Assert.Equal(JobState.Canceled, (await hub.Jobs.Documents.ReadAsync("job-stop", timeout.Token))!.State);
        Assert.True(pair.IsCompleted);
    }

    [Fact]
    public async Task ScheduleOrResumeAsync_TerminatedJob_StartsAgainAndCompletesFromItsCheckpoints()
    {
        await using var hub = new TestHub();
        var input = await hub.UploadJobAsync("job-again", iterations: 4, evaluations: 2, styles: 2);
        await using var host = await LocalDurableHost.StartAsync(hub.Configuration());
        using var timeout = new CancellationTokenSource(JobTimeout);
        Assert.Equal(JobStart.Scheduled, await host.ScheduleOrResumeAsync(input, timeout.Token));
        Assert.Equal(JobStart.Running, await host.ScheduleOrResumeAsync(input, timeout.Token));
        await WaitAsync(host, "job-again", p => p.Pairs.Count == 2 && p.Pairs.Any(pair => pair.Iteration >= 1), timeout.Token);
        // Ended from outside the workflow (an operator, a failed execution), not canceled by its user: job.json says Running.
        await host.Client.TerminateInstanceAsync("job-again", new TerminateInstanceOptions { Recursive = true }, timeout.Token);
        await host.Client.WaitForInstanceCompletionAsync("job-again", cancellation: timeout.Token);

        Assert.Equal(JobStart.Restarted, await host.ScheduleOrResumeAsync(input, timeout.Token));

        var job = await host.Client.WaitForInstanceCompletionAsync("job-again", getInputsAndOutputs: true, timeout.Token);
        var summary = job.ReadOutputAs<JobSummary>();
        Assert.True(summary?.State == JobState.Completed, $"{job.RuntimeStatus} {summary?.State}: {summary?.Reason}");
        Assert.All(summary!.Pairs, pair => Assert.Equal(4, pair.Result!.Iterations));
        Assert.Equal(JobStart.Completed, await host.ScheduleOrResumeAsync(input, timeout.Token));
    }

    [Fact]
    public async Task Client_WithoutWorker_SchedulesListsRefusesADuplicateAndPurges()
    {
        await using var hub = new TestHub();
        await using var host = LocalDurableHost.Connect(hub.Configuration());
        var client = host.Client;

        await client.ScheduleNewOrchestrationInstanceAsync(StyleOrchestrationNames.StyleJob, new { x = 1 }, new StartOrchestrationOptions("list-a"));
        await client.ScheduleNewOrchestrationInstanceAsync(StyleOrchestrationNames.StyleJob, new { x = 2 }, new StartOrchestrationOptions("list-b"));
        var duplicate = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            client.ScheduleNewOrchestrationInstanceAsync(StyleOrchestrationNames.StyleJob, null, new StartOrchestrationOptions("list-a")));

        var listed = new List<OrchestrationMetadata>();
        await foreach (var instance in client.GetAllInstancesAsync(new OrchestrationQuery { PageSize = 1 }))
        {
            listed.Add(instance);
        }

        Assert.Contains("list-a", duplicate.Message);
        Assert.Equal(["list-a", "list-b"], listed.Select(i => i.InstanceId).Order());
        Assert.All(listed, i => Assert.Equal((StyleOrchestrationNames.StyleJob, OrchestrationRuntimeStatus.Pending), (i.Name, i.RuntimeStatus)));
        Assert.Equal(1, (await client.PurgeInstanceAsync("list-a")).PurgedInstanceCount);
        Assert.Null(await client.GetInstanceAsync("list-a"));
    }

    [Fact]
    public async Task Client_UnsupportedMember_ThrowsNotSupportedNamingIt()
    {
        await using var hub = new TestHub();
        await using var host = LocalDurableHost.Connect(hub.Configuration());

        var e = await Assert.ThrowsAsync<NotSupportedException>(() => host.Client.SuspendInstanceAsync("any", "why"));

        Assert.Contains("SuspendInstanceAsync", e.Message);
        Assert.Contains("Azure Storage", e.Message);
    }

    private static async Task<JobProgress> WaitAsync(LocalDurableHost host, string jobId, Func<JobProgress, bool> until, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await host.GetProgressAsync(jobId, cancellationToken) is { } progress && until(progress))
            {
                return progress;
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}
