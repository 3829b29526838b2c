using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Tests.Jobs;

public sealed class JobSizesTests
{
    private static readonly LimitsOptions Limits = new();

    private static JobRequest Request(int height = 224, int iterations = 10, int evaluations = 20, int styles = 1) => new()
    {
        Content = ["uploads/j/photo.png"],
        Styles = [.. Enumerable.Range(0, styles).Select(i => new StyleInput($"styles/s{i}.jpg"))],
        Height = height,
        Iterations = iterations,
        EvaluationsPerIteration = evaluations,
    };

    [Fact]
    public void Check_OrdinaryPhoto_ReturnsTheOutputPixels()
    {
        // 451x300 at height 224: width int(451 * 224 / 300) = 336.
        Assert.Equal(224L * 336, JobSizes.Check(Request(), [(451, 300)], Limits));
    }

    [Fact]
    public void Check_StripOf4000By4_ThrowsNamingTheAspectRatio()
    {
        // The finding: a 4000x4 PNG at height 48 became a 48x48000 job; at 1024 its pixels overflowed an int.
        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(Request(height: 48), [(4000, 4)], Limits));

        Assert.Equal("content", e.Field);
        Assert.Contains("4000x4", e.Message, StringComparison.Ordinal);
        Assert.Contains("1000:1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WideButAllowedAspect_OverThePixelLimit_ThrowsNamingTheOutputSize()
    {
        // 6:1 is allowed, but at height 1024 that is 1024x6144 = 6.3 Mpx, over the 4.2 Mpx default.
        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(Request(height: 1024), [(6000, 1000)], Limits));

        Assert.Contains("6144x1024", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_LargeStyleScale_ThrowsOnTheStyleImagesPixels()
    {
        var request = Request(height: 1024) with { StyleScale = 4 };

        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(request, [(1000, 1000)], Limits));

        Assert.Equal("styleScale", e.Field);
    }

    [Fact]
    public void Check_OverTheWorkBudget_ThrowsNamingBothNumbers()
    {
        // 8 styles x 1000 iterations x 100 evaluations x 1 Mpx = 8e11 pixel-evaluations, over the 2e11 default.
        var e = Assert.Throws<JobRequestException>(() => JobSizes.Check(Request(height: 1000, iterations: 1000, evaluations: 100, styles: 8), [(1000, 1000)], Limits));

        Assert.Equal("iterations", e.Field);
        Assert.Contains("8e11", e.Message, StringComparison.Ordinal);
        Assert.Contains("2e11", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Stages_CountEveryStageAndReturnTheLargest()
    {
        var request = Request() with { Scales = [112, 224], StageIterations = [5, 5] };

        Assert.Equal(224L * 224, JobSizes.Check(request, [(500, 500)], Limits));
        var tight = new LimitsOptions { MaxJobPixelEvaluations = (112.0 * 112 * 5 * 20) + (224.0 * 224 * 5 * 20) - 1 };
        Assert.Throws<JobRequestException>(() => JobSizes.Check(request, [(500, 500)], tight));
    }
}
