using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// The retention timer on real storage (Azurite; the timer and the Durable client are the host's bindings and mocked):
/// what a job left is deleted counted from the job's end, never its start, and each part only once.
/// </summary>
[Trait("Category", "Storage")]
public sealed class RetentionFunctionsTests
{
    private static readonly RetentionOptions Retention = new() { InputDays = 7, ResultDays = 30 };

    private readonly StorageOptions _storage = Azurite.IsolatedStorage("rt");
    private readonly BlobStore _store = Azurite.CreateStore();

    private readonly Mock<DurableTaskClient> _client = new("test");
    private readonly List<string> _purgedInstances = [];

    public RetentionFunctionsTests()
    {
        _client.Setup(c => c.PurgeInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback((string id, CancellationToken _) => _purgedInstances.Add(id))
            .ReturnsAsync(new PurgeResult(1));
    }

    private JobStorage Storage() => new(_store, Options.Create(_storage), NullLogger<JobStorage>.Instance);

    private RetentionFunctions Functions(RetentionOptions? options = null) =>
        new(Storage(), Options.Create(options ?? Retention), NullLogger<RetentionFunctions>.Instance);

    private static TimerInfo Timer() => new() { ScheduleStatus = new ScheduleStatus(), IsPastDue = false };

    private async Task RunAsync(RetentionOptions? options = null) =>
        await Functions(options).Retention_Purge(Timer(), _client.Object, CancellationToken.None);

    /// <summary>
    /// A job as the pipeline leaves it: an upload and an inbox drop, a pair's end state in work/, a final image and
    /// job.json in results/; created and (unless null) ended that many days ago.
    /// </summary>
    private async Task JobAsync(string jobId, double createdDaysAgo, double? endedDaysAgo)
    {
        var storage = Storage();
        var now = DateTimeOffset.UtcNow;
        var pairId = $"p0-{jobId}";
        foreach (var container in new[] { _storage.Work, _storage.Results })
        {
            await _store.EnsureContainerAsync(_storage.Container(container));
        }

        await storage.Inputs.UploadAsync($"uploads/{BlobLayout.Upload(jobId, "content.png")}", BinaryData.FromString("photo"));
        await storage.Inputs.UploadAsync($"inbox/starry_night/{jobId}.png", BinaryData.FromString("drop"));
        await _store.UploadAsync(_storage.Container(_storage.Work), BlobLayout.State(jobId, pairId, 10), BinaryData.FromString("state"));
        await storage.Results.WriteAsync(BlobLayout.FinalImage(jobId, pairId), BinaryData.FromString("png"));
        var request = new JobRequest
        {
            Content = [$"uploads/{BlobLayout.Upload(jobId, "content.png")}", $"inbox/starry_night/{jobId}.png"],
            Styles = [new StyleInput("styles/starry_night.jpg")],
        };
        await storage.Documents.UpdateAsync(jobId, _ => new JobDocument
        {
            JobId = jobId,
            State = endedDaysAgo is null ? JobState.Running : JobState.Completed,
            Request = request,
            Pairs = [new PairDocument(pairId, request.Content[0], request.Styles, endedDaysAgo is null ? JobState.Running : JobState.Completed)],
            Created = now.AddDays(-createdDaysAgo),
            Ended = endedDaysAgo is { } ended ? now.AddDays(-ended) : null,
        });
    }

    /// <summary>Which of the job's blobs are left: "uploads", "inbox", "work" and the result files by name.</summary>
    private async Task<List<string>> LeftAsync(string jobId)
    {
        var left = new List<string>();
        if ((await _store.ListAsync(_storage.Container(_storage.Uploads), $"{jobId}/")).Count > 0)
        {
            left.Add("uploads");
        }

        if (await _store.ExistsAsync(_storage.Container(_storage.Inbox), $"starry_night/{jobId}.png"))
        {
            left.Add("inbox");
        }

        if ((await _store.ListAsync(_storage.Container(_storage.Work), $"{jobId}/")).Count > 0)
        {
            left.Add("work");
        }

        left.AddRange((await _store.ListAsync(_storage.Container(_storage.Results), $"{jobId}/")).Select(n => n[(jobId.Length + 1)..]).Order(StringComparer.Ordinal));
        return left;
    }

    private async Task<Azure.ETag> JobJsonETagAsync(string jobId) =>
        (await _store.TryDownloadAsync(_storage.Container(_storage.Results), BlobLayout.JobJson(jobId)))!.Value.ETag;

    [Fact]
    public async Task Purge_JobsByTheirEnd_DeletesInputsAfterAWeekResultsAfterAMonthAndNothingOfRecentOrRunningJobs()
    {
        await JobAsync("j-ancient", createdDaysAgo: 45, endedDaysAgo: 40);
        await JobAsync("j-old", createdDaysAgo: 11, endedDaysAgo: 10);
        await JobAsync("j-recent", createdDaysAgo: 2, endedDaysAgo: 1);
        // Started long before every other one and still running: retention counts from the end, which it has not reached.
        await JobAsync("j-running", createdDaysAgo: 100, endedDaysAgo: null);

        await RunAsync();

        Assert.Equal(["job.json"], await LeftAsync("j-ancient"));
        var ancient = await Storage().Documents.ReadAsync("j-ancient");
        Assert.Equal(JobState.Completed, ancient!.State);
        Assert.Null(ancient.Request);
        Assert.NotNull(ancient.ResultsDeleted);

        Assert.Equal(["job.json", "p0-j-old/final.png"], await LeftAsync("j-old"));
        var old = await Storage().Documents.ReadAsync("j-old");
        Assert.NotNull(old!.InputsDeleted);
        Assert.Null(old.ResultsDeleted);
        Assert.NotNull(old.Request);

        Assert.Equal(["uploads", "inbox", "work", "job.json", "p0-j-recent/final.png"], await LeftAsync("j-recent"));
        Assert.Equal(["uploads", "inbox", "work", "job.json", "p0-j-running/final.png"], await LeftAsync("j-running"));
        Assert.Null((await Storage().Documents.ReadAsync("j-running"))!.InputsDeleted);

        // The Durable history of the purged jobs and their pairs, nothing else.
        Assert.Equal(["j-ancient", "j-ancient-p0", "j-old", "j-old-p0"], _purgedInstances.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Purge_RunAgain_DeletesEachPartOnceAndLeavesJobJsonAlone()
    {
        await JobAsync("j-ancient", createdDaysAgo: 45, endedDaysAgo: 40);
        await JobAsync("j-old", createdDaysAgo: 11, endedDaysAgo: 10);
        await RunAsync();
        var etags = (await JobJsonETagAsync("j-ancient"), await JobJsonETagAsync("j-old"));
        var purged = _purgedInstances.Count;

        await RunAsync();

        // Nothing left to delete, so nothing is asked of the backend again and no job.json is written again (each write
        // would also leave a soft-deleted copy behind in Azure).
        Assert.Equal(purged, _purgedInstances.Count);
        Assert.Equal(etags, (await JobJsonETagAsync("j-ancient"), await JobJsonETagAsync("j-old")));
    }

    [Fact]
    public async Task Purge_ZeroDays_KeepsThatPart()
    {
        await JobAsync("j-ancient", createdDaysAgo: 400, endedDaysAgo: 365);

        await RunAsync(new RetentionOptions { InputDays = 7, ResultDays = 0 });
        Assert.Equal(["job.json", "p0-j-ancient/final.png"], await LeftAsync("j-ancient"));

        await JobAsync("j-kept", createdDaysAgo: 400, endedDaysAgo: 365);
        await RunAsync(new RetentionOptions { InputDays = 0, ResultDays = 0 });
        Assert.Equal(["uploads", "inbox", "work", "job.json", "p0-j-kept/final.png"], await LeftAsync("j-kept"));
    }
}
