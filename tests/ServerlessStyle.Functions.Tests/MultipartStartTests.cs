using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// <c>POST /api/jobs</c> as multipart, on real storage (Azurite; the Durable client is the host's binding and mocked):
/// everything is checked while the body streams and before anything is stored, and a repeated key finds its job
/// without touching its inputs.
/// </summary>
[Trait("Category", "Storage")]
public sealed class MultipartStartTests
{
    private static readonly LimitsOptions Limits = new() { MaxStyles = 3, MaxInputBytes = 200_000 };

    private readonly StorageOptions _storage = Azurite.IsolatedStorage("mp");
    private readonly BlobStore _store = Azurite.CreateStore();

    private readonly HashSet<string> _started = [];
    private readonly Mock<DurableTaskClient> _client;

    public MultipartStartTests() => _client = StubDurableClient.Create(_started);

    private StyleJobFunctions Functions()
    {
        var storage = new JobStorage(_store, Options.Create(_storage), NullLogger<JobStorage>.Instance);
        var intake = new JobIntake(storage, Options.Create(Limits), Options.Create(new WorkflowOptions()));
        return new StyleJobFunctions(intake, storage, Options.Create(Limits), NullLogger<StyleJobFunctions>.Instance);
    }

    private static byte[] Png(int width = 30, int height = 20)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(120, 60, 200));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>A multipart request as a client sends it: (field, file name, bytes) parts and an optional key.</summary>
    private static async Task<HttpRequest> MultipartAsync(string? key, params (string Field, string? FileName, byte[] Bytes)[] parts)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (field, fileName, bytes) in parts)
        {
            var part = new ByteArrayContent(bytes);
            if (fileName is null)
            {
                form.Add(part, field);
            }
            else
            {
                part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(part, field, fileName);
            }
        }

        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = form.Headers.ContentType!.ToString();
        context.Request.Body = new MemoryStream(await form.ReadAsByteArrayAsync());
        if (key is not null)
        {
            context.Request.Headers[StyleJobFunctions.IdempotencyKeyHeader] = key;
        }

        return context.Request;
    }

    private async Task<IReadOnlyList<string>> UploadsAsync() => await _store.ListAsync(_storage.Container("uploads"));

    private static string ErrorOf(IActionResult result) =>
        System.Text.Json.JsonSerializer.Serialize(Assert.IsType<BadRequestObjectResult>(result).Value);

    [Fact]
    public async Task Start_ValidUpload_StoresTheImagesAndStartsTheJob()
    {
        var result = await Functions().StyleJob_HttpStart(
            await MultipartAsync("k-valid", ("content", "cat.png", Png()), ("style", "wave.png", Png()), ("request", null, "{\"height\": 32}"u8.ToArray())),
            _client.Object, CancellationToken.None);

        Assert.IsType<AcceptedResult>(result);
        var jobId = JobIds.FromIdempotencyKey("k-valid");
        Assert.Contains(jobId, _started);
        Assert.Equal([$"{jobId}/content-cat.png", $"{jobId}/style0-wave.png"], (await UploadsAsync()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Start_MoreStyleFilesThanAllowed_RefusesAndStoresNothing()
    {
        var styles = Enumerable.Range(0, Limits.MaxStyles + 1).Select(i => ("style", (string?)$"s{i}.png", Png())).ToArray();

        var result = await Functions().StyleJob_HttpStart(await MultipartAsync(null, [("content", "cat.png", Png()), .. styles]), _client.Object, CancellationToken.None);

        Assert.Contains("more than 3 style files", ErrorOf(result), StringComparison.Ordinal);
        Assert.Empty(await UploadsAsync());
        Assert.Empty(_started);
    }

    [Fact]
    public async Task Start_AFileOverTheByteLimit_RefusesAndStoresNothing()
    {
        var result = await Functions().StyleJob_HttpStart(
            await MultipartAsync(null, ("content", "cat.png", Png()), ("style", "big.png", new byte[Limits.MaxInputBytes + 1])), _client.Object, CancellationToken.None);

        Assert.Contains("styles[0]", ErrorOf(result), StringComparison.Ordinal);
        Assert.Empty(await UploadsAsync());
    }

    [Fact]
    public async Task Start_AStyleThatIsNotAnImage_RefusesNamingItAndStoresNothing()
    {
        var result = await Functions().StyleJob_HttpStart(
            await MultipartAsync(null, ("content", "cat.png", Png()), ("style", "notes.png", "just text"u8.ToArray())), _client.Object, CancellationToken.None);

        Assert.Contains("notes.png", ErrorOf(result), StringComparison.Ordinal);
        Assert.Empty(await UploadsAsync());
    }

    [Fact]
    public async Task Start_AnExtremeAspectRatio_RefusesBeforeStoring()
    {
        var result = await Functions().StyleJob_HttpStart(
            await MultipartAsync(null, ("content", "strip.png", Png(4000, 4)), ("style", "wave.png", Png())), _client.Object, CancellationToken.None);

        Assert.Contains("aspect ratio", ErrorOf(result), StringComparison.Ordinal);
        Assert.Empty(await UploadsAsync());
    }

    [Fact]
    public async Task Start_RepeatedKeyOfARunningJob_ReturnsItAndLeavesItsInputsUntouched()
    {
        var functions = Functions();
        await functions.StyleJob_HttpStart(await MultipartAsync("k-twice", ("content", "cat.png", Png()), ("style", "wave.png", Png())), _client.Object, CancellationToken.None);
        var before = await SnapshotAsync();

        // Different bytes under the same names, and a body that fails the test if anything reads it.
        var again = await MultipartAsync("k-twice", ("content", "cat.png", Png(40, 40)), ("style", "wave.png", Png(50, 10)));
        again.Body = new UnreadableStream();
        var result = await functions.StyleJob_HttpStart(again, _client.Object, CancellationToken.None);

        Assert.Contains("alreadyExisted = True", Assert.IsType<AcceptedResult>(result).Value!.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
        Assert.Single(_started);
    }

    [Fact]
    public async Task Upload_ANameThatExists_KeepsTheStoredBlob()
    {
        // An earlier attempt with the same key stored its inputs and failed before its job started: they are kept.
        var name = $"{JobIds.FromIdempotencyKey("k-retry")}/content-cat.png";
        await _store.EnsureContainerAsync(_storage.Container("uploads"));
        await _store.UploadAsync(_storage.Container("uploads"), name, BinaryData.FromBytes(Png(31, 21)));
        var before = await SnapshotAsync();

        await Functions().StyleJob_HttpStart(await MultipartAsync("k-retry", ("content", "cat.png", Png()), ("style", "wave.png", Png())), _client.Object, CancellationToken.None);

        Assert.Equal(before[name], (await SnapshotAsync())[name]);
    }

    private async Task<Dictionary<string, string>> SnapshotAsync()
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in await UploadsAsync())
        {
            snapshot[name] = (await _store.TryDownloadAsync(_storage.Container("uploads"), name))!.Value.ETag.ToString();
        }

        return snapshot;
    }
}
