using System.Text.Json;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Tests.Jobs;

/// <summary>The request's <c>network</c> field: the version 1 spellings keep their meaning, and each gate is the limits'.</summary>
public sealed class NetworkSpecTests
{
    private static readonly LimitsOptions Deployment = new();

    private static readonly LimitsOptions Runner = new() { AllowTestNetworks = true, AllowNetworkFiles = true };

    private static JobRequest Parse(string network, LimitsOptions limits) =>
        JobRequestParser.Parse($$"""{ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg" } ], "network": {{network}} }""", limits);

    [Theory]
    [InlineData("\"auto\"", NetworkKind.Auto)]
    [InlineData("\"vgg19\"", NetworkKind.Vgg19)]
    [InlineData("\"resnet18\"", NetworkKind.ResNet18)]
    [InlineData("\"random-vgg19\"", NetworkKind.RandomVgg19)]
    [InlineData("\" vgg19\"", NetworkKind.Vgg19)]
    public void Parse_VersionOneSpellings_MeanWhatTheyMeant(string network, NetworkKind expected)
    {
        var request = Parse(network, Runner);

        Assert.Equal(expected, request.Network.Kind);
        Assert.Null(request.Network.FilePath);
    }

    [Fact]
    public void Parse_NetworkLeftOut_IsAuto() =>
        Assert.Equal(NetworkSpec.Auto, JobRequestParser.Parse("""{ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg" } ] }""", Deployment).Network);

    [Theory]
    [InlineData("auto")]
    [InlineData("vgg19")]
    [InlineData("resnet18")]
    [InlineData("random-vgg19")]
    [InlineData("/models/my vgg.onnx")]
    public void Serialize_Spec_WritesTheSameStringAndReadsItBack(string name)
    {
        var request = new JobRequest { Content = ["uploads/a.jpg"], Styles = [new StyleInput("styles/a.jpg")], Network = NetworkSpec.Parse(name) };

        var json = JsonSerializer.Serialize(request, JobRequestParser.JsonOptions);

        Assert.Equal(name, JsonDocument.Parse(json).RootElement.GetProperty("network").GetString());
        Assert.Equal(request.Network, JsonSerializer.Deserialize<JobRequest>(json, JobRequestParser.JsonOptions)!.Network);
    }

    [Theory]
    [InlineData("\"alexnet\"")]
    [InlineData("\"VGG19\"")]
    [InlineData("\"RandomVgg19\"")]
    [InlineData("2")]
    [InlineData("\"vgg19, resnet18\"")]
    [InlineData("null")]
    public void Parse_AnythingElse_FailsOnTheNetworkField(string network)
    {
        var e = Assert.Throws<JobRequestException>(() => Parse(network, Runner));

        Assert.Equal("network", e.Field);
    }

    [Fact]
    public void Parse_NetworkFile_OnlyWhereTheLimitsAllowIt()
    {
        Assert.Equal(NetworkSpec.File("/models/vgg19.onnx"), Parse("\"/models/vgg19.onnx\"", Runner).Network);

        var e = Assert.Throws<JobRequestException>(() => Parse("\"/models/vgg19.onnx\"", Deployment));

        Assert.Equal("network", e.Field);
        Assert.Contains("/models/vgg19.onnx", e.Message);
    }

    [Fact]
    public void Parse_TestNetwork_OnlyWhereTheLimitsAllowIt()
    {
        var e = Assert.Throws<JobRequestException>(() => Parse("\"random-vgg19\"", Deployment));

        Assert.Equal("network", e.Field);
        Assert.Contains("random-vgg19", e.Message);
    }

    [Fact]
    public void FromMetadata_NetworkFile_IsGatedLikeJson()
    {
        var metadata = new Dictionary<string, string> { ["network"] = "/tmp/x.h5" };

        Assert.Equal("network", Assert.Throws<JobRequestException>(() => JobRequestParser.FromMetadata(metadata, "inbox/s/a.jpg", ["styles/s.jpg"], Deployment)).Field);
        Assert.Equal(NetworkKind.File, JobRequestParser.FromMetadata(metadata, "inbox/s/a.jpg", ["styles/s.jpg"], Runner).Network.Kind);
    }
}
