namespace ServerlessStyle.Cli;

/// <summary>Entry point of the local runner and engine tools.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("serverless-style: the local runner is not built yet (see the open issues).");
        return 2;
    }
}
