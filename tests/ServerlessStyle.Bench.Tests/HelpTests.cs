using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary><c>--help</c> of every command of serverless-style-bench renders (<see cref="CommandHelp"/>).</summary>
public sealed class HelpTests
{
    public static TheoryData<string> Commands() => CommandHelp.Paths(Program.CreateApp);

    [Fact]
    public void Commands_CommandTree_HoldsTheKnownCommands()
    {
        var commands = CommandHelp.List(Program.CreateApp);

        Assert.Contains("evaluation", commands);
        Assert.Contains("pipeline", commands);
        Assert.True(commands.Count >= 6, $"only {commands.Count} commands: {string.Join(", ", commands)}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_EveryCommand_RendersWithExitCodeZeroAndNoError(string command) => CommandHelp.AssertRenders(Program.CreateApp, command);
}
