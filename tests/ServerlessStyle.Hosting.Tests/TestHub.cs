using Microsoft.Extensions.Configuration;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>
/// A <see cref="ScratchHub"/> of one test's own on the test run's Azurite (scripts/with-azurite.sh), with the seeded
/// network on the CPU, and short leases and timeouts that keep the tests quick; the hub is deleted at the end.
/// </summary>
internal sealed class TestHub : IAsyncDisposable
{
    public static readonly WorkflowSettings FastRetries = new(ChunksPerGeneration: 20, RetryAttempts: 2, RetryFirstIntervalSeconds: 0.05, RetryBackoffCoefficient: 1);

    private readonly ScratchHub _scratch = ScratchHub.Create(ScratchHub.AzuriteConnectionString(), "t", new Dictionary<string, string?>
    {
        ["ServerlessStyle:Engine:Network"] = "random-vgg19",
        ["ServerlessStyle:Engine:Provider"] = "cpu",
        ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        ["ServerlessStyle:Durable:LeaseInterval"] = "00:00:06",
        ["ServerlessStyle:Durable:LeaseRenewInterval"] = "00:00:02",
        ["ServerlessStyle:Durable:LeaseAcquireInterval"] = "00:00:02",
        ["ServerlessStyle:Durable:PartitionCount"] = "2",
    });

    public string ConnectionString => _scratch.ConnectionString;

    public string TaskHub => _scratch.TaskHub;

    public StorageOptions Storage => _scratch.Storage.Options;

    public JobStorage Jobs => _scratch.Storage;

    /// <summary>The hub's settings, with <paramref name="extra"/> on top for one host.</summary>
    public IConfiguration Configuration(params (string Key, string? Value)[] extra) => _scratch.ConfigurationWith(extra);

    /// <summary>Uploads a drawn content and style picture and returns a small job over them.</summary>
    public async Task<JobInput> UploadJobAsync(string jobId, int iterations, int evaluations = 3, int styles = 1)
    {
        await Jobs.Inputs.UploadAsync($"uploads/{jobId}/content.png", Png(0), default);
        var styleInputs = new List<StyleInput>();
        for (var s = 0; s < styles; s++)
        {
            await Jobs.Inputs.UploadAsync($"uploads/{jobId}/style{s}.png", Png(s + 1), default);
            styleInputs.Add(new StyleInput($"uploads/{jobId}/style{s}.png"));
        }

        var request = new JobRequest
        {
            Content = [$"uploads/{jobId}/content.png"],
            Styles = styleInputs,
            Height = 32,
            Iterations = iterations,
            EvaluationsPerIteration = evaluations,
            Network = NetworkSpec.RandomVgg19,
        };
        return new JobInput(jobId, request, FastRetries);
    }

    /// <summary>A 48x32 picture of stripes, different for each <paramref name="seed"/>.</summary>
    public static BinaryData Png(int seed)
    {
        using var image = new Image<Rgb24>(48, 32);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                image[x, y] = new Rgb24((byte)((x * (seed + 3) * 11) % 256), (byte)((y * (seed + 5) * 7) % 256), (byte)(((x + y) * (seed + 1) * 13) % 256));
            }
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return BinaryData.FromBytes(stream.ToArray());
    }

    public ValueTask DisposeAsync() => _scratch.DisposeAsync();
}
