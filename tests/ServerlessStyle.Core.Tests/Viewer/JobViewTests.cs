using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Viewer;

[Trait("Category", "Storage")]
public sealed class JobViewTests
{
    [Fact]
    public async Task Load_RunningJob_ListsPairsIterationsInNumericOrderAndLoss()
    {
        var job = await ViewerTestJob.CreateAsync();

        var view = await JobView.LoadAsync(job.Jobs, ViewerTestJob.JobId);

        Assert.NotNull(view);
        Assert.Equal("Running", view.State);
        Assert.Equal(ViewerTestJob.Network, view.Network);
        Assert.Equal(12, view.IterationsPlanned);
        Assert.Equal("files/job.json", view.JobJson);
        Assert.Null(view.ContactSheet);
        Assert.Equal(["p0-wave", "p1-the_scream"], view.Pairs.Select(p => p.PairId));

        var first = view.Pairs[0];
        Assert.Equal([0, 1, 2, 10], first.Iterations.Select(i => i.I));
        Assert.Equal("files/p0-wave/res_at_iteration_10.png", first.Iterations[^1].Url);
        Assert.Equal(ViewerTestJob.EvaluationsOf(4), first.Loss.Count);
        Assert.Equal(1e6, first.Loss[0].Loss);
        Assert.Equal(10, first.Loss[^1].Iteration);
        Assert.Equal(ViewerTestJob.SecondsPerEvaluation, first.SecondsPerEvaluation);
        Assert.Equal(new InputView($"uploads/{ViewerTestJob.JobId}/photo.png", $"files/inputs/uploads/{ViewerTestJob.JobId}/photo.png"), first.Content);
        Assert.Equal(["styles/wave.png"], first.Styles.Select(s => s.Blob));
        Assert.Null(first.Final);
        Assert.Equal("files/p0-wave/loss.csv", first.LossCsv);
        Assert.Equal("Running", first.State);

        Assert.Single(view.Pairs[1].Iterations);
        Assert.Equal(ViewerTestJob.EvaluationsOf(1), view.Pairs[1].Loss.Count);
    }

    [Fact]
    public async Task Load_CoarseToFinePair_ShowsTheLatestStagesImagesAndLoss()
    {
        var job = await ViewerTestJob.CreateAsync();
        var png = ViewerTestJob.Png(ViewerTestJob.ImageWidth, ViewerTestJob.ImageHeight, ViewerTestJob.IterationColor(0));
        foreach (var name in new[] { "stage-0-32/res_at_iteration_0.png", "stage-1-48/res_at_iteration_0.png", "stage-1-48/res_at_iteration_1.png", "stage-1-48/final.png" })
        {
            await job.Store.UploadAsync(job.Results, $"{ViewerTestJob.JobId}/p1-the_scream/{name}", png);
        }

        await job.Store.UploadAsync(job.Results, $"{ViewerTestJob.JobId}/p1-the_scream/stage-1-48/loss.csv",
            BinaryData.FromString($"{LossCsv.Header}\n1,0,1,2,3,6\n2,1,1,1,1,3\n"));

        var view = await JobView.LoadAsync(job.Jobs, ViewerTestJob.JobId);

        var pair = view!.Pairs[1];
        Assert.Equal([0, 1], pair.Iterations.Select(i => i.I));
        Assert.Equal("files/p1-the_scream/stage-1-48/res_at_iteration_1.png", pair.Iterations[^1].Url);
        Assert.Equal([6.0, 3.0], pair.Loss.Select(r => r.Loss));
        Assert.Equal("files/p1-the_scream/stage-1-48/final.png", pair.Final);
        Assert.Equal("files/p1-the_scream/stage-1-48/loss.csv", pair.LossCsv);
        Assert.Equal([0, 1, 2, 10], view.Pairs[0].Iterations.Select(i => i.I));
    }

    [Fact]
    public async Task Load_RunningTiledStage_ShowsItsTilesAndWhichFinishedTheCurrentIteration()
    {
        // p0-wave has images up to iteration 10, so iteration 11 is being computed: tiles 0 and 2 have its outcome,
        // tile 1 only iteration 10's.
        var job = await ViewerTestJob.CreateAsync();
        await job.Jobs.Work.WriteTileGridAsync(ViewerTestJob.JobId, "p0-wave", new TileGridDocument(32, 48, [new(0, 0, 32, 24), new(0, 16, 32, 24), new(0, 24, 32, 24)]));
        var work = job.Storage.Container(job.Storage.Work);
        foreach (var (tile, iteration) in new[] { (0, 11), (1, 10), (2, 11) })
        {
            await job.Store.UploadAsync(work, BlobLayout.ChunkOutcome(ViewerTestJob.JobId, BlobLayout.TilePair("p0-wave", tile), iteration), BinaryData.FromString("{}"));
        }

        var view = await JobView.LoadAsync(job.Jobs, ViewerTestJob.JobId);

        var tiles = view!.Pairs[0].Tiles!;
        Assert.Equal((11, 32, 48), (tiles.Iteration, tiles.Height, tiles.Width));
        Assert.Equal([true, false, true], tiles.Tiles.Select(t => t.Done));
        Assert.Equal(new TileView(0, 16, 32, 24, false), tiles.Tiles[1]);
        Assert.Null(view.Pairs[1].Tiles);
        Assert.Contains("\"tiles\":{\"iteration\":11", view.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_AfterSummary_TakesPairStateAndErrorFromTheSummary()
    {
        var job = await ViewerTestJob.CreateAsync();
        var name = BlobLayout.JobJson(ViewerTestJob.JobId);
        var running = JobDocument.Parse((await job.Store.TryDownloadAsync(job.Results, name))!.Value.Content.ToString());
        var summary = new JobSummary(ViewerTestJob.JobId, JobState.Failed, "1 of 2 pairs failed", [
            new PairSummary("p0-wave", JobState.Completed, new PairResult("p0-wave", "results/x/final.png", "results/x/loss.csv", 11, 33, 1.0), null),
            new PairSummary("p1-the_scream", JobState.Failed, null, "the network diverged"),
        ]);
        await job.Store.UploadAsync(job.Results, name, BinaryData.FromString(running.WithSummary(summary).ToJson()));

        var view = await JobView.LoadAsync(job.Jobs, ViewerTestJob.JobId);

        Assert.Equal(("Failed", "1 of 2 pairs failed"), (view!.State, view.Reason));
        Assert.Equal(("Completed", (string?)null), (view.Pairs[0].State, view.Pairs[0].Error));
        Assert.Equal(("Failed", "the network diverged"), (view.Pairs[1].State, view.Pairs[1].Error));
        // The summary's pairs do not name the inputs; the ended document keeps them beside each pair's result.
        Assert.Equal(["styles/the_scream.png"], view.Pairs[1].Styles.Select(s => s.Blob));
    }

    [Fact]
    public async Task Load_UnknownJob_ReturnsNull()
    {
        var store = new BlobStore(Storage.Azurite.CreateService());
        Assert.Null(await JobView.LoadAsync(Jobs(store, new StorageOptions { ContainerPrefix = "vnone-" }), "no-such-job"));
    }

    [Fact]
    public async Task Load_MalformedJobId_ThrowsInvalidJobPath()
    {
        var store = new BlobStore(Storage.Azurite.CreateService());
        var error = await Assert.ThrowsAsync<InvalidJobPathException>(() => JobView.LoadAsync(Jobs(store, new StorageOptions()), "../x"));
        Assert.Contains("'../x' is not a job id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToJson_DivergedLoss_WritesNaNInsteadOfFailing()
    {
        var view = new JobView("j", "Running", null, 1, "files/job.json", null, [
            new PairView("p0", "Running", null, null, [], [], [new LossRow(1, 0, double.NaN, 1, 1, double.NaN)], null, null, null)]);

        var json = JsonNode.Parse(view.ToJson())!;

        Assert.Equal("NaN", (string?)json["pairs"]![0]!["loss"]![0]!["loss"]);
    }

    [Fact]
    public async Task OpenFile_ResultAndNamedInput_StreamTheBlobWithItsType()
    {
        var job = await ViewerTestJob.CreateAsync();

        using var image = await JobFiles.OpenAsync(job.Jobs, ViewerTestJob.JobId, "p0-wave/res_at_iteration_1.png");
        using var style = await JobFiles.OpenAsync(job.Jobs, ViewerTestJob.JobId, "inputs/styles/the_scream.png");
        using var csv = await JobFiles.OpenAsync(job.Jobs, ViewerTestJob.JobId, "p1-the_scream/loss.csv");

        Assert.Equal("image/png", image!.ContentType);
        Assert.Equal(ViewerTestJob.Png(ViewerTestJob.ImageWidth, ViewerTestJob.ImageHeight, ViewerTestJob.IterationColor(1)).ToArray(), ReadAll(image.Content));
        Assert.Equal(ViewerTestJob.Png(30, 40, new(230, 90, 30)).ToArray(), ReadAll(style!.Content));
        Assert.StartsWith(LossCsv.Header, new StreamReader(csv!.Content).ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenFile_InputTheRequestDoesNotName_ReturnsNull()
    {
        var job = await ViewerTestJob.CreateAsync();
        await job.Store.UploadAsync(job.Storage.Container(job.Storage.Styles), "secret.png", BinaryData.FromString("x"));

        Assert.Null(await JobFiles.OpenAsync(job.Jobs, ViewerTestJob.JobId, "inputs/styles/secret.png"));
        Assert.Null(await JobFiles.OpenAsync(job.Jobs, ViewerTestJob.JobId, "p0-wave/missing.png"));
    }

    [Theory]
    [InlineData("../other-job/job.json")]
    [InlineData("p0-wave/../../other-job/job.json")]
    [InlineData("inputs/../../work/x")]
    [InlineData("/job.json")]
    [InlineData("p0-wave\\x.png")]
    [InlineData("p0 wave/x.png")]
    public async Task OpenFile_PathOutsideTheJob_ThrowsInvalidJobPath(string path)
    {
        var store = new BlobStore(Storage.Azurite.CreateService());

        var error = await Assert.ThrowsAsync<InvalidJobPathException>(() => JobFiles.OpenAsync(Jobs(store, new StorageOptions()), "some-job", path));

        Assert.Contains("is not a file of job some-job", error.Message, StringComparison.Ordinal);
    }

    private static JobStorage Jobs(BlobStore store, StorageOptions options) =>
        new(store, Microsoft.Extensions.Options.Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<JobStorage>.Instance);

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
