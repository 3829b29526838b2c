using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Jobs;

public sealed class JobRequestParserTests
{
    private static readonly LimitsOptions Limits = new();

    [Fact]
    public void Parse_DesignSample_ReadsEveryField()
    {
        // docs/contracts.md's sample, comments included.
        const string json = """
            {
              "content": "uploads/j1/photo.jpg",            // or a list of blob names
              "styles": [ { "blob": "styles/starry_night.jpg", "weight": 1.0 } ],
              "styleMode": "each",
              "height": 224,
              "iterations": 10, "evaluationsPerIteration": 20,
              "contentWeight": 0.025, "styleWeight": 1.0, "tvWeight": 1.0,
              "network": "auto",
              "optimizer": { "kind": "lbfgs", "history": 10, "restartEachIteration": false },
              "init": "content", "seed": 0
            }
            """;

        var request = JobRequestParser.Parse(json, Limits);

        Assert.Equal(["uploads/j1/photo.jpg"], request.Content);
        Assert.Equal(new StyleInput("styles/starry_night.jpg", 1.0), Assert.Single(request.Styles));
        Assert.Equal((StyleMode.Each, 224, 10, 20), (request.StyleMode, request.Height, request.Iterations, request.EvaluationsPerIteration));
        Assert.Equal((0.025, 1.0, 1.0), (request.ContentWeight, request.StyleWeight, request.TvWeight));
        Assert.Equal((OptimizerChoice.Lbfgs, 10, false), (request.Optimizer.Kind, request.Optimizer.History, request.Optimizer.RestartEachIteration));
    }

    [Fact]
    public void Parse_MinimalRequest_TakesDefaultsAndLeavesWeightsToTheNetwork()
    {
        var request = JobRequestParser.Parse("""{ "content": ["uploads/a.jpg", "uploads/b.png"], "styles": [ { "blob": "styles/s.jpg" } ], "styleMode": "blend", "network": "resnet18" }""", Limits);

        Assert.Equal(["uploads/a.jpg", "uploads/b.png"], request.Content);
        Assert.Equal(1.0, request.Styles[0].Weight);
        Assert.Equal((StyleMode.Blend, NetworkSpec.ResNet18), (request.StyleMode, request.Network));
        Assert.Null(request.ContentWeight);
        Assert.Null(request.StyleWeight);
        Assert.Null(request.TvWeight);
        Assert.Equal(1, request.Version);
    }

    [Theory]
    [InlineData("\"height\": 16", "height", "16")]
    [InlineData("\"height\": 4096", "height", "4096")]
    [InlineData("\"iterations\": 0", "iterations", "0")]
    [InlineData("\"evaluationsPerIteration\": 1000", "evaluationsPerIteration", "1000")]
    [InlineData("\"contentWeight\": -1", "contentWeight", "-1")]
    [InlineData("\"network\": \"alexnet\"", "network", "")]
    [InlineData("\"network\": \"random-vgg19\"", "network", "random-vgg19")]
    [InlineData("\"styleMode\": \"mix\"", "styleMode", "")]
    [InlineData("\"optimizer\": { \"history\": 0 }", "optimizer.history", "0")]
    [InlineData("\"optimizer\": { \"kind\": \"sgd\" }", "optimizer.kind", "")]
    [InlineData("\"optimizer\": { \"momentum\": 1 }", "optimizer.momentum", "unknown")]
    [InlineData("\"version\": 2", "version", "2")]
    [InlineData("\"Height\": 100", "Height", "unknown")]
    [InlineData("\"seed\": \"zero\"", "seed", "")]
    public void Parse_BadField_ThrowsNamingFieldAndValue(string field, string expectedField, string expectedInMessage)
    {
        var json = $$"""{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/a.jpg" } ], {{field}} }""";

        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(json, Limits));

        Assert.Equal(expectedField, e.Field);
        Assert.StartsWith(expectedField + ":", e.Message);
        Assert.Contains(expectedInMessage, e.Message);
    }

    [Theory]
    [InlineData("""{ "styles": [ { "blob": "styles/a.jpg" } ] }""", "content")]
    [InlineData("""{ "content": [], "styles": [ { "blob": "styles/a.jpg" } ] }""", "content")]
    [InlineData("""{ "content": "uploads/a.jpg", "styles": [] }""", "styles")]
    [InlineData("""{ "content": "uploads/a.jpg", "styles": null }""", "styles")]
    [InlineData("""{ "content": "uploads/a.jpg", "styles": [ { "weight": 2 } ] }""", "styles[0]")]
    [InlineData("""{ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg", "weight": 0 } ] }""", "styles[0].weight")]
    [InlineData("""{ "content": 5, "styles": [ { "blob": "styles/a.jpg" } ] }""", "content")]
    [InlineData("""[1, 2]""", "$")]
    public void Parse_MissingOrEmptyInputs_ThrowsNamingField(string json, string expectedField)
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(json, Limits));

        Assert.StartsWith(expectedField, e.Field);
    }

    [Fact]
    public void Parse_TooManyPairs_ThrowsNamingStylesAndLimit()
    {
        var styles = string.Join(", ", Enumerable.Range(0, 5).Select(i => $$"""{ "blob": "styles/s{{i}}.jpg" }"""));
        var json = $$"""{ "content": ["uploads/a.jpg", "uploads/b.jpg", "uploads/c.jpg", "uploads/d.jpg"], "styles": [ {{styles}} ] }""";

        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.Parse(json, Limits));

        Assert.Equal("styles", e.Field);
        Assert.Contains("20 results", e.Message);
        Assert.Contains("1..16", e.Message);
    }

    [Fact]
    public void Parse_TestNetworkWhenAllowed_Accepts()
    {
        var request = JobRequestParser.Parse(
            """{ "content": "uploads/a.jpg", "styles": [ { "blob": "styles/a.jpg" } ], "network": "random-vgg19" }""",
            new LimitsOptions { AllowTestNetworks = true });

        Assert.Equal(NetworkSpec.RandomVgg19, request.Network);
    }

    [Theory]
    [InlineData("https://example.com/a.jpg")]
    [InlineData("http:/example.com/a.jpg")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/uploads/a.jpg")]
    [InlineData("uploads/../work/j/state-0000.bin")]
    [InlineData("uploads/./a.jpg")]
    [InlineData("uploads//a.jpg")]
    [InlineData("uploads\\a.jpg")]
    [InlineData("results/j/final.png")]
    [InlineData("work/j/targets.bin")]
    [InlineData("uploads")]
    [InlineData("C:/uploads/a.jpg")]
    [InlineData("")]
    public void ValidateBlobName_OutsideInputContainers_Throws(string name)
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.ValidateBlobName(name, "content"));

        Assert.Equal("content", e.Field);
    }

    [Theory]
    [InlineData("uploads/j1/photo.jpg")]
    [InlineData("styles/starry_night.jpg")]
    [InlineData("inbox/starry_night+the_scream/cat 1.jpg")]
    public void ValidateBlobName_InputBlob_Accepts(string name) => JobRequestParser.ValidateBlobName(name, "content");

    [Fact]
    public void FromMetadata_StringValues_AreReadUnderRequestNames()
    {
        var request = JobRequestParser.FromMetadata(
            new Dictionary<string, string>
            {
                ["iterations"] = "3", ["HEIGHT"] = "256", ["tvWeight"] = "0.5", ["network"] = "vgg19",
                ["optimizer"] = """{ "restartEachIteration": true }""",
            },
            "inbox/starry_night/cat.jpg", ["styles/starry_night.jpg"], Limits);

        Assert.Equal(["inbox/starry_night/cat.jpg"], request.Content);
        Assert.Equal((3, 256, 0.5, NetworkSpec.Vgg19, true), (request.Iterations, request.Height, request.TvWeight, request.Network, request.Optimizer.RestartEachIteration));
    }

    [Theory]
    [InlineData("colour", "red", "colour")]
    [InlineData("iterations", "many", "iterations")]
    [InlineData("iterations", "0", "iterations")]
    [InlineData("network", "alexnet", "network")]
    public void FromMetadata_BadEntry_ThrowsNamingField(string key, string value, string expectedField)
    {
        var e = Assert.Throws<JobRequestException>(() => JobRequestParser.FromMetadata(
            new Dictionary<string, string> { [key] = value }, "inbox/s/cat.jpg", ["styles/s.jpg"], Limits));

        Assert.Equal(expectedField, e.Field);
    }
}
