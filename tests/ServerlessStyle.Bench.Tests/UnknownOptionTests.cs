using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary>Every command of serverless-style-bench rejects an option it does not declare, instead of running without it.</summary>
public sealed class UnknownOptionTests
{
    public static TheoryData<string> Commands() => HelpTests.Commands();

    [Theory]
    [MemberData(nameof(Commands))]
    public void UnknownOption_EveryCommand_FailsWithExitCodeTwoAndOneLineNamingIt(string command)
    {
        var (code, output, error) = AppRunner.Run(Program.CreateApp, [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--no-such-option", "1"]);

        Assert.True(code == 2, $"'{command} --no-such-option': exit {code}; output: {output}; error: {error}");
        Assert.Equal("serverless-style-bench: unknown option --no-such-option.", error.TrimEnd('\n'));
    }

    [Fact]
    public void UnknownOption_CloseToAnEngineOption_SuggestsIt()
    {
        // --provider is declared by the CLI's engine settings, which the bench's commands inherit.
        var (code, _, error) = AppRunner.Run(Program.CreateApp, "evaluation", "--providr", "cpu");

        Assert.Equal(2, code);
        Assert.Equal("serverless-style-bench: unknown option --providr; did you mean --provider?", error.TrimEnd('\n'));
    }
}
