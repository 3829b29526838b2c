using System.Globalization;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Cli.Viewer;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;
using Spectre.Console;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// One <c>run</c>: checks the input, finds or starts storage, uploads the images, submits the StyleJob orchestration to
/// the durable task hub, works on it with a worker in this process (unless <c>--workers 0</c> or <c>--detach</c>),
/// follows it with live progress, downloads the results, and on Ctrl-C says how the job goes on.
/// </summary>
internal sealed class LocalRun(IAnsiConsole console, TextWriter output, TextWriter error)
{
    /// <summary>The code <see cref="RunAsync"/> returns when a signal stopped it; the command maps it to 130 or 143.</summary>
    public const int Interrupted = 130;

    private const string Command = "dotnet run --project src/ServerlessStyle.Cli --";

    public async Task<int> RunAsync(RunCommand.Settings settings, CancellationToken cancellationToken = default)
    {
        var workflow = new WorkflowOptions().ToSettings();
        RunPlan? plan = null;
        if (settings.Resume is null)
        {
            // Everything the user typed is checked before any storage is touched.
            plan = RunPlan.Create(settings, NewJobId(), workflow);
        }
        else if (!JobIds.IsValid(settings.Resume))
        {
            throw new CliUsageException($"--resume '{settings.Resume}' is not a job id (lowercase letters, digits and '-').");
        }

        RunPlan.CheckWritable(settings.Out);

        // Resolved here, once and before storage: the engine then builds every session on the provider named here.
        var provider = ProviderChoice.Resolve(settings.Provider, settings.Verbose, output).ToString().ToLowerInvariant();
        var jobId = plan?.Input.JobId ?? settings.Resume!;
        using var storage = await StorageChoice.ResolveAsync(settings.Storage, output, cancellationToken).ConfigureAwait(false);
        // Outlives the try below: the job page, disposed in its finally, reads through these services.
        await using var services = new ServiceCollection().AddServerlessStyle(storage.ConnectionString).BuildServiceProvider();
        LocalDurableHost? host = null;
        JobViewServer? viewer = null;
        var hub = settings.TaskHub;
        NetworkSpec? configuredNetwork = null;
        try
        {
            var blobs = services.GetRequiredService<JobStorage>();
            if (plan is null)
            {
                var job = await ReadJobAsync(blobs, jobId, cancellationToken).ConfigureAwait(false)
                    ?? throw new CliUsageException($"--resume {jobId}: no results/{BlobLayout.JobJson(jobId)} in this storage (the job never started, or another --storage holds it).");
                plan = RunPlan.Resume(job, workflow);
                if (RunPlan.ResumedNetwork(plan.Input, settings.Network) is { } network)
                {
                    configuredNetwork = network;
                    plan = plan with { NetworkNote = $"network: {network} (the job's request says auto)" };
                }
            }
            else
            {
                // The engine's own lookup: the models container of this storage, then the local store.
                plan = await plan.ResolveAutoAsync(services.GetRequiredService<NetworkResolver>(), cancellationToken).ConfigureAwait(false);
                foreach (var upload in plan.Uploads)
                {
                    await blobs.Inputs.UploadAsync(upload.Blob, BinaryData.FromBytes(upload.Bytes), cancellationToken).ConfigureAwait(false);
                }

                // Recorded before the job is submitted, so a job stopped even before ValidateJob ran can be resumed.
                await blobs.Documents.UpdateAsync(jobId, job => job ?? JobDocument.Submitted(jobId, plan.Input.Request), cancellationToken).ConfigureAwait(false);
            }

            if (plan.NetworkNote is not null)
            {
                output.WriteLine(plan.NetworkNote);
            }

            var configuration = Configuration(storage, settings, provider, configuredNetwork);
            hub = DurableHubOptions.From(configuration).TaskHub;
            var working = settings.Workers > 0 && !settings.Detach;
            host = working
                ? await LocalDurableHost.StartAsync(configuration, cancellationToken: cancellationToken).ConfigureAwait(false)
                : LocalDurableHost.Connect(configuration);
            var start = await host.ScheduleOrResumeAsync(plan.Input, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"job: {jobId}");
            output.WriteLine($"task hub: {hub} (the job {Describe(start)})");
            if (settings.Detach)
            {
                return Detach(storage, jobId, hub);
            }

            if (working)
            {
                await NoteOtherJobsAsync(host, jobId, hub, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                output.WriteLine($"no worker in this process: the job runs on the task hub's workers (serverless-style worker{storage.StorageArgument} --task-hub {hub}).");
            }

            if (settings.Serve is { IsSet: true } serve)
            {
                viewer = await JobViewServer.StartAsync(blobs, serve.Value, cancellationToken).ConfigureAwait(false);
                output.WriteLine($"view: {viewer.ViewUri(jobId)}");
            }

            var progress = await FollowAsync(host, jobId, cancellationToken).ConfigureAwait(false);
            await JobResults.DownloadAsync(blobs, progress, settings.Out, output, cancellationToken).ConfigureAwait(false);
            var code = JobResults.Outcome(progress, error);
            if (viewer is not null)
            {
                output.WriteLine($"still serving {viewer.ViewUri(jobId)}; press Ctrl-C to stop.");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return code;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var where = storage.Azurite is null ? "" : $" (kept in {storage.Azurite.Location})";
            var hubArgument = hub is null || hub == DurableHubOptions.DefaultTaskHub ? "" : $" --task-hub {hub}";
            error.WriteLine($"serverless-style: stopped. Job {jobId} keeps its finished iterations{where} and goes on whenever a worker of its task hub runs; follow it and work on it with:");
            error.WriteLine($"  {Command} run --resume {jobId}{storage.StorageArgument}{hubArgument}");
            return Interrupted;
        }
        finally
        {
            if (viewer is not null)
            {
                await viewer.DisposeAsync().ConfigureAwait(false);
            }

            // The worker stops before the storage it needs to hand its chunk back (StorageChoice stops Azurite last).
            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string Describe(JobStart start) => start switch
    {
        JobStart.Scheduled => "is submitted",
        JobStart.Running => "was running already",
        JobStart.Restarted => "starts again from its checkpoints",
        _ => "completed earlier",
    };

    private static string NewJobId() =>
        string.Create(CultureInfo.InvariantCulture, $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");

    /// <summary>Polls the job's progress until it ends; a worker of this process that fails (storage gone) ends the wait with its reason.</summary>
    private async Task<JobProgress> FollowAsync(LocalDurableHost host, string jobId, CancellationToken cancellationToken)
    {
        using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var follow = RunProgress.FollowAsync(console, ct => host.GetProgressAsync(jobId, ct), stopFollowing.Token);
        if (await Task.WhenAny(follow, host.Completion).ConfigureAwait(false) == follow)
        {
            return await follow.ConfigureAwait(false);
        }

        await stopFollowing.CancelAsync().ConfigureAwait(false);
        try
        {
            await host.Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new DurableHubException($"the worker stopped: {e.Message}", e);
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new DurableHubException("the worker stopped before the job ended.");
    }

    /// <summary>The detached job's id is the last line of standard output; the runner's own Azurite stays up for it.</summary>
    private int Detach(StorageChoice storage, string jobId, string hub)
    {
        var hubArgument = hub == DurableHubOptions.DefaultTaskHub ? "" : $" --task-hub {hub}";
        if (storage.Azurite is { } azurite)
        {
            azurite.KeepRunning();
            output.WriteLine($"storage: Azurite (pid {azurite.ProcessId}) keeps running for the job; stop it with 'kill {azurite.ProcessId}' when you are done.");
        }

        output.WriteLine($"a worker runs the job: {Command} worker{storage.StorageArgument}{hubArgument}");
        output.WriteLine($"follow it: {Command} jobs wait {jobId}{storage.StorageArgument}{hubArgument} --out out");
        output.WriteLine(jobId);
        return 0;
    }

    /// <summary>A worker takes any job of its hub: say so when others are unfinished, so a slow run is not a mystery.</summary>
    private async Task NoteOtherJobsAsync(LocalDurableHost host, string jobId, string hub, CancellationToken cancellationToken)
    {
        var others = 0;
        var query = new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending] };
        await foreach (var instance in host.Client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (instance.Name == StyleOrchestrationNames.StyleJob && instance.InstanceId != jobId)
            {
                others++;
            }
        }

        if (others > 0)
        {
            output.WriteLine($"note: {others} other unfinished job(s) in task hub {hub}; this worker runs them too (serverless-style jobs list, jobs cancel JOB).");
        }
    }

    private static IConfiguration Configuration(StorageChoice storage, RunCommand.Settings settings, string provider, NetworkSpec? network)
    {
        var values = new Dictionary<string, string?>
        {
            // A new job carries --preprocess in its request; this is for a resumed job recorded before requests did.
            ["ServerlessStyle:Engine:Preprocess"] = settings.Preprocess,
            ["ServerlessStyle:Engine:Provider"] = provider,
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
            ["ServerlessStyle:Limits:AllowNetworkFiles"] = "true",
            ["ServerlessStyle:Durable:MaxConcurrentActivities"] = Math.Max(1, settings.Workers).ToString(CultureInfo.InvariantCulture),
        };
        if (network is not null)
        {
            // As worker --network: the network of the requests that say auto (here, a resumed job recorded that way).
            values["ServerlessStyle:Engine:Network"] = network.Name;
        }

        return storage.Configuration(settings.TaskHub, values);
    }

    private static async Task<JobDocument?> ReadJobAsync(JobStorage storage, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            return await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        }
        catch (JobDocumentException e)
        {
            throw new CliUsageException($"--resume {jobId}: {e.Message}", e);
        }
    }
}
