using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ServerlessStyle.Cli.Local;

/// <summary>Thrown when the runner cannot start or reach its own Azurite; the message says what to do.</summary>
public sealed class LocalAzuriteException(string message) : Exception(message);

/// <summary>
/// An azurite-blob process the runner started itself from the checkout's node_modules: 127.0.0.1, a free port, a
/// persistent data folder (so <c>run --resume</c> finds the blobs of an earlier run). Disposing stops exactly this
/// process, never another Azurite.
/// </summary>
public sealed class LocalAzurite : IDisposable
{
    // Azurite's well-known development account; it only ever listens on 127.0.0.1 here.
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;

    private LocalAzurite(Process process, int port, string location)
    {
        _process = process;
        Port = port;
        Location = location;
    }

    /// <summary>The default data folder: ~/.serverless-style/azurite.</summary>
    public static string DefaultLocation =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".serverless-style", "azurite");

    public int Port { get; }

    /// <summary>Where Azurite keeps its blobs between runs.</summary>
    public string Location { get; }

    public string ConnectionString => ConnectionStringFor(Port);

    /// <summary>The development account's connection string for a blob endpoint on 127.0.0.1:<paramref name="port"/>.</summary>
    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    /// <summary>
    /// Starts azurite-blob (installing Azurite first when the checkout has none, saying so on <paramref name="notes"/>)
    /// and waits (up to <paramref name="timeout"/>) until it accepts connections.
    /// </summary>
    public static async Task<LocalAzurite> StartAsync(string location, TimeSpan timeout, TextWriter notes, CancellationToken cancellationToken = default)
    {
        const string Program = "azurite-blob";
        var azurite = Path.Combine(await AzuriteInstall.FindOrInstallAsync([Program], notes, cancellationToken).ConfigureAwait(false), Program);
        Directory.CreateDirectory(location);
        var port = FreePort();
        var start = new ProcessStartInfo(azurite)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --disableTelemetry: without it Azurite phones home and does not stop promptly (DESIGN.md section 7).
        foreach (var argument in new[]
                 {
                     "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--location", location, "--disableTelemetry", "--skipApiVersionCheck", "--silent",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new LocalAzuriteException($"could not start {azurite}.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new LocalAzurite(process, port, location);
        try
        {
            await started.WaitUntilListeningAsync(timeout, output, cancellationToken).ConfigureAwait(false);
            return started;
        }
        catch
        {
            started.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            // Only this process: a Ctrl-C in a terminal may already have stopped it, and other Azurites are not ours.
            // SIGTERM first: Azurite saves its blob index on a graceful stop, and --resume needs it in the next run.
            if (!_process.HasExited && !OperatingSystem.IsWindows() && Terminate(_process.Id, SigTerm) == 0)
            {
                _process.WaitForExit(10_000);
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }

        _process.Dispose();
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout, System.Text.StringBuilder output, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                string log;
                lock (output)
                {
                    log = output.ToString().Trim();
                }

                throw new LocalAzuriteException($"Azurite exited at start (code {_process.ExitCode}): {log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                throw new LocalAzuriteException($"Azurite did not answer on 127.0.0.1:{Port} within {timeout.TotalSeconds:0} s.");
            }
        }
    }
}
