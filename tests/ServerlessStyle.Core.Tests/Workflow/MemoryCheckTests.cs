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
        NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance);

    private static readonly JobRequest Request = new()
    {
        Content = ["uploads/j/a.png"], Styles = [new StyleInput("styles/s.jpg")], Network = NetworkChoice.RandomVgg19,
    };

    [Fact]
    public void CheckMemory_OverTheWorkersMemory_ThrowsNamingSizeEstimateAndLimit()
    {
        using var engine = Engine(2L << 30);

        // 1024x1024 with VGG19: about 8 GB even without Winograd, 4x a 2 GB worker.
        var e = Assert.Throws<JobRequestException>(() => engine.CheckMemory(Request, 1024L * 1024));

        Assert.Equal("height", e.Field);
        Assert.Contains("1048576 px", e.Message, StringComparison.Ordinal);
        Assert.Contains("2.0 GB", e.Message, StringComparison.Ordinal);
        Assert.Contains("random_vgg19", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckMemory_WithinTheWorkersMemory_Passes()
    {
        using var engine = Engine(16L << 30);

        engine.CheckMemory(Request, 224L * 336);
    }

    [Fact]
    public void PeakBytes_Winograd_NeedsMoreThanDirectAndResNet18Least()
    {
        // The orders the measurements give (MemoryEstimate's comment): the rewrite costs memory; ResNet18 is smaller.
        var pixels = 512L * 512;
        Assert.True(MemoryEstimate.PeakBytes("vgg19", pixels, winograd: true) > MemoryEstimate.PeakBytes("vgg19", pixels, winograd: false));
        Assert.True(MemoryEstimate.PeakBytes("vgg19", pixels, winograd: false) > MemoryEstimate.PeakBytes("resnet18", pixels, winograd: false));
    }
}
