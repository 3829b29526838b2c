using System.Globalization;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Local;

/// <summary>A finished job's files on this machine (for <c>run</c> and <c>jobs wait --out</c>) and its one-line outcome.</summary>
internal static class JobResults
{
    /// <summary>Copies results/{job}/ and the job's inputs to <paramref name="outFolder"/>/{job}/ and prints where the final images are.</summary>
    public static async Task DownloadAsync(JobStorage storage, JobProgress progress, string outFolder, TextWriter output, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(Path.Combine(outFolder, progress.JobId));
        var results = await storage.Results.ListFilesAsync(progress.JobId, cancellationToken).ConfigureAwait(false);
        await CopyAsync(results.All.Select(f => (f.Name, f.PathInJob)), storage.Results.TryOpenReadAsync, folder, cancellationToken).ConfigureAwait(false);

        // The inputs too (the drawn samples included), so the folder shows what went in next to what came out.
        var prefix = BlobLayout.UploadsPrefix(progress.JobId);
        var inputs = await storage.Inputs.ListAsync("uploads", prefix, cancellationToken).ConfigureAwait(false);
        await CopyAsync(
            inputs.Select(n => (n, n[prefix.Length..])), (name, ct) => storage.Inputs.TryOpenReadAsync($"uploads/{name}", ct), Path.Combine(folder, "inputs"), cancellationToken).ConfigureAwait(false);

        output.WriteLine($"results: {folder}");
        foreach (var pair in progress.Summary?.Pairs ?? [])
        {
            if (pair.Result is { } result)
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"final image: {Path.Combine(folder, pair.PairId, "final.png")}  (loss {result.Loss:G6}, {result.Iterations} iterations, {result.Evaluations} evaluations)"));
            }
        }
    }

    /// <summary>0 when the job completed; else 1, with the reason on <paramref name="error"/>.</summary>
    public static int Outcome(JobProgress progress, TextWriter error)
    {
        if (progress.Summary?.State == JobState.Completed)
        {
            return 0;
        }

        error.WriteLine($"serverless-style: job {progress.JobId} {progress.State.ToLowerInvariant()}: {progress.Summary?.Reason ?? progress.Reason ?? (progress.RuntimeStatus == "Terminated" ? "it was canceled" : "no reason recorded")}");
        return 1;
    }

    /// <summary>Copies each blob <c>Name</c> of <paramref name="files"/> to its <c>Path</c> below <paramref name="folder"/>.</summary>
    private static async Task CopyAsync(
        IEnumerable<(string Name, string Path)> files, Func<string, CancellationToken, Task<BlobStream?>> open, string folder, CancellationToken cancellationToken)
    {
        foreach (var (name, below) in files)
        {
            using var blob = await open(name, cancellationToken).ConfigureAwait(false);
            if (blob is not null)
            {
                var path = Path.Combine(folder, below);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var file = File.Create(path);
                await blob.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
