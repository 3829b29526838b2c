using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary><c>run</c>: the local runner (issue 6).</summary>
internal sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine("serverless-style: the local runner is not built yet (see the open issues).");
        return 2;
    }
}
