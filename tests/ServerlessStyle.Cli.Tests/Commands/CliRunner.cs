using System.Text.Json;
using ServerlessStyle.Tests.Shared;

// Console redirection is process-wide, and other test classes of this assembly capture it too: run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>Runs the real command tree in-process with standard output and error captured.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Out, string Error) Run(params string[] args) => AppRunner.Run(Program.CreateApp, args);

    /// <summary>Runs a command that must succeed and print one JSON object.</summary>
    public static JsonElement RunJson(params string[] args) => AppRunner.RunJson(Program.CreateApp, args);
}
