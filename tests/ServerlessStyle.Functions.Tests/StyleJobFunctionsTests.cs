using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
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

public sealed class StyleJobFunctionsTests
{
    private const string ValidJson = """{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/starry_night.jpg" } ], "iterations": 4 }""";

    private readonly Mock<DurableTaskClient> client = new("test");
    private readonly List<(TaskName Name, JobInput Input, string InstanceId)> scheduled = [];
    private readonly HashSet<string> existing = [];
    private readonly Dictionary<string, string> written = [];

    public StyleJobFunctionsTests()
    {
        client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, bool _, CancellationToken _) =>
                existing.Contains(id) ? new OrchestrationMetadata(StyleOrchestrationNames.StyleJob, id) : null);
        client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(
                It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((TaskName name, object? input, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                scheduled.Add((name, (JobInput)input!, options!.InstanceId!));
                existing.Add(options.InstanceId!);
                return options.InstanceId!;
            });
    }

    private StyleJobFunctions Functions(params string[] styleBlobs) => Functions(publicBaseUri: null, styleBlobs);

    private StyleJobFunctions Functions(Uri? publicBaseUri, params string[] styleBlobs)
    {
        var storage = new JobStorage(new BlobStore(StylesContainer(styleBlobs)), Options.Create(new StorageOptions()), NullLogger<JobStorage>.Instance);
        var intake = new JobIntake(storage, Options.Create(new LimitsOptions()), Options.Create(new WorkflowOptions { ChunksPerGeneration = 7 }));
        return new StyleJobFunctions(
            intake, storage, Options.Create(new LimitsOptions()), NullLogger<StyleJobFunctions>.Instance, Options.Create(new HttpApiOptions { PublicBaseUri = publicBaseUri }));
    }

    /// <summary>
    /// A blob service whose styles container lists <paramref name="names"/> (what a starter reads) and whose results
    /// container records uploads in <see cref="written"/>.
    /// </summary>
    private BlobServiceClient StylesContainer(string[] names)
    {
        var container = new Mock<BlobContainerClient>();
        container.Setup(c => c.ExistsAsync(It.IsAny<CancellationToken>())).ReturnsAsync(Response.FromValue(true, Mock.Of<Response>()));
        container.Setup(c => c.GetBlobsAsync(It.IsAny<BlobTraits>(), It.IsAny<BlobStates>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns(Azure.AsyncPageable<BlobItem>.FromPages(
                [Azure.Page<BlobItem>.FromValues(names.Select(n => BlobsModelFactory.BlobItem(name: n)).ToArray(), null, Mock.Of<Response>())]));
        var service = new Mock<BlobServiceClient>();
        service.Setup(s => s.GetBlobContainerClient("styles")).Returns(container.Object);
        var results = new Mock<BlobContainerClient>();
        results.Setup(c => c.GetBlobClient(It.IsAny<string>())).Returns((string name) =>
        {
            var blob = new Mock<BlobClient>();
            blob.Setup(b => b.DownloadContentAsync(It.IsAny<CancellationToken>()))
                .ThrowsAsync(new RequestFailedException(404, "The specified blob does not exist.", "BlobNotFound", null));
            blob.Setup(b => b.UploadAsync(It.IsAny<BinaryData>(), It.IsAny<BlobUploadOptions>(), It.IsAny<CancellationToken>()))
                .Callback((BinaryData data, BlobUploadOptions _, CancellationToken _) => written[name] = data.ToString())
                .ReturnsAsync(Response.FromValue(
                    BlobsModelFactory.BlobContentInfo(new ETag("0x2"), DateTimeOffset.UnixEpoch, null, null, null, null, 0), Mock.Of<Response>()));
            return blob.Object;
        });
        service.Setup(s => s.GetBlobContainerClient("results")).Returns(results.Object);
        return service.Object;
    }

    private static HttpRequest JsonRequest(string body, string? idempotencyKey = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("style.example");
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        if (idempotencyKey is not null)
        {
            context.Request.Headers[StyleJobFunctions.IdempotencyKeyHeader] = idempotencyKey;
        }

        return context.Request;
    }

    [Fact]
    public async Task HttpStart_ValidJson_Returns202WithStatusUrlAndSchedulesRequest()
    {
        var result = await Functions().StyleJob_HttpStart(JsonRequest(ValidJson), client.Object, CancellationToken.None);

        var accepted = Assert.IsType<AcceptedResult>(result);
        var (name, input, id) = Assert.Single(scheduled);
        Assert.Equal("StyleJob", name.Name);
        Assert.StartsWith("job-", id);
        Assert.Equal(["uploads/j1/photo.jpg"], input.Request.Content);
        Assert.Equal(4, input.Request.Iterations);
        Assert.Equal($"https://style.example/api/jobs/{id}", accepted.Location);
        using var body = JsonDocument.Parse(JsonSerializer.Serialize(accepted.Value));
        Assert.Equal($"results/{id}/", body.RootElement.GetProperty("results").GetString());
    }

    [Fact]
    public async Task HttpStart_BehindTlsEndingIngress_StatusUrlsUseTheConfiguredHttpsAddress()
    {
        // Container Apps' ingress ends TLS: the request reaches the app as http on its internal host name.
        var request = JsonRequest(ValidJson);
        request.Scheme = "http";
        request.Host = new HostString("func-abc--rev1.internal:80");
        var functions = Functions(new Uri("https://func-abc.happyhill-1234.swedencentral.azurecontainerapps.io/"));

        var accepted = Assert.IsType<AcceptedResult>(await functions.StyleJob_HttpStart(request, client.Object, CancellationToken.None));

        var id = Assert.Single(scheduled).InstanceId;
        Assert.Equal($"https://func-abc.happyhill-1234.swedencentral.azurecontainerapps.io/api/jobs/{id}", accepted.Location);
        using var body = JsonDocument.Parse(JsonSerializer.Serialize(accepted.Value));
        Assert.Equal(accepted.Location, body.RootElement.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(accepted.Location, body.RootElement.GetProperty("terminateDeleteUri").GetString());
    }

    [Fact]
    public async Task HttpStart_SameIdempotencyKeyTwice_UsesOneIdAndStartsOnce()
    {
        var functions = Functions();

        var first = Assert.IsType<AcceptedResult>(await functions.StyleJob_HttpStart(JsonRequest(ValidJson, "order-42"), client.Object, CancellationToken.None));
        var second = Assert.IsType<AcceptedResult>(await functions.StyleJob_HttpStart(JsonRequest(ValidJson, "order-42"), client.Object, CancellationToken.None));

        Assert.Equal(JobIds.FromIdempotencyKey("order-42"), Assert.Single(scheduled).InstanceId);
        Assert.Equal(first.Location, second.Location);
    }

    [Theory]
    [InlineData("""{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/a.jpg" } ], "height": 5 }""", "height")]
    [InlineData("""{ "content": "https://evil.example/x.jpg", "styles": [ { "blob": "styles/a.jpg" } ] }""", "content")]
    [InlineData("""{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/a.jpg" } ], "colour": 1 }""", "colour")]
    [InlineData("not json", "$")]
    public async Task HttpStart_BadRequest_Returns400NamingField(string body, string field)
    {
        var result = await Functions().StyleJob_HttpStart(JsonRequest(body), client.Object, CancellationToken.None);

        var bad = Assert.IsType<BadRequestObjectResult>(result);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(bad.Value));
        Assert.Equal(field, json.RootElement.GetProperty("field").GetString());
        Assert.Contains(field, json.RootElement.GetProperty("error").GetString());
        Assert.Empty(scheduled);
    }

    [Fact]
    public async Task Get_UnknownId_Returns404()
    {
        var result = await StyleJobFunctions.StyleJob_Get(new DefaultHttpContext().Request, "job-unknown", client.Object, CancellationToken.None);

        Assert.IsType<NotFoundObjectResult>(result);
    }

    [Fact]
    public async Task Cancel_UnknownId_Returns404()
    {
        var result = await Functions().StyleJob_Cancel(new DefaultHttpContext().Request, "job-unknown", client.Object, CancellationToken.None);

        Assert.IsType<NotFoundObjectResult>(result);
    }

    [Fact]
    public void FunctionNames_MatchTheNamesTheOrchestratorsCall()
    {
        var names = typeof(StyleJobFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Cast<Microsoft.Azure.Functions.Worker.FunctionAttribute>().FirstOrDefault()?.Name)
            .OfType<string>()
            .ToHashSet();

        Assert.Subset(names, new[]
        {
            StyleOrchestrationNames.StyleJob, StyleOrchestrationNames.StylePair, StyleActivityNames.ValidateJob, StyleActivityNames.PrepareTargets,
            StyleActivityNames.RunChunk, StyleActivityNames.RunTile, StyleActivityNames.BlendTiles, StyleActivityNames.Finalize, StyleActivityNames.WriteSummary,
        }.ToHashSet());
    }
}
