using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Cli.Viewer;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;
using Spectre.Console;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// One <c>run</c>: checks the input, finds or starts storage, uploads the images, runs the StyleJob orchestration on
/// the in-process durable engine with live progress, downloads the results, and on Ctrl-C says how to resume.
/// </summary>
internal sealed class LocalRun(IAnsiConsole console, TextWriter output, TextWriter error)
{
    private const string ResumeCommand = "dotnet run --project src/ServerlessStyle.Cli -- run --resume";

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
        var (connection, azurite) = await ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
        LocalDurableHost? host = null;
        JobViewServer? viewer = null;
        try
        {
            var blobs = BlobStore.FromConnectionString(connection);
            var storage = new JobStorage(blobs, Options.Create(new StorageOptions()), NullLogger<JobStorage>.Instance);
            if (plan is null)
            {
                var job = await ReadJobAsync(storage, jobId, cancellationToken).ConfigureAwait(false)
                    ?? throw new CliUsageException($"--resume {jobId}: no results/{BlobLayout.JobJson(jobId)} in this storage (the job never started, or another --storage holds it).");
                plan = RunPlan.Resume(job, settings.Network, workflow);
            }
            else
            {
                // The same lookup as the engine's (AddServerlessStyle): the models container of this storage, then the local store.
                var models = new ModelContainer(blobs, storage.Options, ModelContainer.DefaultCacheFolder);
                plan = await plan.ResolveAutoAsync(new NetworkResolver(new ModelStore(ModelStore.DefaultFolder), models), cancellationToken).ConfigureAwait(false);
                foreach (var upload in plan.Uploads)
                {
                    await storage.Inputs.UploadAsync(upload.Blob, BinaryData.FromBytes(upload.Bytes), cancellationToken).ConfigureAwait(false);
                }

                // Recorded before the engine starts, so a job stopped even before ValidateJob ran can be resumed.
                await storage.Documents.UpdateAsync(jobId, job => job ?? JobDocument.Submitted(jobId, plan.Input.Request), cancellationToken).ConfigureAwait(false);
            }

            if (plan.NetworkNote is not null)
            {
                output.WriteLine(plan.NetworkNote);
            }

            output.WriteLine($"job: {jobId}");
            if (settings.Serve is { IsSet: true } serve)
            {
                viewer = await JobViewServer.StartAsync(storage, serve.Value, cancellationToken).ConfigureAwait(false);
                output.WriteLine($"view: {viewer.ViewUri(jobId)}");
            }

            host = await LocalDurableHost.StartAsync(Configuration(connection, settings, plan.EngineNetwork, provider), cancellationToken: cancellationToken).ConfigureAwait(false);
            await host.ScheduleAsync(plan.Input, cancellationToken).ConfigureAwait(false);
            var progress = await RunProgress.FollowAsync(console, ct => host.GetProgressAsync(jobId, ct), cancellationToken).ConfigureAwait(false);
            var code = await FinishAsync(storage, progress, settings.Out, cancellationToken).ConfigureAwait(false);
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
            var storage = azurite is null ? $" --storage \"{connection}\"" : "";
            var where = azurite is null ? "" : $" (blobs kept in {azurite.Location})";
            error.WriteLine($"serverless-style: stopped. Job {jobId} keeps its finished iterations{where}; continue it with:");
            error.WriteLine($"  {ResumeCommand} {jobId}{storage}");
            return 130;
        }
        finally
        {
            if (viewer is not null)
            {
                await viewer.DisposeAsync().ConfigureAwait(false);
            }

            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }

            azurite?.Dispose();
        }
    }

    private static string NewJobId() =>
        string.Create(CultureInfo.InvariantCulture, $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");

    /// <summary>--storage, then the environment, then an Azurite of our own.</summary>
    private async Task<(string Connection, LocalAzurite? Azurite)> ConnectAsync(RunCommand.Settings settings, CancellationToken cancellationToken)
    {
        var given = settings.Storage
            ?? NonEmpty(Environment.GetEnvironmentVariable("ServerlessStyle__Storage__ConnectionString"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING"));
        if (given is not null)
        {
            return (given, null);
        }

        var azurite = await LocalAzurite.StartAsync(LocalAzurite.DefaultLocation, TimeSpan.FromSeconds(30), output, cancellationToken).ConfigureAwait(false);
        output.WriteLine($"storage: Azurite on 127.0.0.1:{azurite.Port}, blobs in {azurite.Location}");
        return (azurite.ConnectionString, azurite);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static IConfiguration Configuration(string connection, RunCommand.Settings settings, string engineNetwork, string provider) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = connection,
            ["ServerlessStyle:Engine:Network"] = engineNetwork,
            ["ServerlessStyle:Engine:Preprocess"] = settings.Preprocess,
            ["ServerlessStyle:Engine:Provider"] = provider,
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        }).Build();

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

    /// <summary>Copies every file in <paramref name="names"/> below <paramref name="prefix"/> to <paramref name="folder"/>, keeping the path below it.</summary>
    private static async Task DownloadAsync(
        IReadOnlyList<string> names, string prefix, Func<string, CancellationToken, Task<BlobStream?>> open, string folder, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            using var blob = await open(name, cancellationToken).ConfigureAwait(false);
            if (blob is not null)
            {
                var path = Path.Combine(folder, name[prefix.Length..]);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var file = File.Create(path);
                await blob.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<int> FinishAsync(JobStorage storage, JobProgress progress, string outFolder, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(Path.Combine(outFolder, progress.JobId));
        var prefix = BlobLayout.ResultsPrefix(progress.JobId);
        var results = await storage.Results.ListAsync(progress.JobId, cancellationToken).ConfigureAwait(false);
        await DownloadAsync(results, prefix, storage.Results.TryOpenReadAsync, folder, cancellationToken).ConfigureAwait(false);

        // The inputs too (the drawn samples included), so the folder shows what went in next to what came out.
        var inputs = await storage.Inputs.ListAsync("uploads", prefix, cancellationToken).ConfigureAwait(false);
        await DownloadAsync(inputs, prefix, (name, ct) => storage.Inputs.TryOpenReadAsync($"uploads/{name}", ct), Path.Combine(folder, "inputs"), cancellationToken).ConfigureAwait(false);

        output.WriteLine($"results: {folder}");
        var summary = progress.Summary;
        foreach (var pair in summary?.Pairs ?? [])
        {
            if (pair.Result is { } result)
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"final image: {Path.Combine(folder, pair.PairId, "final.png")}  (loss {result.Loss:G6}, {result.Iterations} iterations, {result.Evaluations} evaluations)"));
            }
        }

        if (summary?.State == JobState.Completed)
        {
            return 0;
        }

        error.WriteLine($"serverless-style: job {progress.JobId} {progress.State.ToLowerInvariant()}: {summary?.Reason ?? progress.Reason ?? "no reason recorded"}");
        return 1;
    }
}
