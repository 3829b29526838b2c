using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// A pair's loss.csv as a block blob: the header is one block and each iteration's rows another, named by the
/// iteration. A chunk stages its block and commits the list it found with its own block in place of any later ones, so
/// the work per chunk stays the same however long the log grows, and a re-run replaces its rows instead of adding them.
/// Readers see a plain CSV file.
/// </summary>
public static class LossLog
{
    /// <summary>Starts the log with the header only (a re-run of the first activity starts it again).</summary>
    public static async Task WriteHeaderAsync(BlockBlobClient blob, CancellationToken cancellationToken = default)
    {
        var header = BlockId(-1);
        await StageAsync(blob, header, BlobLayout.LossCsvHeader + "\n", cancellationToken).ConfigureAwait(false);
        await blob.CommitBlockListAsync([header], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes an iteration's rows after the earlier iterations' rows; rows of this or later iterations are dropped.</summary>
    public static async Task WriteIterationAsync(BlockBlobClient blob, int iteration, string rows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        var id = BlockId(iteration);
        var staging = StageAsync(blob, id, rows, cancellationToken);
        var committed = await CommittedAsync(blob, cancellationToken).ConfigureAwait(false);
        await staging.ConfigureAwait(false);

        var header = BlockId(-1);
        var blocks = new List<string>();
        if (!committed.Contains(header))
        {
            // The header's commit was lost (its activity crashed after the checkpoint): stage it again, first.
            await StageAsync(blob, header, BlobLayout.LossCsvHeader + "\n", cancellationToken).ConfigureAwait(false);
            blocks.Add(header);
        }

        blocks.AddRange(committed.Where(b => b == header || Iteration(b) < iteration));
        blocks.Add(id);
        await blob.CommitBlockListAsync(blocks, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<string>> CommittedAsync(BlockBlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var list = await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken).ConfigureAwait(false);
            return list.Value.CommittedBlocks.Select(b => b.Name).ToList();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
    }

    private static Task StageAsync(BlockBlobClient blob, string id, string text, CancellationToken cancellationToken)
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return blob.StageBlockAsync(id, stream, cancellationToken: cancellationToken);
    }

    // Block ids of one blob must all have the same length: ten digits of iteration + 1 (the header is 0).
    private static string BlockId(int iteration) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes((iteration + 1).ToString("D10", CultureInfo.InvariantCulture)));

    private static int Iteration(string blockId) =>
        int.Parse(Encoding.ASCII.GetString(Convert.FromBase64String(blockId)), CultureInfo.InvariantCulture) - 1;
}
