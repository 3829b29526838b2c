using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;
using ServerlessStyle.Core.Workflow;
using Spectre.Console;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// One <c>run</c>: checks the input, finds or starts storage, uploads the images, runs the StyleJob orchestration on
/// the in-process durable engine with live progress, downloads the results, and on Ctrl-C says how to resume.
/// </summary>
internal sealed class LocalRun(IAnsiConsole console, TextWriter output, TextWriter error)
{
    private const string ResumeCommand = "dotnet run --project src/ServerlessStyle.Cli -- run --resume";

    private static readonly StorageOptions Containers = new();

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

        var jobId = plan?.Input.JobId ?? settings.Resume!;
        var (connection, azurite) = await ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
        LocalDurableHost? host = null;
        JobViewServer? viewer = null;
        try
        {
            var store = new BlobStore(BlobClients.FromConnectionString(connection));
            if (plan is null)
            {
                var jobJson = await store.TryDownloadAsync(Containers.Container(Containers.Results), BlobLayout.JobJson(jobId), cancellationToken).ConfigureAwait(false)
                    ?? throw new CliUsageException($"--resume {jobId}: no results/{BlobLayout.JobJson(jobId)} in this storage (the job never started, or another --storage holds it).");
                plan = RunPlan.Resume(jobId, jobJson.Content.ToString(), settings.Network, workflow);
            }
            else
            {
                // The same lookup as the engine's (AddServerlessStyle): models container of this storage, then local store.
                var models = new ModelContainer(store.Service.GetBlobContainerClient(Containers.Container(Containers.Models)), ModelContainer.DefaultCacheFolder);
                plan = await plan.ResolveAutoAsync(new NetworkResolver(new Core.Networks.ModelStore(Core.Networks.ModelStore.DefaultFolder), models), cancellationToken).ConfigureAwait(false);
                await UploadAsync(store, plan.Uploads, cancellationToken).ConfigureAwait(false);
                await WriteSubmittedAsync(store, plan.Input, cancellationToken).ConfigureAwait(false);
            }

            if (plan.NetworkNote is not null)
            {
                output.WriteLine(plan.NetworkNote);
            }

            output.WriteLine($"job: {jobId}");
            if (settings.Serve is { IsSet: true } serve)
            {
                viewer = await JobViewServer.StartAsync(store, Containers, serve.Value, cancellationToken).ConfigureAwait(false);
                output.WriteLine($"view: {viewer.ViewUri(jobId)}");
            }

            host = await LocalDurableHost.StartAsync(Configuration(connection, settings, plan.EngineNetwork), cancellationToken).ConfigureAwait(false);
            await host.ScheduleAsync(plan.Input, cancellationToken).ConfigureAwait(false);
            var progress = await RunProgress.FollowAsync(console, ct => host.GetProgressAsync(jobId, ct), cancellationToken).ConfigureAwait(false);
            var code = await FinishAsync(store, progress, settings.Out, cancellationToken).ConfigureAwait(false);
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

        var azurite = await LocalAzurite.StartAsync(LocalAzurite.DefaultLocation, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"storage: Azurite on 127.0.0.1:{azurite.Port}, blobs in {azurite.Location}");
        return (azurite.ConnectionString, azurite);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static IConfiguration Configuration(string connection, RunCommand.Settings settings, string engineNetwork) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = connection,
            ["ServerlessStyle:Engine:Network"] = engineNetwork,
            ["ServerlessStyle:Engine:Preprocess"] = settings.Preprocess,
            ["ServerlessStyle:Engine:Provider"] = settings.Provider,
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        }).Build();

    private static async Task UploadAsync(BlobStore store, IReadOnlyList<UploadFile> uploads, CancellationToken cancellationToken)
    {
        var container = Containers.Container(Containers.Uploads);
        await store.EnsureContainerAsync(container, cancellationToken).ConfigureAwait(false);
        foreach (var upload in uploads)
        {
            // The request names "uploads/{path}"; inside the container the blob is {path}.
            var name = upload.Blob["uploads/".Length..];
            await store.UploadAsync(container, name, BinaryData.FromBytes(upload.Bytes), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records the request before the engine starts, so a job stopped even before ValidateJob ran can be resumed;
    /// ValidateJob rewrites job.json with the same request and its pairs.
    /// </summary>
    private static async Task WriteSubmittedAsync(BlobStore store, JobInput input, CancellationToken cancellationToken)
    {
        var results = Containers.Container(Containers.Results);
        await store.EnsureContainerAsync(results, cancellationToken).ConfigureAwait(false);
        var job = new JsonObject
        {
            ["jobId"] = input.JobId,
            ["state"] = "Submitted",
            ["request"] = JsonSerializer.SerializeToNode(input.Request, JobRequestParser.JsonOptions),
        };
        await store.UploadAsync(results, BlobLayout.JobJson(input.JobId), BinaryData.FromString(job.ToJsonString()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies every blob under {jobId}/ in <paramref name="container"/> to <paramref name="folder"/>, keeping the path below the job.</summary>
    private static async Task DownloadAsync(BlobStore store, string container, string jobId, string folder, CancellationToken cancellationToken)
    {
        var prefix = BlobLayout.ResultsPrefix(jobId);
        foreach (var name in await store.ListAsync(container, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (await store.TryDownloadAsync(container, name, cancellationToken).ConfigureAwait(false) is { } blob)
            {
                var path = Path.Combine(folder, name[prefix.Length..]);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllBytesAsync(path, blob.Content.ToArray(), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<int> FinishAsync(BlobStore store, JobProgress progress, string outFolder, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(Path.Combine(outFolder, progress.JobId));
        await DownloadAsync(store, Containers.Container(Containers.Results), progress.JobId, folder, cancellationToken).ConfigureAwait(false);

        // The inputs too (the drawn samples included), so the folder shows what went in next to what came out.
        await DownloadAsync(store, Containers.Container(Containers.Uploads), progress.JobId, Path.Combine(folder, "inputs"), cancellationToken).ConfigureAwait(false);

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
