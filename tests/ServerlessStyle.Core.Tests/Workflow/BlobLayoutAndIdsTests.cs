using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

public sealed class BlobLayoutAndIdsTests
{
    [Fact]
    public void Paths_FollowTheBlobLayoutOfTheContracts()
    {
        Assert.Equal("j1/job.json", BlobLayout.JobJson("j1"));
        Assert.Equal("j1/p0-starry_night/res_at_iteration_9.png", BlobLayout.IterationImage("j1", "p0-starry_night", 9));
        Assert.Equal("j1/p0-starry_night/final.png", BlobLayout.FinalImage("j1", "p0-starry_night"));
        Assert.Equal("j1/p0-starry_night/loss.csv", BlobLayout.LossLog("j1", "p0-starry_night"));
        Assert.Equal("j1/p0-starry_night/targets.bin", BlobLayout.Targets("j1", "p0-starry_night"));
        Assert.Equal("j1/p0-starry_night/state-0007.bin", BlobLayout.State("j1", "p0-starry_night", 7));
        Assert.Equal("j1/p0-starry_night/state-12345.bin", BlobLayout.State("j1", "p0-starry_night", 12345));
    }

    [Theory]
    [InlineData(0, "starry_night", "p0-starry_night")]
    [InlineData(3, "The Scream (1893)", "p3-the_scream__1893")]
    [InlineData(1, "../../etc", "p1-etc")]
    [InlineData(2, "", "p2")]
    [InlineData(4, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "p4-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void PairId_AnyLabel_IsSafeForBlobNames(int index, string label, string expected) =>
        Assert.Equal(expected, JobIds.PairId(index, label));

    [Theory]
    [InlineData("../../secret.png", "secret.png")]
    [InlineData("C:\\photos\\my cat.jpg", "my_cat.jpg")]
    [InlineData("..", "file")]
    public void SafeFileName_UploadName_KeepsOnlyTheFileName(string name, string expected) =>
        Assert.Equal(expected, BlobLayout.SafeFileName(name));

    [Fact]
    public void JobPlan_EachMode_OnePairPerContentAndStyle()
    {
        var request = new JobRequest
        {
            Content = ["uploads/j/cat.jpg", "uploads/j/dog.jpg"],
            Styles = [new StyleInput("styles/starry_night.jpg"), new StyleInput("styles/the_scream.jpg")],
        };

        var plan = JobPlan.Create("j", request);

        Assert.Equal(
            ["p0-cat-starry_night", "p1-cat-the_scream", "p2-dog-starry_night", "p3-dog-the_scream"],
            plan.Pairs.Select(p => p.PairId));
        Assert.Equal([0, 1, 2, 3], plan.Pairs.Select(p => p.Index));
        Assert.Equal("uploads/j/dog.jpg", plan.Pairs[3].Content);
        Assert.Equal("styles/the_scream.jpg", Assert.Single(plan.Pairs[3].Styles).Blob);
    }

    [Fact]
    public void JobPlan_BlendMode_OnePairPerContentWithAllStyles()
    {
        var request = new JobRequest
        {
            Content = ["uploads/j/cat.jpg"],
            Styles = [new StyleInput("styles/a.jpg", 0.25), new StyleInput("styles/b.jpg", 0.75)],
            StyleMode = StyleMode.Blend,
        };

        var pair = Assert.Single(JobPlan.Create("j", request).Pairs);

        Assert.Equal("p0-cat", pair.PairId);
        Assert.Equal([0.25, 0.75], pair.Styles.Select(s => s.Weight));
    }

    [Fact]
    public void FromBlob_SameBlobAndETag_SameIdWhateverTheQuoting()
    {
        var a = JobIds.FromBlob("inbox", "starry_night/cat.jpg", "\"0x8DC1\"");
        var b = JobIds.FromBlob("inbox", "starry_night/cat.jpg", "0x8DC1");

        Assert.Equal(a, b);
        Assert.True(JobIds.IsValid(a));
    }

    [Theory]
    [InlineData("inbox", "starry_night/dog.jpg", "0x8DC1")]
    [InlineData("inbox", "starry_night/cat.jpg", "0x8DC2")]
    [InlineData("inbox2", "starry_night/cat.jpg", "0x8DC1")]
    public void FromBlob_AnyPartDiffers_DifferentId(string container, string name, string etag) =>
        Assert.NotEqual(JobIds.FromBlob("inbox", "starry_night/cat.jpg", "0x8DC1"), JobIds.FromBlob(container, name, etag));

    [Fact]
    public void FromIdempotencyKey_SameKey_SameIdDifferentKeyDifferentId()
    {
        Assert.Equal(JobIds.FromIdempotencyKey("order-42"), JobIds.FromIdempotencyKey("order-42"));
        Assert.NotEqual(JobIds.FromIdempotencyKey("order-42"), JobIds.FromIdempotencyKey("order-43"));
        Assert.NotEqual(JobIds.FromIdempotencyKey("order-42"), JobIds.FromBlob("inbox", "order-42", "x"));
    }

    [Fact]
    public void New_TwoCalls_DifferentValidIds()
    {
        var (a, b) = (JobIds.New(), JobIds.New());

        Assert.NotEqual(a, b);
        Assert.True(JobIds.IsValid(a));
    }

    [Fact]
    public void Pair_DerivedFromJobAndIndex()
    {
        Assert.Equal("job-1-p0", JobIds.Pair("job-1", 0));
        Assert.NotEqual(JobIds.Pair("job-1", 1), JobIds.Pair("job-2", 1));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("Job-1")]
    [InlineData("")]
    [InlineData("job/1")]
    public void IsValid_UnsafeId_False(string id) => Assert.False(JobIds.IsValid(id));

    [Fact]
    public void ResolveStyles_NamesInLibrary_PreferJpgAndFailOnMissing()
    {
        var library = new[] { "starry_night.png", "starry_night.jpg", "The_Scream.JPEG", "notes.txt" };

        Assert.Equal(["styles/starry_night.jpg", "styles/The_Scream.JPEG"], JobIntake.ResolveStyles(["starry_night", "the_scream"], library));
        var e = Assert.Throws<JobRequestException>(() => JobIntake.ResolveStyles(["notes"], library));
        Assert.Equal("styles", e.Field);
        Assert.Contains("'notes'", e.Message);
    }
}
