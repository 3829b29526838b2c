using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Tests;

/// <summary>The artistic controls on the command line: kebab-case of the request's JSON names, checked before any storage is touched.</summary>
[Collection(CliCollection.Name)]
public sealed class RunArtisticOptionsTests
{
    [Theory]
    [InlineData(new[] { "run", "--style-scale", "9" }, "--style-scale: 9 is out of range; allowed: 0.25..4")]
    [InlineData(new[] { "run", "--init", "/nonexistent/start.png" }, "--init /nonexistent/start.png: not content, noise or style, and no such file.")]
    [InlineData(new[] { "run", "--style-blend-weights", "1,2" }, "--style-blend-weights '1,2': 2 weights for 1 style; give one per --style")]
    [InlineData(new[] { "run", "--style-blend-weights", "1,x" }, "--style-blend-weights '1,x': 'x' is not a number")]
    [InlineData(new[] { "run", "--content-weight", "-1" }, "--content-weight: -1 is out of range; allowed: a finite number >= 0")]
    [InlineData(new[] { "run", "--style-weight", "nan" }, "--style-weight: NaN is out of range; allowed: a finite number >= 0")]
    [InlineData(new[] { "run", "--tv-weight", "-0.5" }, "--tv-weight: -0.5 is out of range; allowed: a finite number >= 0")]
    [InlineData(new[] { "run", "--scales", "64,x" }, "--scales '64,x': 'x' is not a whole number")]
    [InlineData(new[] { "run", "--scales", "128,64" }, "--scales: 64 is not above 128")]
    [InlineData(new[] { "run", "--scales", "64,128", "--stage-iterations", "3" }, "--stage-iterations: 1 counts for 2 scales")]
    [InlineData(new[] { "run", "--pooling", "min" }, "--pooling 'min' is not max or avg.")]
    [InlineData(new[] { "run", "--activation-smoothing", "yes" }, "--activation-smoothing 'yes' is not on or off.")]
    [InlineData(new[] { "run", "--style-layers", "block1_conv1:x" }, "--style-layers 'block1_conv1:x': 'block1_conv1:x' is not NAME or NAME:WEIGHT")]
    [InlineData(new[] { "run", "--content-layers", "a,b" }, "--content-layers: 2 layers; allowed: 1..1")]
    [InlineData(new[] { "run", "--resume", "job-1", "--preserve-colors" }, "--resume continues the job as it was requested")]
    public async Task Run_BadControl_ExitsNonZeroNamingTheOption(string[] args, string expected)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync(args);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Create_Controls_AreCarriedIntoTheRequest()
    {
        var settings = new RunCommand.Settings
        {
            Content = [TestPaths.Sample("content/chelsea.png")],
            Style = [TestPaths.Sample("styles/starry_night.jpg"), TestPaths.Sample("styles/the_scream.jpg")],
            StyleBlendWeights = "2, 0",
            ContentWeight = 5e-3,
            StyleWeight = 40,
            TvWeight = 0,
            StyleMode = "blend",
            PreserveColors = true,
            Init = TestPaths.Sample("content/coffee.png"),
            Seed = 4,
            StyleScale = 0.5,
            Scales = "64, 128",
            StageIterations = "4,2",
            StyleLayers = "block1_conv1:2, block2_conv1",
            ContentLayers = "block4_conv2:0.5",
            Pooling = "avg",
            ActivationSmoothing = "on",
            Network = "random-vgg19",
        };

        var plan = RunPlan.Create(settings, "job-1", new WorkflowSettings());

        var request = plan.Input.Request;
        Assert.Equal([2.0, 0.0], request.Styles.Select(s => s.Weight));
        Assert.Equal((5e-3, 40.0, 0.0), (request.ContentWeight, request.StyleWeight, request.TvWeight));
        Assert.Equal((StyleMode.Blend, true, 4, 0.5), (request.StyleMode, request.PreserveColors, request.Seed, request.StyleScale));
        Assert.Equal("uploads/job-1/init/coffee.png", request.Init);
        Assert.Equal([64, 128], request.Scales!);
        Assert.Equal([4, 2], request.StageIterations!);
        Assert.Equal([new LayerWeight("block1_conv1", 2), new LayerWeight("block2_conv1", 1)], request.StyleLayers!);
        Assert.Equal([new LayerWeight("block4_conv2", 0.5)], request.ContentLayers!);
        Assert.Equal(PoolingChoice.Avg, request.Pooling);
        Assert.Equal(ActivationSmoothingChoice.On, request.ActivationSmoothing);
        Assert.Contains(plan.Uploads, u => u.Blob == request.Init);
    }

    [Fact]
    public void Create_NetworkFileAndPreprocess_AreRecordedInTheRequest()
    {
        // The request names the file itself by its full path, and its normalisation (a resumed job and every worker
        // find both there), not "auto" with the path and --preprocess passed sideways to the engine's configuration.
        var folder = Directory.CreateTempSubdirectory("serverless-style-network-");
        try
        {
            var onnx = Path.Combine(folder.FullName, "my-vgg19.onnx");
            File.WriteAllBytes(onnx, [0]);
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, onnx);
            var settings = new RunCommand.Settings { Network = relative, Preprocess = "torch" };

            var plan = RunPlan.Create(settings, "job-1", new WorkflowSettings());

            Assert.Equal(NetworkSpec.File(onnx), plan.Input.Request.Network);
            Assert.Equal($"network: {onnx}", plan.NetworkNote);
            var json = System.Text.Json.JsonSerializer.Serialize(plan.Input.Request, JobRequestParser.JsonOptions);
            var parsed = JobRequestParser.Parse(json, RunPlan.Limits);
            Assert.Equal((plan.Input.Request.Network, PreprocessChoice.Torch), (parsed.Network, parsed.Preprocess));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
