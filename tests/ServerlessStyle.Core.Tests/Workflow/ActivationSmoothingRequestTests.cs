using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>A request's activationSmoothing picks the engine's network variant and, for resnet18, its default weights.</summary>
public sealed class ActivationSmoothingRequestTests
{
    private static StyleEngine Engine() => new(
        Options.Create(new EngineOptions { Network = "resnet18", Provider = "cpu" }),
        Options.Create(new LimitsOptions { AllowTestNetworks = true }),
        NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance,
        new NetworkResolver(new ModelStore(ModelStore.DefaultFolder)));

    private static JobRequest Request(NetworkSpec network, ActivationSmoothingChoice? smoothing) => new()
    {
        Content = ["uploads/j/a.png"], Styles = [new StyleInput("styles/s.jpg")], Network = network, ActivationSmoothing = smoothing,
    };

    [Fact]
    public async Task GetNetworkAsync_ResNet18_OnByDefaultAndOffWithTheWeightsTunedWithoutIt()
    {
        using var engine = Engine();
        var byDefault = await engine.GetNetworkAsync(Request(NetworkSpec.ResNet18, null));
        var on = await engine.GetNetworkAsync(Request(NetworkSpec.ResNet18, ActivationSmoothingChoice.On));
        var off = await engine.GetNetworkAsync(Request(NetworkSpec.ResNet18, ActivationSmoothingChoice.Off));

        Assert.Equal((true, ResNet18.DefaultWeights), (byDefault.ActivationSmoothing, StyleEngine.Weights(Request(NetworkSpec.ResNet18, null), byDefault)));
        Assert.Same(byDefault, on);
        Assert.Equal((false, ResNet18.UnsmoothedWeights), (off.ActivationSmoothing, StyleEngine.Weights(Request(NetworkSpec.ResNet18, ActivationSmoothingChoice.Off), off)));

        // The evaluator caches compiled graphs by name: the variant must not share the default's.
        Assert.NotEqual(byDefault.Name, off.Name);
    }

    [Fact]
    public async Task GetNetworkAsync_RandomVgg19_OffByDefaultAndOnWhenAsked()
    {
        using var engine = Engine();
        Assert.False((await engine.GetNetworkAsync(Request(NetworkSpec.RandomVgg19, null))).ActivationSmoothing);
        var on = await engine.GetNetworkAsync(Request(NetworkSpec.RandomVgg19, ActivationSmoothingChoice.On));
        Assert.Equal((true, RandomVgg19.Create().DefaultWeights), (on.ActivationSmoothing, on.DefaultWeights));
    }
}
