using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>What a listing of a job's results holds, by what each file is, with no path cut out of a string by the caller.</summary>
public sealed class ResultFilesTests
{
    [Fact]
    public void Pair_StagedPair_GivesTheLatestStagesImagesInIterationOrderAndThePairsFinalImage()
    {
        string[] names =
        [
            "j/contact-sheet.png", "j/job.json",
            "j/p0-a/final.png",
            "j/p0-a/stage-0-32/final.png", "j/p0-a/stage-0-32/loss.csv", "j/p0-a/stage-0-32/res_at_iteration_0.png",
            "j/p0-a/stage-1-48/loss.csv", "j/p0-a/stage-1-48/res_at_iteration_10.png", "j/p0-a/stage-1-48/res_at_iteration_2.png",
        ];
        var files = new JobResultFiles("j", names);

        var pair = files.Pair("p0-a");

        Assert.Equal("p0-a/stage-1-48", pair.Folder);
        Assert.Equal([(2, "p0-a/stage-1-48/res_at_iteration_2.png"), (10, "p0-a/stage-1-48/res_at_iteration_10.png")], pair.Iterations.Select(i => (i.Iteration, i.Image.PathInJob)));
        Assert.Equal("j/p0-a/stage-1-48/loss.csv", pair.LossLog?.Name);
        // The latest stage has no final image yet: the pair's own final.png is the last stage's, so not this one's.
        Assert.Null(pair.FinalImage);
        Assert.Equal(("job.json", "contact-sheet.png"), (files.JobJson.PathInJob, files.ContactSheet?.PathInJob));
        Assert.Equal(names.Length, files.All.Count);
    }

    [Fact]
    public void Pair_SingleStagePairBeforeItsFirstImage_HasNoFiles()
    {
        var pair = new JobResultFiles("j", ["j/job.json"]).Pair("p0-a");

        Assert.Equal(("p0-a", 0, null, null), (pair.Folder, pair.Iterations.Count, pair.FinalImage, pair.LossLog));
        Assert.Null(new JobResultFiles("j", ["j/job.json"]).ContactSheet);
    }

    [Fact]
    public void FromReference_ResultOfTheJob_NamesTheBlobInTheContainer()
    {
        var results = new ResultStore(BlobStore.FromConnectionString("UseDevelopmentStorage=true"), new StorageOptions { ContainerPrefix = "x-" });

        var file = results.FromReference("j", "results/j/p0-a/final.png");

        Assert.Equal(("j/p0-a/final.png", "p0-a/final.png"), (file.Name, file.PathInJob));
    }

    [Theory]
    [InlineData("results/k/p0-a/final.png")]
    [InlineData("work/j/p0-a/final.png")]
    [InlineData("results/j/")]
    [InlineData("j/p0-a/final.png")]
    public void FromReference_NotAResultOfTheJob_ThrowsNamingTheReferenceAndTheExpectedStart(string reference)
    {
        var results = new ResultStore(BlobStore.FromConnectionString("UseDevelopmentStorage=true"), new StorageOptions());

        var e = Assert.Throws<ArgumentException>(() => results.FromReference("j", reference));

        Assert.Contains($"'{reference}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'results/j/'", e.Message, StringComparison.Ordinal);
    }
}
