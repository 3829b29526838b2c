using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Viewer;

/// <summary>Builds a job's <see cref="ContactSheet"/> from its iteration images and stores it next to job.json.</summary>
public static class JobContactSheet
{
    /// <summary>The sheet's blob name in the results container.</summary>
    public static string BlobName(string jobId) => $"{jobId}/{JobView.ContactSheetFile}";

    /// <summary>The sheet as PNG (one row per pair, one column per iteration), or null when the job has no pair.</summary>
    public static async Task<byte[]?> CreatePngAsync(
        BlobStore store, StorageOptions storage, string jobId, int cellSize = ContactSheet.DefaultCellSize, CancellationToken cancellationToken = default)
    {
        var view = await JobView.LoadAsync(store, storage, jobId, cancellationToken).ConfigureAwait(false);
        if (view is null || view.Pairs.Count == 0)
        {
            return null;
        }

        var results = storage.Container(storage.Results);
        var rows = new List<ContactSheetRow>();
        foreach (var pair in view.Pairs)
        {
            var cells = new List<ContactSheetCell>();
            foreach (var iteration in pair.Iterations)
            {
                var blob = await store.TryDownloadAsync(results, BlobLayout.IterationImage(jobId, pair.PairId, iteration.I), cancellationToken).ConfigureAwait(false);
                if (blob is { } b)
                {
                    cells.Add(new ContactSheetCell(iteration.I, b.Content.ToArray()));
                }
            }

            rows.Add(new ContactSheetRow(pair.PairId, cells));
        }

        return ContactSheet.CreatePng(rows, cellSize);
    }

    /// <summary>Writes <c>results/{job}/contact-sheet.png</c> (overwriting: it is derived data); returns its blob name, or null when the job has no pair.</summary>
    public static async Task<string?> WriteAsync(
        BlobStore store, StorageOptions storage, string jobId, int cellSize = ContactSheet.DefaultCellSize, CancellationToken cancellationToken = default)
    {
        var png = await CreatePngAsync(store, storage, jobId, cellSize, cancellationToken).ConfigureAwait(false);
        if (png is null)
        {
            return null;
        }

        await store.UploadAsync(storage.Container(storage.Results), BlobName(jobId), BinaryData.FromBytes(png), cancellationToken).ConfigureAwait(false);
        return BlobName(jobId);
    }
}
