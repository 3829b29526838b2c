namespace ServerlessStyle.Cli.Commands;

/// <summary>Turns any failure into one clear line on standard error and a non-zero exit code, never a stack trace.</summary>
internal static class CliErrors
{
    public static int Report(Exception exception)
    {
        // An AggregateException of one failure, or of the storage SDK's retries (each try the same failure): the first says why.
        var root = exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0] : exception;
        var message = root switch
        {
            OperationCanceledException => "stopped.",
            Spectre.Console.Cli.CommandAppException => root.Message,
            _ => root.Message,
        };
        // A storage error may quote the connection string or a signed URL: its key is never printed.
        Console.Error.WriteLine($"serverless-style: {Local.Secrets.Redact(message)}");
        if (Environment.GetEnvironmentVariable("SERVERLESS_STYLE_DEBUG") == "1")
        {
            Console.Error.WriteLine(Local.Secrets.Redact(root.ToString()));
        }

        return root is OperationCanceledException ? 130 : 1;
    }
}
