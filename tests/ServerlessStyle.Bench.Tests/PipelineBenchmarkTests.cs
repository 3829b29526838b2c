using ServerlessStyle.Bench.Pipeline;
using ServerlessStyle.Core.Tests;

namespace ServerlessStyle.Bench.Tests;

/// <summary>The pipeline benchmark end to end on Azurite at a tiny size: a job through the durable host, then the bare loop.</summary>
[Trait("Category", "Integration")]
public sealed class PipelineBenchmarkTests
{
    [Fact]
    public async Task RunAsync_TinyJob_TimesEveryChunkThroughTheDurableHostAndTheBareLoop()
    {
        var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING");
        Assert.False(string.IsNullOrWhiteSpace(connection), "AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh.");
        var log = new StringWriter();

        var result = await PipelineBenchmark.RunAsync(
            connection, File.ReadAllBytes(TestPaths.Sample("content/chelsea.png")), File.ReadAllBytes(TestPaths.Sample("styles/starry_night.jpg")),
            "random-vgg19", height: 32, iterations: 3, evaluationsPerIteration: 4, log);

        // Every chunk ran as an activity with its 4 evaluations, inside the loop, inside the activity.
        Assert.Equal([0, 1, 2], result.Chunks.Select(c => c.Iteration));
        Assert.All(result.Chunks, c =>
        {
            Assert.Equal(4, c.Evaluations);
            Assert.InRange(c.EvaluationSeconds, double.Epsilon, c.LoopSeconds);
            Assert.InRange(c.LoopSeconds, c.EvaluationSeconds, c.WallSeconds);
        });
        Assert.True(double.IsNaN(result.Chunks[0].GapBeforeSeconds));
        Assert.All(result.Chunks.Skip(1), c => Assert.True(c.GapBeforeSeconds >= 0));
        Assert.True(result.MedianBareChunkSeconds > 0);
        Assert.Contains("bare loop", log.ToString(), StringComparison.Ordinal);
    }
}
