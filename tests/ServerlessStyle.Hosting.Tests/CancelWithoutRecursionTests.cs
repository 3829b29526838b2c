using System.Collections.Concurrent;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>
/// Cancel on the real Azure Storage backend (Azurite), through a client that does not terminate sub-orchestrations with
/// their parent: the pairs still end at once, as Canceled, without a retry, and job.json says so for each.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CancelWithoutRecursionTests
{
    /// <summary>Counts the attempts of each chunk and signals the first one.</summary>
    private sealed class ChunkAttempts(IStyleWork inner) : IStyleWork
    {
        public ConcurrentDictionary<(string PairId, int Iteration), int> Attempts { get; } = new();

        public TaskCompletionSource FirstChunkStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) => inner.ValidateJobAsync(input, cancellationToken);

        public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) => inner.PrepareTargetsAsync(input, cancellationToken);

        public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            Attempts.AddOrUpdate((input.Pair.PairId, input.Iteration), 1, (_, n) => n + 1);
            FirstChunkStarted.TrySetResult();
            return inner.RunChunkAsync(input, cancellationToken);
        }

        public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) => inner.RunTileAsync(input, cancellationToken);

        public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) => inner.BlendTilesAsync(input, cancellationToken);

        public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) => inner.FinalizeAsync(input, cancellationToken);

        public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => inner.WriteSummaryAsync(summary, cancellationToken);
    }

    [Fact]
    public async Task CancelAsync_ClientIgnoresRecursive_PairsEndCanceledAtOnceWithoutRetryAndJobJsonSaysSo()
    {
        await using var hub = new TestHub();

        // Chunks of 60 evaluations at 32 px (a few seconds each) and two chunks at once: both pairs are mid-chunk.
        var input = await hub.UploadJobAsync("job-cancel", iterations: 20, evaluations: 60, styles: 2);
        ChunkAttempts? attempts = null;
        await using var host = await LocalDurableHost.StartAsync(
            hub.Configuration(("ServerlessStyle:Durable:MaxConcurrentActivities", "2")),
            services =>
            {
                var real = services.Last(d => d.ServiceType == typeof(IStyleWork));
                services.Remove(real);
                services.AddSingleton<IStyleWork>(sp => attempts = new ChunkAttempts(real.ImplementationFactory is { } factory
                    ? (IStyleWork)factory(sp)
                    : (IStyleWork)ActivatorUtilities.CreateInstance(sp, real.ImplementationType!)));
            });
        await StyleJobClient.StartAsync(host.Client, input);
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while (attempts is null)
            {
                await Task.Delay(50, wait.Token);
            }

            await attempts.FirstChunkStarted.Task.WaitAsync(wait.Token);
        }

        await Task.Delay(1000);
        var client = new NonRecursiveClient(host.Client);
        Assert.True(await StyleJobClient.CancelAsync(client, hub.Jobs, input.JobId));

        // Both pairs were named and terminated by the cancel itself, not through the job.
        var pairIds = Enumerable.Range(0, 2).Select(k => JobIds.Pair(input.JobId, k)).ToList();
        Assert.Equal([input.JobId, .. pairIds], client.Terminated);

        // Ended within 30 s: the termination lands at the pair's next orchestration step, about a second here.
        var ended = new List<OrchestrationMetadata>();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            foreach (var id in pairIds)
            {
                ended.Add(await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token));
            }
        }

        // A canceled pair is terminated, or (when its chunk's refusal came first) completed without a result; never failed.
        Assert.All(ended, pair => Assert.True(
            pair.RuntimeStatus == OrchestrationRuntimeStatus.Terminated
            || (pair.RuntimeStatus == OrchestrationRuntimeStatus.Completed && pair.ReadOutputAs<PairResult>() is null),
            $"{pair.InstanceId} ended {pair.RuntimeStatus}: {pair.FailureDetails?.ErrorMessage}"));
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await host.Client.GetInstanceAsync(input.JobId))!.RuntimeStatus);

        // No chunk ran twice: the stopped chunk and any late delivery are not retried.
        await Task.Delay(2000);
        Assert.All(attempts.Attempts, a => Assert.True(a.Value == 1, $"chunk {a.Key.Iteration} of {a.Key.PairId} was attempted {a.Value} times"));

        var document = await hub.Jobs.Documents.ReadAsync(input.JobId);
        Assert.Equal(JobState.Canceled, document!.State);
        Assert.Equal(2, document.Pairs.Count);
        Assert.All(document.Pairs, pair => Assert.Equal(JobState.Canceled, pair.State));
    }
}
