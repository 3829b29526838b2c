using System.Text;
using System.Text.Json;
using Microsoft.DurableTask;
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
/// The inbox queue trigger with the message Event Grid writes for an upload to the inbox container, against the drop's
/// real blob in Azurite (its ETag and metadata); the durable client is a stand-in that records what is scheduled.
/// </summary>
public sealed class InboxFunctionsTests : IAsyncLifetime
{
    /// <summary>
    /// A Microsoft.Storage.BlobCreated event in the Event Grid schema, as the Blob Storage event schema documents it
    /// (learn.microsoft.com/azure/event-grid/event-schema-blob-storage), with the container, blob name and ETag of the
    /// drop put in: the JSON Event Grid's storage queue destination writes as one message.
    /// </summary>
    private const string EventGridBlobCreated = """
        {
          "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account",
          "subject": "/blobServices/default/containers/CONTAINER/blobs/BLOB",
          "eventType": "Microsoft.Storage.BlobCreated",
          "eventTime": "2017-06-26T18:41:00.9584103Z",
          "id": "831e1650-001e-001b-66ab-eeb76e069631",
          "data": {
            "api": "PutBlockList",
            "clientRequestId": "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
            "requestId": "831e1650-001e-001b-66ab-eeb76e000000",
            "eTag": "ETAG",
            "contentType": "image/png",
            "contentLength": 524288,
            "blobType": "BlockBlob",
            "url": "https://my-storage-account.blob.core.windows.net/CONTAINER/BLOB",
            "sequencer": "00000000000004420000000000028963",
            "storageDiagnostics": {
              "batchId": "b68529f3-68cd-4744-baa4-3c0498ec19f0"
            }
          },
          "dataVersion": "",
          "metadataVersion": "1"
        }
        """;

    private readonly StorageOptions _options = Azurite.IsolatedStorage("inbox");
    private readonly BlobStore _store = Azurite.CreateStore();
    private readonly JobStorage _storage;
    private readonly InboxFunctions _functions;
    private readonly Mock<DurableTaskClient> _client = new("test");
    private readonly List<(TaskName Name, JobInput Input, string InstanceId)> _scheduled = [];
    private readonly HashSet<string> _existing = [];

    public InboxFunctionsTests()
    {
        _storage = new JobStorage(_store, Options.Create(_options), NullLogger<JobStorage>.Instance);
        var intake = new JobIntake(_storage, Options.Create(new LimitsOptions()), Options.Create(new WorkflowOptions()));
        _functions = new InboxFunctions(new InboxStarter(intake, _storage, NullLogger<InboxStarter>.Instance));
        _client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, bool _, CancellationToken _) => _existing.Contains(id) ? new OrchestrationMetadata(StyleOrchestrationNames.StyleJob, id) : null);
        _client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(
                It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((TaskName name, object? input, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                _scheduled.Add((name, (JobInput)input!, options!.InstanceId!));
                _existing.Add(options.InstanceId!);
                return options.InstanceId!;
            });
    }

    private string InboxContainer => _options.Container(_options.Inbox);

    public async Task InitializeAsync()
    {
        await _storage.Inputs.UploadAsync("styles/starry_night.jpg", BinaryData.FromString("style"));
        await _storage.Inputs.UploadAsync("styles/the_scream.png", BinaryData.FromString("style"));
    }

    public async Task DisposeAsync()
    {
        foreach (var container in new[] { _options.Inbox, _options.Styles, _options.Results })
        {
            await _store.DeleteContainerAsync(_options.Container(container));
        }
    }

    /// <summary>Uploads a drop and returns the message Event Grid would write for it.</summary>
    private async Task<(string Message, string ETag)> DropAsync(string blobName, IDictionary<string, string>? metadata = null)
    {
        var etag = await _storage.Inputs.UploadWithMetadataAsync($"inbox/{blobName}", BinaryData.FromString("photo"), metadata ?? new Dictionary<string, string>());
        return (Message(blobName, etag.ToString()), etag.ToString());
    }

    private string Message(string blobName, string etag) =>
        EventGridBlobCreated.Replace("CONTAINER", InboxContainer).Replace("BLOB", blobName).Replace("ETAG", etag.Trim('"'));

    private Task StartAsync(string message) => _functions.StyleJob_InboxStart(message, _client.Object, CancellationToken.None);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EventGridMessage_PlainOrBase64_SchedulesTheDropsJobWithResolvedStylesAndMetadata(bool base64)
    {
        var (message, etag) = await DropAsync("starry_night+the_scream/cat.jpg", new Dictionary<string, string> { ["iterations"] = "5" });

        await StartAsync(base64 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(message)) : message);

        var (name, input, id) = Assert.Single(_scheduled);
        Assert.Equal(StyleOrchestrationNames.StyleJob, name.Name);
        Assert.Equal(JobIds.FromBlob(InboxContainer, "starry_night+the_scream/cat.jpg", etag), id);
        Assert.Equal(["inbox/starry_night+the_scream/cat.jpg"], input.Request.Content);
        Assert.Equal(["styles/starry_night.jpg", "styles/the_scream.png"], input.Request.Styles.Select(s => s.Blob));
        Assert.Equal(5, input.Request.Iterations);
    }

    [Fact]
    public async Task SameEventDeliveredTwice_StartsOneJob()
    {
        var (message, _) = await DropAsync("starry_night/cat.jpg");

        await StartAsync(message);
        await StartAsync(message);

        Assert.Single(_scheduled);
    }

    [Fact]
    public async Task BlobOverwrittenBeforeItsEventArrives_OldEventStartsNothing_NewEventStartsTheNewUpload()
    {
        var (first, _) = await DropAsync("starry_night/cat.jpg");
        var (second, secondETag) = await DropAsync("starry_night/cat.jpg");

        await StartAsync(first);
        await StartAsync(second);

        var (_, _, id) = Assert.Single(_scheduled);
        Assert.Equal(JobIds.FromBlob(InboxContainer, "starry_night/cat.jpg", secondETag), id);
    }

    [Fact]
    public async Task MissingStyle_StartsNothingAndWritesFailedJobJson()
    {
        var (message, etag) = await DropAsync("the_scream_2/cat.jpg");

        await StartAsync(message);

        Assert.Empty(_scheduled);
        var job = await _storage.Documents.ReadAsync(JobIds.FromBlob(InboxContainer, "the_scream_2/cat.jpg", etag));
        Assert.NotNull(job);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("the_scream_2", job.Reason);
    }

    [Fact]
    public async Task EventOfAnotherContainer_IsIgnored()
    {
        await DropAsync("starry_night/cat.jpg");
        var other = EventGridBlobCreated.Replace("CONTAINER", "someone-elses-inbox").Replace("BLOB", "starry_night/cat.jpg").Replace("ETAG", "0x1");

        await StartAsync(other);

        Assert.Empty(_scheduled);
    }

    [Theory]
    [InlineData("not an event", "neither JSON nor base64")]
    [InlineData("""{ "eventType": "Microsoft.Storage.BlobCreated", "data": { "eTag": "0x1" } }""", "'subject'")]
    [InlineData("""{ "subject": "/blobServices/default/containers/inbox/blobs/a/b.jpg", "eventType": "Microsoft.Storage.BlobCreated", "data": { } }""", "'data.eTag'")]
    [InlineData("""{ "subject": "/something/else", "eventType": "Microsoft.Storage.BlobCreated", "data": { "eTag": "0x1" } }""", "'subject' is '/something/else'")]
    public async Task MessageThatIsNoStorageEvent_ThrowsInboxEventExceptionNamingWhatIsWrong(string message, string named)
    {
        // The queue trigger retries a message that throws and then moves it to the poison queue: this is the error it logs.
        var error = await Assert.ThrowsAsync<InboxEventException>(() => StartAsync(message));

        Assert.Contains(named, error.Message);
        Assert.Empty(_scheduled);
    }

    [Fact]
    public void ToMessage_IsReadBackByParse()
    {
        var message = InboxEvent.ToMessage("devstoreaccount1", "inbox", "starry_night/cat 1.jpg", "\"0x8DC1\"", 5, "image/png");

        Assert.Equal(new InboxEvent(InboxEvent.BlobCreated, "inbox", "starry_night/cat 1.jpg", "0x8DC1"), InboxEvent.Parse(message));
        using var json = JsonDocument.Parse(message);
        Assert.Equal("Microsoft.Storage.BlobCreated", json.RootElement.GetProperty("eventType").GetString());
    }
}
