using ServerlessStyle.Cli.Viewer;

namespace ServerlessStyle.Cli.Tests.Viewer;

public sealed class ViewerRouteTests
{
    [Theory]
    [InlineData("/api/jobs/j1/view", ViewerRouteKind.Page, "j1", null)]
    [InlineData("/api/jobs/j1/view.json", ViewerRouteKind.Model, "j1", null)]
    [InlineData("/api/jobs/j1/files/p0/res_at_iteration_3.png", ViewerRouteKind.File, "j1", "p0/res_at_iteration_3.png")]
    [InlineData("/api/jobs/j1/files/inputs/styles/starry%20night.jpg", ViewerRouteKind.File, "j1", "inputs/styles/starry night.jpg")]
    public void ParseRoute_ViewerPaths_AreRecognised(string path, ViewerRouteKind kind, string jobId, string? file) =>
        Assert.Equal(new ViewerRoute(kind, jobId, file), ViewerRoute.Parse(path));

    [Theory]
    [InlineData("/")]
    [InlineData("/api/jobs/j1")]
    [InlineData("/api/jobs/j1/files")]
    [InlineData("/api/jobs/j1/view/extra")]
    public void ParseRoute_OtherPaths_AreNull(string path) => Assert.Null(ViewerRoute.Parse(path));
}
