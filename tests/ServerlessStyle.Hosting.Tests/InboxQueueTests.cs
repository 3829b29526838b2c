using Azure.Storage.Queues;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>
/// The inbox without Event Grid (Azurite has none): a drop puts the same Event Grid message on the same queue as Azure
/// does, and a worker consumes that queue like the Functions queue trigger, on the real backend and engine.
/// </summary>
[Trait("Category", "Integration")]
public sealed class InboxQueueTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Polls <paramref name="done"/> until it holds; fails saying what did not happen when <paramref name="timeout"/> passes.</summary>
    private static async Task WaitForAsync(Func<CancellationToken, Task<bool>> done, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (!await done(cancel.Token))
            {
                await Task.Delay(200, cancel.Token);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Assert.Fail($"{what} within {timeout.TotalSeconds:0} s");
        }
    }

    private static async Task CleanUpAsync(TestHub hub, InboxQueue inbox)
    {
        var store = BlobStore.FromConnectionString(hub.ConnectionString);
        await store.DeleteContainerAsync(hub.Storage.Container(hub.Storage.Inbox));
        await store.DeleteContainerAsync(hub.Storage.Container(hub.Storage.Styles));
        await new QueueClient(hub.ConnectionString, inbox.Name).DeleteIfExistsAsync();
        await new QueueClient(hub.ConnectionString, inbox.PoisonName).DeleteIfExistsAsync();
    }

    [Fact]
    public async Task Drop_WithAWorkerRunning_StartsTheDropsJobThroughTheQueue_AndItCompletes()
    {
        await using var hub = new TestHub();
        var inbox = new InboxQueue(hub.ConnectionString, hub.Jobs);
        try
        {
            await hub.Jobs.Inputs.UploadAsync("styles/stripes.png", TestHub.Png(1));
            await using var worker = await LocalDurableHost.StartAsync(hub.Configuration());

            var etag = await inbox.DropAsync("stripes/cat.png", TestHub.Png(0), new Dictionary<string, string>
            {
                ["height"] = "32", ["iterations"] = "1", ["evaluationsPerIteration"] = "2", ["network"] = "random-vgg19",
            });

            // The id an inbox drop gets everywhere: inbox container, blob name and the upload's ETag.
            var jobId = JobIds.FromBlob(hub.Storage.Container(hub.Storage.Inbox), "stripes/cat.png", etag);
            await WaitForAsync(async ct => await worker.Client.GetInstanceAsync(jobId, ct) is not null, TimeSpan.FromSeconds(60), $"the worker started no job {jobId} from the inbox queue");
            using var timeout = new CancellationTokenSource(JobTimeout);
            var job = await worker.Client.WaitForInstanceCompletionAsync(jobId, getInputsAndOutputs: true, timeout.Token);
            var summary = job.ReadOutputAs<JobSummary>();
            Assert.True(summary?.State == JobState.Completed, $"{job.RuntimeStatus}: {summary?.Reason ?? job.FailureDetails?.ErrorMessage}");
            Assert.Equal(["inbox/stripes/cat.png"], job.ReadInputAs<JobInput>()!.Request.Content);
            Assert.Equal(0, (await new QueueClient(hub.ConnectionString, inbox.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount);
        }
        finally
        {
            await CleanUpAsync(hub, inbox);
        }
    }

    [Fact]
    public async Task MessageThatIsNoEvent_AfterItsTries_IsMovedToThePoisonQueue()
    {
        await using var hub = new TestHub();
        var inbox = new InboxQueue(hub.ConnectionString, hub.Jobs);
        try
        {
            await using var worker = await LocalDurableHost.StartAsync(hub.Configuration());
            await inbox.SendAsync("not an event");

            var poison = new QueueClient(hub.ConnectionString, inbox.PoisonName);
            await WaitForAsync(
                async ct => (await poison.ExistsAsync(ct)).Value && (await poison.PeekMessagesAsync(1, ct)).Value.Length > 0,
                TimeSpan.FromSeconds(60), $"no message reached {inbox.PoisonName}");

            var moved = Assert.Single((await poison.PeekMessagesAsync(10)).Value);
            Assert.Equal("not an event", moved.Body.ToString());
            Assert.Equal(0, (await new QueueClient(hub.ConnectionString, inbox.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount);
        }
        finally
        {
            await CleanUpAsync(hub, inbox);
        }
    }
}
