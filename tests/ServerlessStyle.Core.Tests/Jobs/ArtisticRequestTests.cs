using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Jobs;

/// <summary>Validation of the artistic controls in a request: each bad value names its field.</summary>
public sealed class ArtisticRequestTests
{
    private static readonly LimitsOptions Limits = new();

    private const string Base = """ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg" } ] """;

    [Theory]
    [InlineData(""" "init": "random" """, "init")]
    [InlineData(""" "init": "results/j/final.png" """, "init")]
    [InlineData(""" "init": "https://example.com/a.png" """, "init")]
    [InlineData(""" "styleScale": 0.1 """, "styleScale")]
    [InlineData(""" "styleScale": 5 """, "styleScale")]
    [InlineData(""" "preserveColors": "yes" """, "preserveColors")]
    [InlineData(""" "scales": [] """, "scales")]
    [InlineData(""" "scales": [64, 64] """, "scales[1]")]
    [InlineData(""" "scales": [16, 64] """, "scales[0]")]
    [InlineData(""" "scales": [64, 128], "stageIterations": [5] """, "stageIterations")]
    [InlineData(""" "scales": [64, 128], "stageIterations": [5, 0] """, "stageIterations[1]")]
    [InlineData(""" "stageIterations": [5] """, "stageIterations")]
    [InlineData(""" "styleLayers": [] """, "styleLayers")]
    [InlineData(""" "styleLayers": [ { "name": "block1_conv1", "weight": -1 } ] """, "styleLayers[0].weight")]
    [InlineData(""" "styleLayers": [ { "name": "block1_conv1", "weight": 0 } ] """, "styleLayers")]
    [InlineData(""" "contentLayers": [ { "name": "a" }, { "name": "b" } ] """, "contentLayers")]
    [InlineData(""" "pooling": "min" """, "pooling")]
    [InlineData(""" "pooling": "avg", "network": "resnet18" """, "pooling")]
    [InlineData(""" "activationSmoothing": "maybe" """, "activationSmoothing")]
    [InlineData(""" "activationSmoothing": true """, "activationSmoothing")]
    [InlineData(""" "preprocess": "bgr" """, "preprocess")]
    [InlineData(""" "preprocess": 1 """, "preprocess")]
    [InlineData(""" "pooling": 7 """, "pooling")]
    [InlineData(""" "activationSmoothing": 0 """, "activationSmoothing")]
    [InlineData(""" "styleMode": 1 """, "styleMode")]
    [InlineData(""" "optimizer": { "kind": 1 } """, "optimizer.kind")]
    public void Parse_BadControl_NamesTheField(string field, string expected)
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse($"{{ {Base}, {field} }}", Limits));
        Assert.Equal(expected, e.Field);
    }

    [Fact]
    public void Parse_WeightZeroInEachMode_NamesTheWeight()
    {
        var json = """{ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg" }, { "blob": "styles/b.jpg", "weight": 0 } ] }""";
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(json, Limits));
        Assert.Equal("styles[1].weight", e.Field);
    }

    [Fact]
    public void Parse_StyleWeightsAllZero_NamesStyles()
    {
        var json = """{ "content": "uploads/a.jpg", "styleMode": "blend", "styles": [ { "blob": "styles/a.jpg", "weight": 0 }, { "blob": "styles/b.jpg", "weight": 0 } ] }""";
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(json, Limits));
        Assert.Equal("styles", e.Field);
    }

    [Fact]
    public void Parse_Controls_AreRead()
    {
        var json = """
            { "content": "uploads/a.jpg", "styleMode": "blend",
              "styles": [ { "blob": "styles/a.jpg", "weight": 0 }, { "blob": "styles/b.jpg", "weight": 2 } ],
              "init": "uploads/start.png", "seed": 3, "preserveColors": true, "styleScale": 0.5 }
            """;
        var request = JobRequestParser.Parse(json, Limits);
        Assert.Equal(("uploads/start.png", 3, true, 0.5), (request.Init, request.Seed, request.PreserveColors, request.StyleScale));
        Assert.Equal([0.0, 2.0], request.Styles.Select(s => s.Weight));
    }

    [Fact]
    public void FromMetadata_Controls_UseTheJsonNames()
    {
        var metadata = new Dictionary<string, string> { ["init"] = "noise", ["seed"] = "5", ["preservecolors"] = "true", ["styleScale"] = "2", ["pooling"] = "avg", ["styleLayers"] = """[{"name":"block1_conv1","weight":2}]""" };
        var request = JobRequestParser.FromMetadata(metadata, "inbox/a/photo.jpg", ["styles/a.jpg"], Limits);
        Assert.Equal((InitChoices.Noise, 5, true, 2.0), (request.Init, request.Seed, request.PreserveColors, request.StyleScale));
        Assert.Equal((PoolingChoice.Avg, new LayerWeight("block1_conv1", 2)), (request.Pooling, Assert.Single(request.StyleLayers!)));
    }

    [Theory]
    [InlineData("on", ActivationSmoothingChoice.On)]
    [InlineData("off", ActivationSmoothingChoice.Off)]
    public void FromMetadata_ActivationSmoothing_IsRead(string value, ActivationSmoothingChoice expected)
    {
        var metadata = new Dictionary<string, string> { ["activationsmoothing"] = value };
        var request = JobRequestParser.FromMetadata(metadata, "inbox/a/photo.jpg", ["styles/a.jpg"], Limits);
        Assert.Equal(expected, request.ActivationSmoothing);
        Assert.Null(JobRequestParser.Parse($"{{ {Base} }}", Limits).ActivationSmoothing);
    }

    [Fact]
    public void Preprocess_JsonAndMetadata_AreReadAndOmittedIsNull()
    {
        var json = JobRequestParser.Parse($$"""{ {{Base}}, "preprocess": "torch" }""", Limits);
        var metadata = JobRequestParser.FromMetadata(new Dictionary<string, string> { ["preprocess"] = "caffe" }, "inbox/a/photo.jpg", ["styles/a.jpg"], Limits);

        Assert.Equal(PreprocessChoice.Torch, json.Preprocess);
        Assert.Equal(PreprocessChoice.Caffe, metadata.Preprocess);
        Assert.Null(JobRequestParser.Parse($"{{ {Base} }}", Limits).Preprocess);
    }

    [Fact]
    public void FromMetadata_BadPreprocess_NamesTheField()
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.FromMetadata(
            new Dictionary<string, string> { ["preprocess"] = "bgr" }, "inbox/a/photo.jpg", ["styles/a.jpg"], Limits));
        Assert.Equal("preprocess", e.Field);
    }
}
