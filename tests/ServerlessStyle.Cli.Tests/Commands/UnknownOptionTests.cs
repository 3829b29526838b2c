using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>Every command of serverless-style rejects an option it does not declare, instead of running without it.</summary>
public sealed class UnknownOptionTests
{
    public static TheoryData<string> Commands() => HelpTests.Commands();

    [Theory]
    [MemberData(nameof(Commands))]
    public void UnknownOption_EveryCommand_FailsWithExitCodeTwoAndOneLineNamingIt(string command)
    {
        var (code, output, error) = CliRunner.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--no-such-option", "1"]);

        Assert.True(code == 2, $"'{command} --no-such-option': exit {code}; output: {output}; error: {error}");
        Assert.Equal("serverless-style: unknown option --no-such-option.", error.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("run --iteration 50 --height 32", "--iteration", "--iterations")]
    [InlineData("jobs list --storag x", "--storag", "--storage")]
    [InlineData("worker --task-hubb x", "--task-hubb", "--task-hub")]
    public void UnknownOption_CloseToAKnownOne_SuggestsIt(string commandLine, string typed, string meant)
    {
        var (code, _, error) = CliRunner.Run(commandLine.Split(' '));

        Assert.Equal(2, code);
        Assert.Equal($"serverless-style: unknown option {typed}; did you mean {meant}?", error.TrimEnd('\n'));
    }
}
