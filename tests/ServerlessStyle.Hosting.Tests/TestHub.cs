using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>
/// A task hub and containers of one test's own on the test run's Azurite (scripts/with-azurite.sh): blob, queue and
/// table. Short leases and timeouts keep the tests quick; the hub is deleted at the end.
/// </summary>
internal sealed class TestHub : IAsyncDisposable
{
    public static readonly WorkflowSettings FastRetries = new(ChunksPerGeneration: 20, RetryAttempts: 2, RetryFirstIntervalSeconds: 0.05, RetryBackoffCoefficient: 1);

    public TestHub()
    {
        ConnectionString = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } connection
            ? connection
            : throw new InvalidOperationException("AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh.");
        var id = Guid.NewGuid().ToString("N")[..10];
        TaskHub = $"t{id}";
        Storage = new StorageOptions { ConnectionString = ConnectionString, ContainerPrefix = $"h{id}-" };
        Jobs = new JobStorage(BlobStore.FromConnectionString(ConnectionString), Options.Create(Storage), NullLogger<JobStorage>.Instance);
    }

    public string ConnectionString { get; }

    public string TaskHub { get; }

    public StorageOptions Storage { get; }

    public JobStorage Jobs { get; }

    public IConfiguration Configuration(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = ConnectionString,
            ["ServerlessStyle:Storage:ContainerPrefix"] = Storage.ContainerPrefix,
            ["ServerlessStyle:Engine:Network"] = "random-vgg19",
            ["ServerlessStyle:Engine:Provider"] = "cpu",
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
            ["ServerlessStyle:Durable:TaskHub"] = TaskHub,
            ["ServerlessStyle:Durable:LeaseInterval"] = "00:00:06",
            ["ServerlessStyle:Durable:LeaseRenewInterval"] = "00:00:02",
            ["ServerlessStyle:Durable:LeaseAcquireInterval"] = "00:00:02",
            ["ServerlessStyle:Durable:PartitionCount"] = "2",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

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

    public async ValueTask DisposeAsync()
    {
        var store = BlobStore.FromConnectionString(ConnectionString);
        foreach (var container in new[] { Storage.Uploads, Storage.Results, Storage.Work })
        {
            await store.DeleteContainerAsync(Storage.Container(container), CancellationToken.None);
        }

        // The hub's queues and tables: a host made only to delete it.
        await using var cleaner = LocalDurableHost.Connect(Configuration(("ServerlessStyle:Durable:DeleteTaskHubOnStop", "true")));
    }
}
