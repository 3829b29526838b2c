using Microsoft.Playwright;
using ServerlessStyle.Cli.Viewer;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Viewer;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Tests.Viewer;

/// <summary>
/// Opens the job page in Debian's Chromium (headless, driven by Playwright) against the local server and a job stored
/// in Azurite. scripts/test.sh installs the chromium package when it is missing; Playwright's own browser download is
/// never used (it cannot reach the internet here).
/// </summary>
[Trait("Category", "Browser")]
[Trait("Category", "Integration")]
public sealed class JobViewBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Where the screenshot goes: the test's output folder (bin/{Configuration}/net10.0/Viewer/).</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "Viewer", "job-view.png");

    [Fact]
    public async Task Page_StoredJob_LoadsEveryImageChartsEveryEvaluationAndFollowsNewIterations()
    {
        var job = await ViewerTestJob.CreateAsync();
        await JobContactSheet.WriteAsync(job.Jobs, ViewerTestJob.JobId, cellSize: 64);
        await using var server = await JobViewServer.StartAsync(job.Jobs, port: 0);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        await page.GotoAsync(server.ViewUri(ViewerTestJob.JobId) + "?code=secret-key");
        await page.WaitForFunctionAsync(
            "() => document.querySelectorAll('section.pair').length === 2 && document.querySelectorAll('.grid figure').length === 5"
            + " && [...document.images].every(i => i.complete)", null, new() { Timeout = 20_000 });

        // Per pair: content, style, latest image, and one per iteration (4 + 1).
        var images = await page.EvaluateAsync<int[]>("() => [...document.images].map(i => i.naturalWidth)");
        Assert.Equal(3 + 4 + 3 + 1, images.Length);
        Assert.All(images, width => Assert.True(width > 0, "an image did not load"));

        var points = await page.EvaluateAsync<int[]>(
            "() => [...document.querySelectorAll('svg.chart')].map(s => Number(s.dataset.points))");
        var circles = await page.EvaluateAsync<int[]>(
            "() => [...document.querySelectorAll('svg.chart')].map(s => s.querySelectorAll('circle').length)");
        int[] evaluations = [ViewerTestJob.EvaluationsOf(4), ViewerTestJob.EvaluationsOf(1)];
        Assert.Equal(evaluations, points);
        Assert.Equal(evaluations, circles);
        Assert.True(await page.IsVisibleAsync("a[href*='contact-sheet.png']"));

        // The header says which network ran the job, with the start of its model's SHA-256.
        Assert.Equal($"network vgg19 · sha256 {ViewerTestJob.Network.Sha256![..12]} · ModelsContainer", await page.InnerTextAsync("#job-network"));

        // A new iteration appears without reloading: the page polls view.json.
        var pair = job.Plan.Pairs[1].PairId;
        await job.Store.UploadAsync(job.Results, BlobLayout.IterationImage(ViewerTestJob.JobId, pair, 1),
            ViewerTestJob.Png(ViewerTestJob.ImageWidth, ViewerTestJob.ImageHeight, ViewerTestJob.IterationColor(1)));
        await page.WaitForSelectorAsync($"#pair-{pair} .grid figure[data-i='1'] img", new() { Timeout = 10_000 });
        await page.WaitForFunctionAsync("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)", null, new() { Timeout = 10_000 });

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        await page.ScreenshotAsync(new() { Path = ScreenshotPath, FullPage = true });
        Assert.True(new FileInfo(ScreenshotPath).Length > 0);
        var sheet = await job.Store.TryDownloadAsync(job.Results, BlobLayout.ContactSheet(ViewerTestJob.JobId));
        await File.WriteAllBytesAsync(Path.Combine(Path.GetDirectoryName(ScreenshotPath)!, "contact-sheet.png"), sheet!.Value.Content.ToArray());

        // The Functions key in the page's URL goes with every request the page makes.
        var api = requests.Where(u => u.Contains("/api/jobs/", StringComparison.Ordinal)).ToList();
        Assert.Contains(api, u => u.Contains("/files/", StringComparison.Ordinal));
        Assert.All(api, u => Assert.Contains("code=secret-key", u, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Page_PosterSizedResults_ShowsThePreviewsAndOnlyLinksTheFullImages()
    {
        var job = await ViewerTestJob.CreateAsync();
        var pair = job.Plan.Pairs[0].PairId;
        var png = ViewerTestJob.Png(2500, 1600, new(40, 90, 160));
        await job.Jobs.Results.WriteImageAsync(BlobLayout.IterationImage(ViewerTestJob.JobId, pair, 11), png);
        await job.Jobs.Results.WriteFinalImageAsync(ViewerTestJob.JobId, pair, null, png);

        await using var server = await JobViewServer.StartAsync(job.Jobs, port: 0);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        await page.GotoAsync(server.ViewUri(ViewerTestJob.JobId).ToString());
        await page.WaitForFunctionAsync(
            "() => document.querySelectorAll('.grid figure').length === 6 && [...document.images].every(i => i.complete && i.naturalWidth > 0)",
            null, new() { Timeout = 20_000 });

        // The page drew the 1024-px previews, and never fetched a full 2500-px image.
        var widths = await page.EvaluateAsync<int[]>($"() => [...document.querySelectorAll('#pair-{pair} img')].map(i => i.naturalWidth)");
        Assert.Contains(1024, widths);
        Assert.DoesNotContain(2500, widths);
        Assert.Contains(requests, u => u.Contains("/files/p0-wave/final.preview.png", StringComparison.Ordinal));
        Assert.Contains(requests, u => u.Contains("/files/p0-wave/res_at_iteration_11.preview.png", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, u => u.Contains("/files/p0-wave/final.png", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, u => u.Contains("/files/p0-wave/res_at_iteration_11.png", StringComparison.Ordinal));

        // The full images stay one click away: the download link and the grid cell's link.
        Assert.True(await page.IsVisibleAsync($"#pair-{pair} .downloads a[href$='files/p0-wave/final.png']"));
        Assert.Equal(1, await page.Locator($"#pair-{pair} .grid a[href$='files/p0-wave/res_at_iteration_11.png']").CountAsync());
    }

    [Fact]
    public async Task Page_JobRefusedAtValidation_ShowsWhenItWasCreatedAndWhatWasAsked()
    {
        // As ValidateJob and WriteSummary leave a refused job: no pairs, its request, its creation time and the reason.
        const string Refused = "job-refused";
        var job = await ViewerTestJob.CreateAsync();
        var document = JobDocument.Refused(Refused, job.Request).WithSummary(new JobSummary(Refused, JobState.Failed, "content: uploads/x.png is empty (0 bytes)", []));
        await job.Store.UploadAsync(job.Results, BlobLayout.JobJson(Refused), BinaryData.FromString(document.ToJson()));
        await using var server = await JobViewServer.StartAsync(job.Jobs, port: 0);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync();

        await page.GotoAsync(server.ViewUri(Refused).ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('job-state').textContent === 'Failed'", null, new() { Timeout = 20_000 });

        Assert.StartsWith("created ", await page.InnerTextAsync("#job-created"), StringComparison.Ordinal);
        Assert.Equal(document.Created!.Value, DateTimeOffset.Parse(await page.GetAttributeAsync("#job-created", "title") ?? "", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(await page.IsVisibleAsync("#job-request"));
        Assert.Contains(job.Request.Content[0], await page.TextContentAsync("#job-request pre") ?? "", StringComparison.Ordinal);
        Assert.Contains("is empty", await page.InnerTextAsync("#job-reason"), StringComparison.Ordinal);
    }

    /// <summary>Debian's Chromium, headless; Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.</summary>
    private static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        if (!File.Exists(Chromium))
        {
            Assert.Fail($"{Chromium} is missing: the browser test needs Debian's chromium package (scripts/test.sh installs it when run as root: apt-get install -y chromium).");
        }

        return playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
    }

    [Fact]
    public async Task Server_PathOutsideTheJob_Answers400AndUnknownJob404()
    {
        var job = await ViewerTestJob.CreateAsync();
        await using var server = await JobViewServer.StartAsync(job.Jobs, port: 0);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var outside = await http.GetAsync($"api/jobs/{ViewerTestJob.JobId}/files/p0-wave/%2E%2E%2F%2E%2E%2Fother%2Fjob.json");
        var missing = await http.GetAsync("api/jobs/no-such-job/view.json");
        var json = await http.GetAsync($"api/jobs/{ViewerTestJob.JobId}/view.json");
        var page = await http.GetAsync($"api/jobs/{ViewerTestJob.JobId}/view");

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"pairId\":\"p0-wave\"", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
