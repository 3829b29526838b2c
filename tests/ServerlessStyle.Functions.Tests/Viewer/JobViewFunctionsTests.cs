using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Functions.Tests.Viewer;

/// <summary>The viewer's HTTP functions called directly with DefaultHttpContext requests, over a job stored in Azurite.</summary>
[Trait("Category", "Storage")]
public sealed class JobViewFunctionsTests
{
    private const string JobId = "job-functions-view";
    private const string PairId = "p0-wave";

    private readonly BlobStore _store = Azurite.CreateStore();

    private readonly StorageOptions _storage = Azurite.IsolatedStorage("f");

    private readonly byte[] _image = Png(24, 16);

    [Fact]
    public void Page_AnyJob_ReturnsTheSelfContainedHtml()
    {
        var result = Assert.IsType<ContentResult>(JobViewFunctions.JobView_Page(Get($"/api/jobs/{JobId}/view?code=k"), JobId));

        Assert.Equal(200, result.StatusCode);
        Assert.StartsWith("text/html", result.ContentType, StringComparison.Ordinal);
        Assert.Contains("view.json", result.Content, StringComparison.Ordinal);
        // Self-contained: no script or stylesheet from elsewhere.
        Assert.DoesNotContain("src=\"http", result.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"http", result.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_StoredJob_ReturnsTheViewAsJson()
    {
        await StoreJobAsync();

        var result = Assert.IsType<ContentResult>(await Functions().JobView_Model(Get($"/api/jobs/{JobId}/view.json"), JobId, CancellationToken.None));

        Assert.Equal(200, result.StatusCode);
        Assert.StartsWith("application/json", result.ContentType, StringComparison.Ordinal);
        var json = JsonNode.Parse(result.Content!)!;
        Assert.Equal(JobId, (string?)json["jobId"]);
        var pair = json["pairs"]![0]!;
        Assert.Equal(PairId, (string?)pair["pairId"]);
        Assert.Equal($"files/{PairId}/res_at_iteration_0.png", (string?)pair["iterations"]![0]!["url"]);
        Assert.Equal(2, pair["loss"]!.AsArray().Count);
    }

    [Fact]
    public async Task Model_UnknownJob_Returns404AndMalformedId400()
    {
        var functions = Functions();

        Assert.IsType<NotFoundObjectResult>(await functions.JobView_Model(Get("/api/jobs/nope/view.json"), "nope", CancellationToken.None));
        Assert.IsType<BadRequestObjectResult>(await functions.JobView_Model(Get("/api/jobs/x/view.json"), "Not_An_Id", CancellationToken.None));
    }

    [Fact]
    public async Task File_IterationImage_StreamsTheBlobAsPng()
    {
        await StoreJobAsync();

        var result = Assert.IsType<FileStreamResult>(await Functions().JobView_File(
            Get($"/api/jobs/{JobId}/files/{PairId}/res_at_iteration_0.png"), JobId, $"{PairId}/res_at_iteration_0.png", CancellationToken.None));

        Assert.Equal("image/png", result.ContentType);
        using var buffer = new MemoryStream();
        await result.FileStream.CopyToAsync(buffer);
        Assert.Equal(_image, buffer.ToArray());
    }

    [Theory]
    [InlineData("../other-job/job.json")]
    [InlineData("p0-wave/../../other-job/job.json")]
    [InlineData("inputs/../work/x")]
    public async Task File_PathOutsideTheJob_Returns400(string path)
    {
        await StoreJobAsync();

        var result = await Functions().JobView_File(Get($"/api/jobs/{JobId}/files/x"), JobId, path, CancellationToken.None);

        var bad = Assert.IsType<BadRequestObjectResult>(result);
        Assert.Equal(400, bad.StatusCode);
    }

    [Fact]
    public async Task File_MissingOrNotAnInputOfTheJob_Returns404()
    {
        await StoreJobAsync();
        await _store.EnsureContainerAsync(_storage.Container(_storage.Styles));
        await _store.UploadAsync(_storage.Container(_storage.Styles), "other.png", BinaryData.FromBytes(_image));
        var functions = Functions();

        Assert.IsType<NotFoundObjectResult>(await functions.JobView_File(Get("/"), JobId, $"{PairId}/final.png", CancellationToken.None));
        Assert.IsType<NotFoundObjectResult>(await functions.JobView_File(Get("/"), JobId, "inputs/styles/other.png", CancellationToken.None));
    }

    private JobViewFunctions Functions() => new(new JobStorage(_store, Options.Create(_storage), NullLogger<JobStorage>.Instance));

    private static HttpRequest Get(string pathAndQuery)
    {
        var context = new DefaultHttpContext();
        var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        context.Request.Method = "GET";
        context.Request.Path = query < 0 ? pathAndQuery : pathAndQuery[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(pathAndQuery[query..]);
        return context.Request;
    }

    private async Task StoreJobAsync()
    {
        var results = _storage.Container(_storage.Results);
        await _store.EnsureContainerAsync(results);
        var request = new JobRequest { Content = [$"uploads/{JobId}/photo.png"], Styles = [new StyleInput("styles/wave.png")] };
        var job = JobDocument.Submitted(JobId, request).Running(request, JobPlan.Create(JobId, request));
        await _store.UploadAsync(results, BlobLayout.JobJson(JobId), BinaryData.FromString(job.ToJson()));
        await _store.UploadAsync(results, BlobLayout.IterationImage(JobId, PairId, 0), BinaryData.FromBytes(_image));
        await _store.UploadAsync(results, BlobLayout.LossLog(JobId, PairId), BinaryData.FromString(
            LossCsv.Header + "\n1,0,1.5,2.5,0.5,4.5\n2,0,1.25,2,0.25,3.5\n"));
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(90, 140, 200));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
