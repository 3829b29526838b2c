using System.Text.Json;
using Spectre.Console.Cli;

namespace ServerlessStyle.Tests.Shared;

/// <summary>Runs a real command tree (the CLI's, the benchmarks') in-process with standard output and error captured.</summary>
internal static class AppRunner
{
    public static (int ExitCode, string Out, string Error) Run(Func<CommandApp> createApp, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (createApp().Run(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }

    /// <summary>Runs a command that must succeed and print one JSON object.</summary>
    public static JsonElement RunJson(Func<CommandApp> createApp, params string[] args)
    {
        var (code, output, error) = Run(createApp, args);
        Assert.True(code == 0, $"exit {code}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
