using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// One set of body limits: the routes', the worker's server (Kestrel, configured as Program.cs configures it), the
/// Functions host's (the Bicep's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT) and the documented ones agree, and an upload within
/// the documented limits is taken by a real Kestrel server carrying the start trigger.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BodyLimitTests
{
    private static readonly LimitsOptions Defaults = new();

    [Fact]
    public void Limits_WorkerHostAndDocs_AgreeWithTheOneDerivation()
    {
        var services = new ServiceCollection();
        services.AddOptions<LimitsOptions>();
        services.AddHttpLimits();
        var kestrel = services.BuildServiceProvider().GetRequiredService<IOptions<KestrelServerOptions>>().Value;

        // The Bicep sets no ServerlessStyle__Limits__* overrides; if it ever does, the host's limit must follow them.
        var bicep = AppSettingsTests.BicepEnvironment();
        Assert.DoesNotContain(bicep.Keys, k => k.StartsWith("ServerlessStyle__Limits__", StringComparison.Ordinal));
        var docs = File.ReadAllText(RepositoryFiles.Path(Path.Combine("docs", "workflow.md")));

        Assert.Equal(188_874_752, HttpLimits.MaxBodyBytes(Defaults));
        Assert.Equal(HttpLimits.MaxBodyBytes(Defaults), kestrel.Limits.MaxRequestBodySize);
        Assert.Equal(HttpLimits.HostBodyBytes(Defaults).ToString(CultureInfo.InvariantCulture), bicep["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"]);
        Assert.Contains(HttpLimits.MaxBodyBytes(Defaults).ToString("N0", CultureInfo.InvariantCulture), docs, StringComparison.Ordinal);
        Assert.Contains(HttpLimits.HostBodyBytes(Defaults).ToString("N0", CultureInfo.InvariantCulture), docs, StringComparison.Ordinal);
        Assert.Contains(HttpLimits.MaxJsonBytes.ToString("N0", CultureInfo.InvariantCulture), docs, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two noise PNGs of about 16 MB each, 32 MB in all: within 20 MiB per file and the body limit, over Kestrel's
    /// default of 30,000,000 bytes, which answered them with an empty 500.
    /// </summary>
    [Fact]
    public async Task Start_TwoFilesOf16MegabytesThroughKestrel_Answers202()
    {
        await using var server = await StartServerAsync();
        using var form = new MultipartFormDataContent();
        foreach (var (field, seed) in new[] { ("content", 1), ("style", 2) })
        {
            var part = new ByteArrayContent(NoisePng(seed));
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(part, field, $"{field}.png");
        }

        var body = await form.ReadAsByteArrayAsync();
        Assert.InRange(body.Length, 31_000_000, HttpLimits.MaxBodyBytes(Defaults));
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = form.Headers.ContentType;

        using var response = await server.Http.PostAsync("api/jobs", content);

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Start_ChunkedBodyOverKestrelsLimit_Answers413Json()
    {
        // Kestrel's own limit, met by a body that declares no length and whose bytes are all within the routes' checks
        // until the server stops reading: the 413 comes from Kestrel's BadHttpRequestException, answered as JSON.
        await using var server = await StartServerAsync(maxBody: 1_000_000);
        using var content = new StreamContent(new MemoryStream(new byte[1_500_000]));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/jobs") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("bytes", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static byte[] NoisePng(int seed)
    {
        // RGBA noise does not compress: 2000 x 2000 x 4 bytes is about 16 MB as PNG, at 4 Mpx (within the pixel limits).
        var random = new Random(seed);
        var pixels = new byte[2000 * 2000 * 4];
        random.NextBytes(pixels);
        using var image = Image.LoadPixelData<Rgba32>(pixels, 2000, 2000);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, new SixLabors.ImageSharp.Formats.Png.PngEncoder { CompressionLevel = SixLabors.ImageSharp.Formats.Png.PngCompressionLevel.BestSpeed });
        return stream.ToArray();
    }

    /// <summary>A Kestrel server configured as the worker is (AddHttpLimits), whose POST /api/jobs runs the start trigger.</summary>
    private static async Task<Server> StartServerAsync(long? maxBody = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOptions<LimitsOptions>();
        builder.Services.AddHttpLimits();
        if (maxBody is { } max)
        {
            builder.Services.PostConfigure<KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = max);
        }

        builder.Services.AddMvcCore();
        var app = builder.Build();
        var storage = new JobStorage(Azurite.CreateStore(), Options.Create(Azurite.IsolatedStorage("bl")), NullLogger<JobStorage>.Instance);
        var functions = new StyleJobFunctions(
            new JobIntake(storage, Options.Create(Defaults), Options.Create(new WorkflowOptions())), storage, Options.Create(Defaults), NullLogger<StyleJobFunctions>.Instance);
        var client = StubDurableClient.Create(new List<string>());
        app.MapPost("/api/jobs", async (HttpContext http) =>
        {
            var result = await functions.StyleJob_HttpStart(http.Request, client.Object, http.RequestAborted);
            await result.ExecuteResultAsync(new ActionContext(http, http.GetRouteData(), new ActionDescriptor()));
        });
        await app.StartAsync();
        return new Server(app, new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/"), Timeout = TimeSpan.FromMinutes(2) });
    }

    private sealed record Server(WebApplication App, HttpClient Http) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.DisposeAsync();
        }
    }
}
