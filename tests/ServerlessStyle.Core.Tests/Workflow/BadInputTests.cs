using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Bad inputs on real parts: each ends its job Failed with a reason that names the problem, writes nothing but that
/// job's job.json, and leaves another job's blobs exactly as they were.
/// </summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BadInputTests(EngineFixture fixture)
{
    private const string OtherJob = "job-other";

    /// <summary>A valid PNG signature and IHDR chunk (CRC included) claiming 50000x50000 RGB, then IEND: no pixels at all.</summary>
    private static byte[] HugePngHeader()
    {
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        void Chunk(string type, byte[] data)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
            png.AddRange(length);
            png.AddRange(typed);
            png.AddRange(crc);
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 50_000);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 50_000);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB; compression, filter and interlace stay 0
        Chunk("IHDR", ihdr);
        Chunk("IEND", []);
        return png.ToArray();
    }

    // The expected words are the loader's own, not the kind: the kind is also in the blob name, which the reason names.
    public static TheoryData<string, string> BadContents => new()
    {
        { "truncated", "header could not be read" },
        { "not-an-image", "not an image" },
        { "empty", "is empty (0 bytes)" },
        { "huge-header", "50000" },
    };

    private static byte[] Bytes(string kind) => kind switch
    {
        "truncated" => TestPaths.TruncatedJpeg(),
        "not-an-image" => Encoding.UTF8.GetBytes("name,value\ncat,1\n"),
        "empty" => [],
        "huge-header" => HugePngHeader(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Another job's blobs in the same containers: a bad job must leave them untouched.</summary>
    private static async Task SeedOtherJobAsync(Pipeline pipeline)
    {
        await pipeline.UploadAsync("results", BlobLayout.JobJson(OtherJob), Encoding.UTF8.GetBytes("""{ "state": "Running" }"""));
        await pipeline.UploadAsync("work", BlobLayout.State(OtherJob, "p0-x", 0), [1, 2, 3]);
    }

    /// <summary>The blobs after a bad job are the blobs before plus that job's job.json, every old one with its old ETag.</summary>
    private static async Task AssertOnlyJobJsonAddedAsync(Pipeline pipeline, IReadOnlyDictionary<string, string> before, string jobId)
    {
        var after = await pipeline.SnapshotAsync();
        Assert.Equal(before.Keys.Append($"{pipeline.Results}/{BlobLayout.JobJson(jobId)}").Order(StringComparer.Ordinal), after.Keys);
        Assert.All(before, blob => Assert.Equal(blob.Value, after[blob.Key]));
    }

    private static async Task<JsonElement> FailedJobJsonAsync(Pipeline pipeline, string jobId)
    {
        using var json = JsonDocument.Parse(await pipeline.ReadAsync(pipeline.Results, BlobLayout.JobJson(jobId)));
        Assert.Equal("Failed", json.RootElement.GetProperty("state").GetString());
        return json.RootElement.Clone();
    }

    [Theory]
    [MemberData(nameof(BadContents))]
    public async Task StyleJob_BadContentImage_FailsWithReasonAndTouchesNoOtherBlob(string kind, string expected)
    {
        var pipeline = new Pipeline(fixture.Engine);
        var content = await pipeline.UploadAsync("uploads", $"j1/{kind}.png", Bytes(kind));
        var style = await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        await SeedOtherJobAsync(pipeline);
        var input = pipeline.CreateIntake().FromJson(
            $$"""{ "content": "{{content}}", "styles": [ { "blob": "{{style}}" } ], "height": 32, "iterations": 1, "network": "random-vgg19" }""",
            idempotencyKey: null) with { Settings = Pipeline.FastRetries };
        var before = await pipeline.SnapshotAsync();

        var job = await pipeline.RunJobAsync(input);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, job.RuntimeStatus);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Failed, summary.State);
        var failed = await FailedJobJsonAsync(pipeline, input.JobId);
        var reason = failed.GetProperty("reason").GetString()!;
        Assert.Equal(summary.Reason, reason);

        // What was asked and when stay with the refused job (its page shows them): they were null before.
        Assert.Equal(content, failed.GetProperty("request").GetProperty("content")[0].GetString());
        Assert.Equal(32, failed.GetProperty("request").GetProperty("height").GetInt32());
        Assert.Equal(JsonValueKind.String, failed.GetProperty("created").ValueKind);
        var view = await ServerlessStyle.Core.Viewer.JobView.LoadAsync(pipeline.CreateStorage(), input.JobId);
        Assert.Equal(content, view!.Request!.Content[0]);
        Assert.NotNull(view.Created);
        Assert.StartsWith("content: ", reason);
        Assert.Contains(content, reason);
        Assert.Contains(expected, reason, StringComparison.OrdinalIgnoreCase);
        await AssertOnlyJobJsonAddedAsync(pipeline, before, input.JobId);
    }

    public static TheoryData<string, string, string, string> BadDrops => new()
    {
        // Inbox name, metadata key, metadata value, what the reason must name.
        { "the_kiss/cat.png", "", "", "the_kiss" },
        { "starry_night/cat.png", "optimizer", "{ \"kind\": ", "optimizer" },
        { "starry_night/cat.png", "iterations", "0", "iterations" },
        { "starry_night/cat.png", "height", "5000", "height" },
    };

    [Theory]
    [MemberData(nameof(BadDrops))]
    public async Task FromInboxBlob_RejectedDrop_WritesFailedJobJsonForItsIdAndTouchesNoOtherBlob(string name, string key, string value, string expected)
    {
        var pipeline = new Pipeline(fixture.Engine);
        await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        await pipeline.UploadSampleAsync("inbox", name, "content/chelsea.png");
        await SeedOtherJobAsync(pipeline);
        var properties = (await pipeline.Store.Service.GetBlobContainerClient(pipeline.Storage.Container("inbox")).GetBlobClient(name).GetPropertiesAsync()).Value;
        var metadata = key.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [key] = value };
        var before = await pipeline.SnapshotAsync();

        var error = await Assert.ThrowsAsync<JobRequestException>(
            () => pipeline.CreateIntake().FromInboxBlobAsync(name, properties.ETag.ToString(), metadata));

        var jobId = JobIds.FromBlob(pipeline.Storage.Container("inbox"), name, properties.ETag.ToString());
        var json = await FailedJobJsonAsync(pipeline, jobId);
        Assert.Equal(error.Message, json.GetProperty("reason").GetString());
        Assert.Contains(expected, error.Message);
        Assert.Equal($"inbox/{name}", json.GetProperty("source").GetString());
        await AssertOnlyJobJsonAddedAsync(pipeline, before, jobId);
    }

    [Fact]
    public async Task FromJson_InvalidJsonOrOutOfRangeOption_ThrowsNamingTheField()
    {
        var intake = new Pipeline(fixture.Engine).CreateIntake();

        var invalid = Assert.Throws<JobRequestException>(() => intake.FromJson("""{ "content": "uploads/a.png", """, null));
        var outOfRange = Assert.Throws<JobRequestException>(
            () => intake.FromJson("""{ "content": "uploads/a.png", "styles": [ { "blob": "styles/a.jpg" } ], "evaluationsPerIteration": 101 }""", null));

        Assert.Equal("$", invalid.Field);
        Assert.Contains("not valid JSON", invalid.Message);
        Assert.Equal("evaluationsPerIteration", outOfRange.Field);
        Assert.Contains("101", outOfRange.Message);
    }
}
