using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// A request's <c>preprocess</c> normalises the loss network's input; it wins over the worker's configured one, which
/// stays for requests that do not say.
/// </summary>
public sealed class PreprocessRequestTests
{
    private static StyleEngine Engine(string? configured) => new(
        Options.Create(new EngineOptions { Network = "resnet18", Provider = "cpu", Preprocess = configured }),
        Options.Create(new LimitsOptions()),
        NullLogger<StyleEngine>.Instance, NullLogger<StyleEvaluator>.Instance,
        new NetworkResolver(new ModelStore(ModelStore.DefaultFolder)));

    private static JobRequest Request(PreprocessChoice? preprocess, PoolingChoice pooling = PoolingChoice.Max) => new()
    {
        Content = ["uploads/j/a.png"], Styles = [new StyleInput("styles/s.jpg")], Preprocess = preprocess, Pooling = pooling,
    };

    [Fact]
    public async Task GetNetworkAsync_RequestPreprocess_NormalisesTheInputUnderItsOwnName()
    {
        using var engine = Engine(configured: null);

        var own = await engine.GetNetworkAsync(Request(null));
        var torch = await engine.GetNetworkAsync(Request(PreprocessChoice.Torch));

        Assert.Same(ResNet18.Input, own.Input);
        Assert.Same(InputNormalization.Torch, torch.Input);
        // The evaluator caches compiled graphs, which hold the normalisation, by network name.
        Assert.NotEqual(own.Name, torch.Name);
        // Still resnet18 to the checks that go by name: its pooling stays its own.
        var e = await Assert.ThrowsAsync<JobRequestException>(() => engine.GetNetworkAsync(Request(PreprocessChoice.Torch, PoolingChoice.Avg)));
        Assert.Equal("pooling", e.Field);
    }

    [Fact]
    public async Task GetNetworkAsync_ConfiguredPreprocess_AppliesOnlyWhereTheRequestSaysNothing()
    {
        using var engine = Engine(configured: "torch");

        var configured = await engine.GetNetworkAsync(Request(null));
        var caffe = await engine.GetNetworkAsync(Request(PreprocessChoice.Caffe));

        Assert.Same(InputNormalization.Torch, configured.Input);
        // The plain name, as before requests carried it: targets stored by a job recorded without it still match.
        Assert.Equal("resnet18", configured.Name);
        Assert.Equal((ChannelOrder.Bgr, CaffeSpace.Mean), (caffe.Input.Order, caffe.Input.Mean));
    }
}
