namespace ServerlessStyle.Cli.Commands;

/// <summary>Turns any failure into one clear line on standard error and a non-zero exit code, never a stack trace.</summary>
internal static class CliErrors
{
    public static int Report(Exception exception)
    {
        var root = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerException! : exception;
        var message = root switch
        {
            OperationCanceledException => "stopped.",
            Spectre.Console.Cli.CommandAppException => root.Message,
            _ => root.Message,
        };
        Console.Error.WriteLine($"serverless-style: {message}");
        if (Environment.GetEnvironmentVariable("SERVERLESS_STYLE_DEBUG") == "1")
        {
            Console.Error.WriteLine(root);
        }

        return root is OperationCanceledException ? 130 : 1;
    }
}
