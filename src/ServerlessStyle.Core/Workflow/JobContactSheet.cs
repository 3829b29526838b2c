using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>Builds a job's <see cref="ContactSheet"/> from its iteration images (their previews where they have them) and stores it next to job.json.</summary>
public static class JobContactSheet
{
    /// <summary>The sheet as PNG (one row per pair, one column per iteration), or null when the job has no pair.</summary>
    public static async Task<byte[]?> CreatePngAsync(
        JobStorage storage, string jobId, int cellSize = ContactSheet.DefaultCellSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var job = await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        if (job is null || job.Pairs.Count == 0)
        {
            return null;
        }

        var names = await storage.Results.ListAsync(jobId, cancellationToken).ConfigureAwait(false);
        var listed = new HashSet<string>(names, StringComparer.Ordinal);
        var rows = new List<ContactSheetRow>();
        foreach (var pair in job.Pairs)
        {
            var cells = new List<ContactSheetCell>();
            foreach (var (iteration, name) in BlobLayout.IterationImages(names, jobId, pair.PairId))
            {
                // A cell is 128 px: a large image's preview is read instead of the image (a poster's PNG is 100-200 MB).
                var preview = BlobLayout.Preview(name);
                if (await storage.Results.TryReadAsync(listed.Contains(preview) ? preview : name, cancellationToken).ConfigureAwait(false) is { } png)
                {
                    cells.Add(new ContactSheetCell(iteration, png.ToArray()));
                }
            }

            rows.Add(new ContactSheetRow(pair.PairId, cells));
        }

        return ContactSheet.CreatePng(rows, cellSize);
    }

    /// <summary>Writes <c>results/{job}/contact-sheet.png</c> (overwriting: it is derived data); returns its blob name, or null when the job has no pair.</summary>
    public static async Task<string?> WriteAsync(
        JobStorage storage, string jobId, int cellSize = ContactSheet.DefaultCellSize, CancellationToken cancellationToken = default)
    {
        var png = await CreatePngAsync(storage, jobId, cellSize, cancellationToken).ConfigureAwait(false);
        if (png is null)
        {
            return null;
        }

        await storage.Results.WriteAsync(BlobLayout.ContactSheet(jobId), BinaryData.FromBytes(png), cancellationToken).ConfigureAwait(false);
        return BlobLayout.ContactSheet(jobId);
    }

    /// <summary>Writes the sheet at a job's end; a sheet that cannot be drawn is logged, not allowed to fail a finished job.</summary>
    public static async Task TryWriteAsync(JobStorage storage, string jobId, ILogger logger, CancellationToken cancellationToken = default)
    {
        try
        {
            await WriteAsync(storage, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Job {JobId}: no contact sheet: {Reason}", jobId, e.Message);
        }
    }
}
