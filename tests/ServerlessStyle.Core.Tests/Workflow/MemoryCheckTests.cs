using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>A job whose estimated peak memory is over the worker's is refused at validation, before any engine work.</summary>
public sealed class MemoryCheckTests
{
    private static StyleEngine Engine(long workerBytes, bool winograd = true) => new(
        Options.Create(new EngineOptions { Network = "random-vgg19", Provider = "cpu", Winograd = winograd }),
        Options.Create(new LimitsOptions { AllowTestNetworks = true, MaxWorkerMemoryBytes = workerBytes }),
        NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance, new NetworkResolver(new Core.Networks.ModelStore(Core.Networks.ModelStore.DefaultFolder)));

    private static readonly JobRequest Request = new()
    {
        Content = ["uploads/j/a.png"], Styles = [new StyleInput("styles/s.jpg")], Network = NetworkSpec.RandomVgg19,
    };

    [Fact]
    public async Task CheckMemory_OverTheWorkersMemory_ThrowsNamingSizeEstimateAndLimit()
    {
        using var engine = Engine(2L << 30);

        // 1024x1024 with VGG19: about 4 GB without Winograd (3 GB measured plus the optimiser's state), over a 2 GB worker.
        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.CheckMemoryAsync(Request, 1024L * 1024));

        Assert.Equal("height", e.Field);
        Assert.Contains("1048576 px", e.Message, StringComparison.Ordinal);
        Assert.Contains("2.0 GB", e.Message, StringComparison.Ordinal);
        Assert.Contains("random_vgg19", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckMemory_WithinTheWorkersMemory_Passes()
    {
        using var engine = Engine(16L << 30);

        await engine.CheckMemoryAsync(Request, 224L * 336);
    }

    [Theory]
    [InlineData("random_vgg19", 128, true, 610)]
    [InlineData("random_vgg19", 256, true, 764)]
    [InlineData("random_vgg19", 384, true, 1030)]
    [InlineData("random_vgg19", 512, true, 1322)]
    [InlineData("random_vgg19", 768, true, 2495)]
    [InlineData("random_vgg19", 128, false, 749)]
    [InlineData("random_vgg19", 256, false, 895)]
    [InlineData("random_vgg19", 384, false, 1115)]
    [InlineData("random_vgg19", 768, false, 1909)]
    [InlineData("random_vgg19", 1024, false, 2983)]
    [InlineData("resnet18", 128, true, 384)]
    [InlineData("resnet18", 384, true, 468)]
    [InlineData("resnet18", 1024, true, 1116)]
    public void PeakBytes_MeasuredPeak_CoveredWithTheOptimisersState(string network, int side, bool winograd, int measuredMegabytes)
    {
        // The peaks measured by the benchmark (MemoryEstimate's comment) plus what a worker holds beside the evaluation:
        // the L-BFGS state and its serialised checkpoint, 276 bytes a pixel each. An estimate under this lets a job in
        // that kills its worker.
        var pixels = (long)side * side;
        var needed = ((long)measuredMegabytes << 20) + (2 * 276 * pixels);

        Assert.True(MemoryEstimate.PeakBytes(network, pixels, winograd) >= needed, $"{network} {side}x{side} winograd={winograd}: estimate below {needed >> 20} MB");
    }

    [Fact]
    public void PeakBytes_ResNet18_LeastOfTheNetworks()
    {
        var pixels = 512L * 512;
        Assert.True(MemoryEstimate.PeakBytes("vgg19", pixels, winograd: false) > MemoryEstimate.PeakBytes("resnet18", pixels, winograd: false));
        Assert.True(MemoryEstimate.PeakBytes("vgg19", pixels, winograd: true) > MemoryEstimate.PeakBytes("resnet18", pixels, winograd: true));
    }
}
