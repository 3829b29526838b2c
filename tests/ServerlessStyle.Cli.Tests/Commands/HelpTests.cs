using System.Globalization;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary><c>--help</c> of every command of serverless-style renders (<see cref="CommandHelp"/>).</summary>
public sealed class HelpTests
{
    public static TheoryData<string> Commands() => CommandHelp.Paths(Program.CreateApp);

    [Fact]
    public void Commands_CommandTree_HoldsTheKnownCommandsAndBranches()
    {
        // Guards the enumeration itself: were the model empty or unread, the theory below would test nothing.
        var commands = CommandHelp.List(Program.CreateApp);

        Assert.Contains("run", commands);
        Assert.Contains("eval", commands);
        Assert.Contains("models", commands);
        Assert.Contains("models import", commands);
        Assert.True(commands.Count >= 8, $"only {commands.Count} commands: {string.Join(", ", commands)}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_EveryCommand_RendersWithExitCodeZeroAndNoError(string command) => CommandHelp.AssertRenders(Program.CreateApp, command);

    [Fact]
    public void Help_Run_ShowsEachNetworksDefaultLossWeights()
    {
        var (_, output, _) = CommandHelp.Run(Program.CreateApp, 1000, "run", "--help");

        var lines = output.Split('\n');
        foreach (var (option, vgg19, resnet18) in new[]
                 {
                     ("--content-weight", Vgg19.DefaultWeights.Content, ResNet18.DefaultWeights.Content),
                     ("--style-weight", Vgg19.DefaultWeights.Style, ResNet18.DefaultWeights.Style),
                     ("--tv-weight", Vgg19.DefaultWeights.TotalVariation, ResNet18.DefaultWeights.TotalVariation),
                 })
        {
            var line = Assert.Single(lines, l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
            var numbers = System.Text.RegularExpressions.Regex.Matches(line, @"(vgg19|resnet18) ([0-9.e+-]+)")
                .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(vgg19, numbers["vgg19"]);
            Assert.Equal(resnet18, numbers["resnet18"]);
        }
    }
}
