using System.Diagnostics;
using System.Text;
using ServerlessStyle.Cli.Local;

namespace ServerlessStyle.Cli.Tests;

/// <summary>Runs the CLI in this process (stderr captured) or as a child process of the built serverless-style.dll.</summary>
internal static class CliProcess
{
    /// <summary>One test at a time may swap the process-wide console writers.</summary>
    private static readonly SemaphoreSlim ConsoleLock = new(1, 1);

    public static async Task<(int ExitCode, string Output, string Error)> RunInProcessAsync(params string[] args)
    {
        await ConsoleLock.WaitAsync();
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await Task.Run(() => Program.CreateApp().Run(args));
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            ConsoleLock.Release();
        }
    }

    /// <summary>
    /// Starts <c>dotnet serverless-style.dll args</c> in <paramref name="folder"/> (default: this one), with
    /// <paramref name="environment"/> changed (a null value removes a variable); standard output and error are collected
    /// as they come.
    /// </summary>
    public static Child Start(string[] args, string? folder = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // The host by its full path, so that a test may take dotnet (and node) off the child's PATH.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder ?? Directory.GetCurrentDirectory(),
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "serverless-style.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new Child(Process.Start(start)!);
    }

    /// <summary>The storage the CLI will use here: the test run's Azurite, else the one it starts itself.</summary>
    public static string? EnvironmentStorage =>
        Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } connection ? connection : null;

    /// <summary>A child CLI process.</summary>
    public sealed class Child : IDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly StringBuilder _error = new();

        public Child(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (_error) { _error.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        /// <summary>Waits for the child to exit (killing it after <paramref name="timeout"/>) and returns its exit code.</summary>
        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await Process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the CLI did not exit within {timeout}; output: {Output}; error: {Error}");
            }

            // The asynchronous readers may still hold the last lines; this overload waits for them.
            Process.WaitForExit();
            return Process.ExitCode;
        }

        public string Output { get { lock (_output) { return _output.ToString(); } } }

        public string Error { get { lock (_error) { return _error.ToString(); } } }

        /// <summary>Waits until a line of standard output starts with <paramref name="prefix"/>; returns the rest of it.</summary>
        public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout && !Process.HasExited)
            {
                var line = Output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[prefix.Length..];
                }

                await Task.Delay(100);
            }

            throw new TimeoutException($"no line '{prefix}...' within {timeout}; output: {Output}; error: {Error}");
        }

        /// <summary>The connection string the child uses: from its "storage:" line when it started its own Azurite.</summary>
        public async Task<string> StorageAsync(TimeSpan timeout)
        {
            if (EnvironmentStorage is { } connection)
            {
                return connection;
            }

            var line = await WaitForLineAsync("storage: Azurite on 127.0.0.1:", timeout);
            return LocalAzurite.ConnectionStringFor(int.Parse(line.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }
}
