using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Viewer;

/// <summary>A blob opened for download: its content, its media type and its length in bytes.</summary>
public sealed record JobFile(Stream Content, string ContentType, long Length) : IDisposable
{
    public void Dispose() => Content.Dispose();
}

/// <summary>
/// The files a job's viewer may read, under <c>files/{path}</c>: a path inside the job's results folder
/// (<c>p0-x/final.png</c>, <c>job.json</c>), or <c>inputs/{blob}</c> for a content or style image that the job's
/// request names. Nothing else: no other job, no internal state, no container listing.
/// </summary>
public static class JobFiles
{
    public const string InputsFolder = "inputs";

    /// <summary>The URL (relative to the view page) of a file in the job's results folder.</summary>
    public static string Url(string resultPath) => "files/" + Escape(resultPath);

    /// <summary>The URL (relative to the view page) of an input the request names, e.g. <c>styles/starry_night.jpg</c>.</summary>
    public static string InputUrl(string blob) => $"files/{InputsFolder}/" + Escape(blob);

    /// <summary>
    /// Opens <paramref name="path"/> (already URL-decoded) of job <paramref name="jobId"/>; null when it does not exist.
    /// Throws <see cref="InvalidJobPathException"/> for a path that would leave the job.
    /// </summary>
    public static async Task<JobFile?> OpenAsync(JobStorage storage, string jobId, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!JobIds.IsValid(jobId))
        {
            throw new InvalidJobPathException($"'{jobId}' is not a job id (lowercase letters, digits and '-', at most 64).");
        }

        var segments = (path ?? "").Split('/');
        if (segments.Any(s => s.Length == 0 || s is "." or ".." || s.Contains('\\', StringComparison.Ordinal)))
        {
            throw new InvalidJobPathException($"'{path}' is not a file of job {jobId}: empty, '.' and '..' segments and backslashes are refused.");
        }

        BlobStream? blob;
        if (segments[0] == InputsFolder)
        {
            var input = string.Join('/', segments[1..]);
            if (!(await InputsOfAsync(storage, jobId, cancellationToken).ConfigureAwait(false)).Contains(input))
            {
                return null;
            }

            blob = await storage.Inputs.TryOpenReadAsync(input, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (!segments.All(JobView.IsSafeSegment))
            {
                throw new InvalidJobPathException($"'{path}' is not a file of job {jobId}: result paths hold letters, digits, '-', '_' and '.' only.");
            }

            blob = await storage.Results.TryOpenReadAsync($"{jobId}/{path}", cancellationToken).ConfigureAwait(false);
        }

        return blob is null ? null : new JobFile(blob.Content, ContentTypeOf(segments[^1]), blob.Length);
    }

    /// <summary>The media type the viewer serves a file with, from its extension.</summary>
    public static string ContentTypeOf(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        ".bmp" => "image/bmp",
        ".gif" => "image/gif",
        ".csv" => "text/csv; charset=utf-8",
        ".json" => "application/json; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>The content and style blobs that the job's request names (logical names such as <c>uploads/j1/a.jpg</c>).</summary>
    private static async Task<HashSet<string>> InputsOfAsync(JobStorage storage, string jobId, CancellationToken cancellationToken)
    {
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        JobDocument? job;
        try
        {
            job = await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        }
        catch (JobDocumentException)
        {
            // No readable job document: no inputs to serve.
            return inputs;
        }

        foreach (var blob in (job?.Request?.Content ?? []).Concat(job?.Request?.Styles.Select(s => s.Blob) ?? []))
        {
            if (blob.Contains('/', StringComparison.Ordinal))
            {
                inputs.Add(blob);
            }
        }

        return inputs;
    }

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}
