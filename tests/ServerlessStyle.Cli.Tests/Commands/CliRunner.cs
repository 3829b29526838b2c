using System.Text.Json;

// Console redirection is process-wide, and other test classes of this assembly capture it too: run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>Runs the real command tree in-process with standard output and error captured.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (Program.CreateApp().Run(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }

    /// <summary>Runs a command that must succeed and print one JSON object.</summary>
    public static JsonElement RunJson(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, $"exit {code}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
