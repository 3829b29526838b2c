using System.Text;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Networks;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Networks from the storage account's models container, on real Azurite and real ONNX Runtime: what <c>models upload</c>
/// puts there is what an engine with no local model runs, verified by SHA-256; corrupted or missing networks fail at
/// validation with a reason, once, never in a retry loop.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ModelsContainerTests : IDisposable
{
    // The VGG19 topology (16 convs to block5_conv2, four pools) with a few channels per layer: loads and runs in milliseconds.
    private static readonly int[] TinyVgg19Stack =
        [4, 4, RandomVgg19.Pool, 6, 6, RandomVgg19.Pool, 8, 8, 8, 8, RandomVgg19.Pool, 8, 8, 8, 8, RandomVgg19.Pool, 8, 8];

    private readonly string _folder = Directory.CreateTempSubdirectory("models-container-tests-").FullName;
    private readonly ModelContainer _models;
    private readonly StoredModel _uploaded;
    private readonly LossNetwork _original = RandomVgg19.CreateVggStyle("vgg19", TinyVgg19Stack, seed: 7);

    public ModelsContainerTests()
    {
        // The deployer's machine: the network imported into its own store, from which 'models upload' takes it.
        _uploaded = new ModelStore(Path.Combine(_folder, "deployer-store")).Import("vgg19", _original, "caffe", source: "test: tiny VGG19, seed 7");
        var storage = new StorageOptions { Models = Azurite.UniqueContainer("models") };
        _models = new ModelContainer(new BlobStore(Azurite.CreateService()), storage, Path.Combine(_folder, "cache"));
    }

    public void Dispose()
    {
        Azurite.CreateService().GetBlobContainerClient(_models.ContainerName).DeleteIfExists();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>An engine in a process with no local model: an empty model store, only the models container.</summary>
    private StyleEngine Engine(string network = "auto", ModelContainer? models = null) => new(
        Options.Create(new EngineOptions { Network = network, Provider = "cpu" }),
        Options.Create(new LimitsOptions()),
        NullLogger<StyleEngine>.Instance,
        NullLogger<Core.Evaluation.StyleEvaluator>.Instance,
        new NetworkResolver(new ModelStore(Path.Combine(_folder, "empty-store")), models ?? _models));

    private async Task CorruptBlobKeepingItsMetadataAsync()
    {
        var blob = Azurite.CreateService().GetBlobContainerClient(_models.ContainerName).GetBlobClient(ModelContainer.BlobNameOf("vgg19"));
        var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        var bytes = await File.ReadAllBytesAsync(_uploaded.OnnxPath);
        bytes[bytes.Length / 2] ^= 0x40;
        await blob.UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions { Metadata = metadata });
    }

    [Fact]
    public async Task ResolveNetwork_AutoWithUploadedVgg19AndNoLocalModel_RunsTheUploadedNetworkWithItsDigest()
    {
        var (model, uploaded) = await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        using var engine = Engine();

        var resolved = await engine.ResolveNetworkAsync(NetworkSpec.Auto);

        Assert.True(uploaded);
        Assert.Equal(new NetworkIdentity("vgg19", _uploaded.Sha256, NetworkOrigin.ModelsContainer, $"{_models.ContainerName}/vgg19.onnx"), resolved.Identity);
        Assert.Equal(ModelDigest.OfFile(_uploaded.OnnxPath), model.Sha256);
        Assert.True(File.Exists(Path.Combine(_models.CacheFolder, _uploaded.Sha256, "vgg19.onnx")), "the download is cached under its SHA-256");
        // Weights landed where they were: block5_conv2 (which every one of the 14 convolutions feeds) of the network that
        // ran equals that of the one uploaded; same float32 ops on the same weights in the same order, so equal to rounding.
        var image = Enumerable.Range(0, 3 * 16 * 24).Select(i => (float)(i % 97) - 40f).ToArray();
        string[] tap = ["block5_conv2"];
        var expected = OrtForward.Run(OnnxProtos.Model(_original.Graph), _original.InputName, image, 16, 24, tap);
        var actual = OrtForward.Run(OnnxProtos.Model(resolved.Network.Graph), resolved.Network.InputName, image, 16, 24, tap);
        Assert.True(OrtForward.RelativeError(expected[tap[0]].Data, actual[tap[0]].Data) < 1e-6);
        Assert.True(expected[tap[0]].Data.Any(v => v != 0), "the tap is not all zeros, so the comparison means something");
    }

    [Fact]
    public async Task UploadAsync_SameFileTwice_WritesOnce()
    {
        var (first, firstUploaded) = await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        var (second, secondUploaded) = await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");

        Assert.True(firstUploaded);
        Assert.False(secondUploaded);
        Assert.Equal(first.ETag, second.ETag);
    }

    [Fact]
    public async Task ResolveNetwork_CorruptedModelBlob_ThrowsJobRequestExceptionNamingTheDigestAndCachesNothing()
    {
        await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        await CorruptBlobKeepingItsMetadataAsync();
        using var engine = Engine();

        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.ResolveNetworkAsync(NetworkSpec.Vgg19));

        Assert.Equal("network", e.Field);
        Assert.Contains("corrupted", e.Message);
        Assert.Contains(_uploaded.Sha256, e.Message);
        Assert.Contains("models upload --force", e.Message);
        Assert.Empty(Directory.Exists(_models.CacheFolder) ? Directory.GetFiles(_models.CacheFolder, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task ResolveNetwork_BlobRepairedByForcedUploadAfterAFailure_FindsTheRepairedNetwork()
    {
        await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        await CorruptBlobKeepingItsMetadataAsync();
        using var engine = Engine();
        await Assert.ThrowsAsync<JobRequestException>(() => engine.ResolveNetworkAsync(NetworkSpec.Vgg19));

        var (_, repaired) = await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test", force: true);

        Assert.True(repaired);
        Assert.Equal(_uploaded.Sha256, (await engine.ResolveNetworkAsync(NetworkSpec.Vgg19)).Identity.Sha256);
    }

    [Fact]
    public async Task ResolveNetwork_Vgg19AndNoneAnywhere_ThrowsJobRequestExceptionSayingHowToAddOne()
    {
        using var engine = Engine();

        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.ResolveNetworkAsync(NetworkSpec.Vgg19));

        Assert.Equal("network", e.Field);
        Assert.Contains("No VGG19 is available", e.Message);
        Assert.Contains("models fetch vgg19", e.Message);
        Assert.Contains("models upload", e.Message);
    }

    [Fact]
    public async Task ResolveNetwork_AutoAndNoVgg19Anywhere_RunsTheBundledResNet18()
    {
        using var engine = Engine();

        var identity = (await engine.ResolveNetworkAsync(NetworkSpec.Auto)).Identity;

        Assert.Equal(("resnet18", NetworkOrigin.Bundled), (identity.Name, identity.Origin));
        Assert.Equal(ModelDigest.OfFile(ResNet18.DefaultPath), identity.Sha256);
    }

    [Fact]
    public async Task ResolveNetwork_BlobWithoutDigestMetadata_IsNotRunAndSaysWhy()
    {
        var blob = Azurite.CreateService().GetBlobContainerClient(_models.ContainerName);
        await blob.CreateIfNotExistsAsync();
        await blob.GetBlobClient("vgg19.onnx").UploadAsync(BinaryData.FromBytes(await File.ReadAllBytesAsync(_uploaded.OnnxPath)));
        using var engine = Engine();

        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.ResolveNetworkAsync(NetworkSpec.Auto));

        Assert.Contains("no 'sha256' metadata", e.Message);
    }

    [Fact]
    public async Task DownloadAsync_CacheFileChangedOnDisk_DownloadsAndVerifiesAgain()
    {
        var (model, _) = await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        var path = await _models.DownloadAsync(model);
        await File.WriteAllTextAsync(path, "not the model");

        var again = await _models.DownloadAsync(model);

        Assert.Equal(path, again);
        Assert.Equal(_uploaded.Sha256, ModelDigest.OfFile(again));
    }

    [Fact]
    public async Task StyleJob_CorruptedModelBlob_FailsAtValidationOnceWithTheReason()
    {
        await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        await CorruptBlobKeepingItsMetadataAsync();
        using var engine = Engine();
        var pipeline = new Pipeline(engine);
        var input = await SmallJobAsync(pipeline, "job-corrupt-model", NetworkSpec.Vgg19);
        var validations = 0;

        var job = await pipeline.RunJobAsync(input, (_, work) => new CountingValidation(work, () => Interlocked.Increment(ref validations)));

        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.Equal(JobState.Failed, summary.State);
        Assert.Contains("corrupted", summary.Reason);
        Assert.Equal(1, validations);
    }

    [Fact]
    public async Task StyleJob_AutoWithUploadedVgg19_LossesEqualThoseOfTheSameFileRunByPath()
    {
        await _models.UploadAsync("vgg19", _uploaded.OnnxPath, "caffe", "test");
        using var fromContainer = Engine("auto");
        using var fromFile = new StyleEngine(
            Options.Create(new EngineOptions { Network = _uploaded.OnnxPath, Preprocess = "caffe", Provider = "cpu" }),
            Options.Create(new LimitsOptions()),
            NullLogger<StyleEngine>.Instance,
            NullLogger<Core.Evaluation.StyleEvaluator>.Instance,
            new NetworkResolver(new ModelStore(ModelStore.DefaultFolder)));

        var (viaContainer, containerNetwork) = await RunAndReadLossesAsync(fromContainer, "job-auto-container");
        var (viaFile, fileNetwork) = await RunAndReadLossesAsync(fromFile, "job-auto-file");

        // Same network, images, seed and optimiser: the loss logs agree row for row. Had auto fallen back to ResNet18,
        // the first row alone would differ by orders of magnitude.
        Assert.Equal(viaFile, viaContainer);
        Assert.True(viaContainer.Length > 2, "the job evaluated the loss");

        // Each job.json says what ran it: the same file's digest, from the container and from the path.
        Assert.Equal((_uploaded.Sha256, NetworkOrigin.ModelsContainer), (containerNetwork?.Sha256, containerNetwork?.Origin));
        Assert.Equal((_uploaded.Sha256, NetworkOrigin.File), (fileNetwork?.Sha256, fileNetwork?.Origin));
    }

    private static async Task<(string[] Losses, NetworkIdentity? Network)> RunAndReadLossesAsync(StyleEngine engine, string jobId)
    {
        var pipeline = new Pipeline(engine);
        var input = await SmallJobAsync(pipeline, jobId, NetworkSpec.Auto);
        var job = await pipeline.RunJobAsync(input);
        var summary = job.ReadOutputAs<JobSummary>()!;
        Assert.True(summary.State == JobState.Completed, summary.Reason);
        var pair = Assert.Single(summary.Pairs);
        var csv = Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.LossLog(jobId, pair.PairId)));
        var document = JobDocument.Parse(Encoding.UTF8.GetString(await pipeline.ReadAsync(pipeline.Results, BlobLayout.JobJson(jobId))));
        return (csv.Split('\n', StringSplitOptions.RemoveEmptyEntries), document.Network);
    }

    /// <summary>A 32 px job on two drawn images: one iteration of three evaluations.</summary>
    private static async Task<JobInput> SmallJobAsync(Pipeline pipeline, string jobId, NetworkSpec network)
    {
        var content = await pipeline.UploadAsync("uploads", $"{jobId}/content.png", Drawn(48, 32, (x, y) => new Rgb24((byte)(x * 5), (byte)(y * 7), 90)));
        var style = await pipeline.UploadAsync("uploads", $"{jobId}/style.png", Drawn(32, 32, (x, y) => new Rgb24((byte)((x ^ y) * 8), 40, (byte)(y * 8))));
        var request = new JobRequest
        {
            Content = [content],
            Styles = [new StyleInput(style, 1.0)],
            Height = 32,
            Iterations = 1,
            EvaluationsPerIteration = 3,
            Network = network,
        };
        return new JobInput(jobId, request, Pipeline.FastRetries);
    }

    private static byte[] Drawn(int width, int height, Func<int, int, Rgb24> pixel)
    {
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = pixel(x, y);
            }
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>The real work, counting ValidateJob calls (a retry loop would call it more than once).</summary>
    private sealed class CountingValidation(IStyleWork inner, Action counted) : DelegatingStyleWork(inner)
    {
        public override Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default)
        {
            counted();
            return Inner.ValidateJobAsync(input, cancellationToken);
        }
    }
}
