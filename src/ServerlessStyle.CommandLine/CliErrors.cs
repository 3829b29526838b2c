namespace ServerlessStyle.CommandLine;

/// <summary>Turns any failure into one clear line on standard error and a non-zero exit code, never a stack trace.</summary>
public static class CliErrors
{
    /// <summary>
    /// Prints the failure and returns the exit code: 2 for a command line that does not parse (an unknown option names
    /// the nearest one that <paramref name="commands"/> (the command-line program's assembly) declares), 130 when stopped, else 1.
    /// </summary>
    public static int Report(Exception exception, System.Reflection.Assembly commands)
    {
        // An AggregateException of one failure, or of the storage SDK's retries (each try the same failure): the first says why.
        var root = exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0] : exception;
        var message = root switch
        {
            OperationCanceledException => "stopped.",
            Spectre.Console.Cli.CommandParseException parse => UnknownOptions.Describe(parse, commands),
            Spectre.Console.Cli.CommandAppException => root.Message,
            _ => root.Message,
        };
        // Named after the program that failed (serverless-style or serverless-style-bench). A storage error may quote
        // the connection string or a signed URL: its key is never printed.
        Console.Error.WriteLine($"{commands.GetName().Name}: {Secrets.Redact(message)}");
        if (Environment.GetEnvironmentVariable("SERVERLESS_STYLE_DEBUG") == "1")
        {
            Console.Error.WriteLine(Secrets.Redact(root.ToString()));
        }

        return root switch
        {
            OperationCanceledException => 130,
            Spectre.Console.Cli.CommandParseException => UnknownOptions.ExitCode,
            _ => 1,
        };
    }
}
