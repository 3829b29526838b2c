using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The StyleJob and StylePair orchestrations and their activities on Durable Task's in-memory engine, in this process:
/// the same code the Functions app hosts, with the services of <see cref="ServiceCollectionExtensions.AddServerlessStyle"/>.
/// The engine keeps no history across processes; that is enough because every checkpoint lives in blobs and every
/// activity is idempotent, so a job scheduled again with the same id finds its finished chunks and reuses them.
/// </summary>
public sealed class LocalDurableHost : IAsyncDisposable
{
    // After Ctrl-C the running chunk is abandoned: its checkpoint is written last, so nothing half-done is kept.
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private const string SidecarLogLevel = "Logging__LogLevel__Default";

    private readonly DurableTaskTestHost _host;

    private LocalDurableHost(DurableTaskTestHost host) => _host = host;

    public DurableTaskClient Client => _host.Client;

    /// <summary>
    /// Starts the engine; <paramref name="configuration"/> holds the ServerlessStyle:* settings (storage, engine, limits),
    /// and <paramref name="configureServices"/> may replace or wrap services after them (a benchmark times the work).
    /// </summary>
    public static async Task<LocalDurableHost> StartAsync(
        IConfiguration configuration, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        SilenceSidecar();
        var host = await DurableTaskTestHost.StartAsync(
            registry => registry.AddStyleWorkflow(),
            new DurableTaskTestHostOptions
            {
                // A free port chosen here, not the host's random guess in 30000-40000, which may be taken.
                Port = FreePort(),
                LoggerFactory = NullLoggerFactory.Instance,
                ConfigureServices = services =>
                {
                    services.AddSingleton(configuration);
                    // No log providers: the progress display is the user interface; failures come back in the job summary.
                    services.AddLogging();
                    services.AddServerlessStyle();
                    configureServices?.Invoke(services);
                },
            },
            cancellationToken).ConfigureAwait(false);
        return new LocalDurableHost(host);
    }

    /// <summary>Schedules StyleJob with the job's own id (a fresh engine has no instance of it yet).</summary>
    public Task<StartedJob> ScheduleAsync(JobInput input, CancellationToken cancellationToken = default) =>
        StyleJobClient.StartAsync(Client, input, cancellationToken);

    /// <summary>The job's progress: its state and, per pair, the latest iteration, loss and image.</summary>
    public Task<JobProgress?> GetProgressAsync(string jobId, CancellationToken cancellationToken = default) =>
        StyleJobClient.GetProgressAsync(Client, jobId, cancellationToken);

    /// <summary>Schedules a job and waits for its end: its summary (Completed or Failed with the reason).</summary>
    public async Task<JobSummary> RunToEndAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        await ScheduleAsync(input, cancellationToken).ConfigureAwait(false);
        var job = await Client.WaitForInstanceCompletionAsync(input.JobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        return job.RuntimeStatus == OrchestrationRuntimeStatus.Completed
            ? job.ReadOutputAs<JobSummary>() ?? throw new InvalidOperationException($"Job {input.JobId} completed without a summary.")
            : new JobSummary(input.JobId, JobState.Failed, job.FailureDetails?.ErrorMessage ?? $"the orchestration ended {job.RuntimeStatus}", []);
    }

    /// <summary>
    /// The engine's gRPC sidecar is a default generic host that logs every request to the console and reads its logging
    /// levels only from configuration (environment variables); this silences it unless the user chose a level.
    /// </summary>
    private static void SilenceSidecar()
    {
        if (Environment.GetEnvironmentVariable(SidecarLogLevel) is null)
        {
            Environment.SetEnvironmentVariable(SidecarLogLevel, "None");
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        var stop = _host.DisposeAsync().AsTask();
        await Task.WhenAny(stop, Task.Delay(StopTimeout)).ConfigureAwait(false);
    }
}
