using ServerlessStyle.Core.Tests;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary>
/// The judge and loss benchmarks refuse a loss weight that is negative or not a number before they run anything,
/// naming the option, with the message <c>eval</c> gives (their weights come from the same settings class).
/// </summary>
public sealed class LossWeightOptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("loss-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("judge", "--content-weight", "-1")]
    [InlineData("judge", "--style-weight", "NaN")]
    [InlineData("loss", "--tv-weight", "-0.5")]
    [InlineData("loss", "--content-weight", "NaN")]
    public void LossWeight_NegativeOrNaN_IsRefusedNamingTheOption(string command, string option, string value)
    {
        var content = TestPaths.Sample("content/chelsea.png");
        var style = TestPaths.Sample("styles/starry_night.jpg");

        // Everything else is valid and small, so that a command that took the weight would run (and succeed, or fail
        // for another reason) instead of refusing it.
        string[] args = command == "judge"
            ? ["judge", "--samples", TestPaths.Samples, "--pairs", "chelsea.png:starry_night.jpg", "--height", "32", "--iterations", "1", "--evaluations", "1", "--out", _folder, option, value]
            : ["loss", content, "--content", content, "--style", style, "--height", "32", option, value];
        var (code, output, error) = AppRunner.Run(Program.CreateApp, args);

        Assert.True(code != 0, $"'{command} {option} {value}' ran: {output}");
        Assert.Equal($"serverless-style-bench: {option} {value} must be a finite non-negative number.", error.TrimEnd('\n'));
    }
}
