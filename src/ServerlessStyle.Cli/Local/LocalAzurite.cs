using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ServerlessStyle.Cli.Local;

/// <summary>Thrown when the runner cannot start or reach its own Azurite; the message says what to do.</summary>
public sealed class LocalAzuriteException(string message) : Exception(message);

/// <summary>
/// The runner's own Azurite: blob, queue and table (the durable task hub needs all three) in one process from the
/// checkout's node_modules (installed first when missing, see <see cref="AzuriteInstall"/>), on 127.0.0.1 and free ports, with its data in a persistent folder so that a job, its blobs
/// and its task hub outlive the process. One Azurite per folder: a command that finds one already running there (a
/// <c>run</c> in another terminal, a detached job's) uses it instead of starting a second, and leaves it alone.
/// Azurite runs in a session of its own, so a Ctrl-C in the terminal reaches the runner only, which then stops its
/// worker while the storage is still up, and stops Azurite last.
/// </summary>
public sealed class LocalAzurite : IDisposable
{
    // Azurite's well-known development account; it only ever listens on 127.0.0.1 here.
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string Program = "azurite";
    private const string StateFile = "serverless-style-azurite.json";
    private const string LockFile = "serverless-style-azurite.lock";
    private const int SigTerm = 15;

    private readonly State _state;
    private bool _keepRunning;

    private LocalAzurite(State state, string location, bool started)
    {
        _state = state;
        Location = location;
        Started = started;
    }

    /// <summary>The default data folder: ~/.serverless-style/azurite.</summary>
    public static string DefaultLocation =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".serverless-style", "azurite");

    public int BlobPort => _state.BlobPort;

    public int QueuePort => _state.QueuePort;

    public int TablePort => _state.TablePort;

    public int ProcessId => _state.Pid;

    /// <summary>Where Azurite keeps its blobs, queues and tables between runs.</summary>
    public string Location { get; }

    /// <summary>True when this process started it (and stops it when disposed, unless told to keep it running).</summary>
    public bool Started { get; }

    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    /// <summary>The line the commands print: where the storage is, never its key.</summary>
    public string Description =>
        $"Azurite on 127.0.0.1:{BlobPort} (blob), {QueuePort} (queue), {TablePort} (table), data in {Location}" +
        (Started ? "" : $", already running (pid {ProcessId})");

    /// <summary>The development account's connection string for Azurite's three endpoints on 127.0.0.1.</summary>
    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + DevelopmentKey +
        $";BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";

    /// <summary>
    /// Uses the Azurite already running on <paramref name="location"/>, else starts one (installing Azurite first when the
    /// checkout has none, saying so on <paramref name="notes"/>) and waits (up to <paramref name="timeout"/>) until its
    /// three endpoints accept connections.
    /// </summary>
    public static async Task<LocalAzurite> StartAsync(string location, TimeSpan timeout, TextWriter notes, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(location);
        // Two commands starting at once would otherwise start two Azurites on one folder; the second waits and attaches.
        using var startLock = await LockAsync(Path.Combine(location, LockFile), timeout, cancellationToken).ConfigureAwait(false);
        var previous = ReadState(location);
        if (previous is not null && IsAzurite(previous.Pid))
        {
            if (await AnswersAsync(previous, cancellationToken).ConfigureAwait(false))
            {
                return new LocalAzurite(previous, location, started: false);
            }

            // Alive but not listening: an Azurite that is stopping and saving its data; a second one on the same folder now
            // would read half-written files.
            await WaitForExitAsync(previous.Pid, timeout, cancellationToken).ConfigureAwait(false);
        }

        var bin = await AzuriteInstall.FindOrInstallAsync([Program], notes, cancellationToken).ConfigureAwait(false);

        // The ports of the last run when they are free: the task hub may hold blob addresses from then.
        var ports = previous is not null && new[] { previous.BlobPort, previous.QueuePort, previous.TablePort }.All(IsFree)
            ? (previous.BlobPort, previous.QueuePort, previous.TablePort)
            : FreePorts();
        var log = Path.Combine(location, "azurite.log");
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // setsid: a session of its own, out of reach of the terminal's Ctrl-C; the redirections: no pipe to this process,
        // which may end first (--detach). --disableTelemetry: without it Azurite phones home and does not stop promptly.
        foreach (var argument in new[]
                 {
                     "-c", "exec setsid \"$0\" \"$@\" >>\"$AZURITE_LOG\" 2>&1 </dev/null", Path.Combine(bin, Program),
                     "--blobHost", "127.0.0.1", "--blobPort", Port(ports.Item1),
                     "--queueHost", "127.0.0.1", "--queuePort", Port(ports.Item2),
                     "--tableHost", "127.0.0.1", "--tablePort", Port(ports.Item3),
                     "--location", location, "--disableTelemetry", "--skipApiVersionCheck", "--silent",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AZURITE_LOG"] = log;
        using var process = Process.Start(start) ?? throw new LocalAzuriteException($"could not start {Path.Combine(bin, Program)}.");
        var state = new State(process.Id, ports.Item1, ports.Item2, ports.Item3);
        var started = new LocalAzurite(state, location, started: true);
        try
        {
            await started.WaitUntilListeningAsync(process, timeout, log, cancellationToken).ConfigureAwait(false);
            File.WriteAllText(Path.Combine(location, StateFile), JsonSerializer.Serialize(state));
            return started;
        }
        catch
        {
            started.Dispose();
            throw;
        }
    }

    /// <summary>Leaves Azurite running after this process ends (a detached job needs its storage).</summary>
    public void KeepRunning() => _keepRunning = true;

    public void Dispose()
    {
        if (!Started || _keepRunning)
        {
            return;
        }

        // SIGTERM: Azurite saves its blob, queue and table indexes and exits on its own. It may take seconds (it waits for
        // this process's keep-alive connections, which end when this process does), so this does not wait for it: the
        // next command that finds its pid still alive waits for it to go before starting a new Azurite on the folder.
        if (IsAzurite(ProcessId))
        {
            Terminate(ProcessId, SigTerm);
        }
    }

    /// <summary>
    /// Stops the Azurite this process started and waits until it has saved its data and exited (a test that deletes
    /// the data folder next); false when it is still running after <paramref name="timeout"/>.
    /// </summary>
    public bool StopAndWait(TimeSpan timeout)
    {
        Dispose();
        var clock = Stopwatch.StartNew();
        while (Started && !_keepRunning && IsAzurite(ProcessId))
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(50);
        }

        return true;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// True while <paramref name="pid"/> is a live Azurite (a recycled pid of another program, or a zombie that exited and
    /// was not reaped yet, is not).
    /// </summary>
    private static bool IsAzurite(int pid)
    {
        try
        {
            var status = File.ReadAllText($"/proc/{pid}/stat");
            var state = status[(status.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(Program, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (IsAzurite(pid))
        {
            if (clock.Elapsed > timeout)
            {
                throw new LocalAzuriteException($"the Azurite of an earlier command (pid {pid}) neither answers nor exits; stop it (kill {pid}) and run again.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static State? ReadState(string location)
    {
        try
        {
            return JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(location, StateFile)));
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private static async Task<bool> AnswersAsync(State state, CancellationToken cancellationToken)
    {
        foreach (var port in new[] { state.BlobPort, state.QueuePort, state.TablePort })
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<FileStream> LockAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                throw new LocalAzuriteException($"another command is starting Azurite in {Path.GetDirectoryName(path)} and did not finish within {timeout.TotalSeconds:0} s.");
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int, int, int) FreePorts()
    {
        // Held open together, so the three are distinct.
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);

    private async Task WaitUntilListeningAsync(Process process, TimeSpan timeout, string log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                var tail = File.Exists(log) ? File.ReadLines(log).TakeLast(3) : [];
                throw new LocalAzuriteException($"Azurite exited at start (code {process.ExitCode}): {string.Join(" ", tail)} (log: {log})");
            }

            if (await AnswersAsync(_state, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new LocalAzuriteException($"Azurite did not answer on 127.0.0.1:{BlobPort}/{QueuePort}/{TablePort} within {timeout.TotalSeconds:0} s (log: {log}).");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record State(int Pid, int BlobPort, int QueuePort, int TablePort);
}
