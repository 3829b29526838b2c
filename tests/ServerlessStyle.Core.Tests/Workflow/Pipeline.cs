using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// One engine for every end-to-end test: loading the VGG19-shaped network and building its ONNX sessions is the
/// expensive part, and the production host also keeps one engine per process.
/// </summary>
public sealed class EngineFixture : IDisposable
{
    public static readonly LimitsOptions Limits = new() { AllowTestNetworks = true };

    public StyleEngine Engine { get; } = new(
        Options.Create(new EngineOptions { Network = "random-vgg19", Provider = "cpu" }),
        Options.Create(Limits),
        NullLogger<StyleEngine>.Instance,
        NullLogger<Core.Evaluation.StyleEvaluator>.Instance,
        new NetworkResolver(new Core.Networks.ModelStore(Core.Networks.ModelStore.DefaultFolder)));

    private readonly Lock _lock = new();
    private Task<JobRun>? _uninterrupted;

    /// <summary>The uninterrupted standard job, run by the first test that asks and shared by the others (it costs seconds).</summary>
    public Task<JobRun> UninterruptedAsync(Func<Task<JobRun>> run)
    {
        lock (_lock)
        {
            return _uninterrupted ??= run();
        }
    }

    public void Dispose() => Engine.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "Style engine";
}

/// <summary>A finished job and the pipeline (containers) it ran in.</summary>
public sealed record JobRun(Pipeline Pipeline, JobInput Input, OrchestrationMetadata Job);

/// <summary>
/// The real pipeline of one test: the StyleJob and StylePair orchestrators on the product's durable engine (<see cref="TestTaskHub"/>), the real
/// <see cref="StyleWork"/> over Azurite, in containers of its own (a unique prefix), so tests never see each other's blobs.
/// </summary>
public sealed class Pipeline
{
    // Short retry intervals keep the tests fast; three attempts as in production.
    public static readonly WorkflowSettings FastRetries = new(ChunksPerGeneration: 20, RetryAttempts: 3, RetryFirstIntervalSeconds: 0.05, RetryBackoffCoefficient: 1);

    // Generous: a whole job takes seconds; a hang should fail rather than block the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly StyleEngine _engine;

    public Pipeline(StyleEngine engine)
    {
        _engine = engine;
        Storage = new StorageOptions { ContainerPrefix = $"e2e{Guid.NewGuid():N}"[..15] + "-" };
        Store = new BlobStore(Azurite.CreateService());
    }

    public StorageOptions Storage { get; }

    public BlobStore Store { get; }

    public string Results => Storage.Container(Storage.Results);

    public string Work => Storage.Container(Storage.Work);

    /// <summary>
    /// A worker's work with nothing in memory (its own storage layer, checkpoints, targets and input images), inside the
    /// decorators every host runs it through (<see cref="StyleWorkStack"/>).
    /// </summary>
    public IStyleWork CreateWork(IInputImageSource? images = null) => CreateWork(out _, images);

    /// <summary>As <see cref="CreateWork(IInputImageSource?)"/>; <paramref name="bare"/> is the <see cref="StyleWork"/> inside (its checkpoints).</summary>
    public IStyleWork CreateWork(out StyleWork bare, IInputImageSource? images = null)
    {
        var storage = CreateStorage();
        var workflow = Options.Create(new WorkflowOptions());
        bare = new StyleWork(
            storage, new InputImages(images ?? new StorageInputImageSource(storage), Options.Create(EngineFixture.Limits)), _engine,
            Options.Create(EngineFixture.Limits), workflow, NullLogger<StyleWork>.Instance);
        return StyleWorkStack.Wrap(bare, storage, workflow, NullLogger<GuardedStyleWork>.Instance);
    }

    /// <summary>The storage layer over this pipeline's containers.</summary>
    public JobStorage CreateStorage() => new(Store, Options.Create(Storage), NullLogger<JobStorage>.Instance);

    public JobIntake CreateIntake() => new(CreateStorage(), Options.Create(EngineFixture.Limits), Options.Create(new WorkflowOptions()));

    /// <summary>Uploads bytes (a sample image from samples/, or any) to a logical container such as "uploads" or "styles".</summary>
    public async Task<string> UploadAsync(string logicalContainer, string name, byte[] bytes)
    {
        var container = Storage.Container(logicalContainer);
        await Store.EnsureContainerAsync(container);
        await Store.UploadAsync(container, name, BinaryData.FromBytes(bytes));
        return $"{logicalContainer}/{name}";
    }

    public Task<string> UploadSampleAsync(string logicalContainer, string name, string sample) =>
        UploadAsync(logicalContainer, name, File.ReadAllBytes(TestPaths.Sample(sample)));

    /// <summary>
    /// Runs a StyleJob to its end; <paramref name="decorate"/> wraps the real work (fault injection, counting) and may
    /// ask this pipeline for another <see cref="StyleWork"/>, a second worker with nothing in memory.
    /// </summary>
    public async Task<OrchestrationMetadata> RunJobAsync(JobInput input, Func<Pipeline, IStyleWork, IStyleWork>? decorate = null)
    {
        IStyleWork work = CreateWork();
        work = decorate?.Invoke(this, work) ?? work;
        using var cancel = new CancellationTokenSource(Timeout);
        await using var host = await TestTaskHub.StartAsync(work, cancel.Token);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(
            StyleOrchestrationNames.StyleJob, input, new Microsoft.DurableTask.StartOrchestrationOptions(input.JobId), cancel.Token);
        return await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cancel.Token);
    }

    /// <summary>Every blob under this test's prefix with its ETag: "container/name" -> ETag.</summary>
    public async Task<IReadOnlyDictionary<string, string>> SnapshotAsync()
    {
        var blobs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var container in Store.Service.GetBlobContainersAsync(prefix: Storage.ContainerPrefix))
        {
            await foreach (var blob in Store.Service.GetBlobContainerClient(container.Name).GetBlobsAsync())
            {
                blobs[$"{container.Name}/{blob.Name}"] = blob.Properties.ETag!.Value.ToString();
            }
        }

        return blobs;
    }

    public async Task<byte[]> ReadAsync(string container, string name) =>
        (await Store.TryDownloadAsync(container, name))?.Content.ToArray()
        ?? throw new Xunit.Sdk.XunitException($"{container}/{name} does not exist.");
}
