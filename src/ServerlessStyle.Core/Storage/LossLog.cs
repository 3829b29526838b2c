using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// A pair's loss.csv as a block blob: the header is one block and each iteration's rows another, named by the
/// iteration. A chunk stages its block and commits the list it found with its own block in its iteration's place, so
/// the work per chunk stays the same however long the log grows. Activities are at-least-once: a re-run replaces only
/// its own iteration's rows, never a later iteration's, and every commit is conditioned on the block list it read
/// (its ETag), so of two concurrent writers neither loses the other's rows. Readers see a plain CSV file.
/// </summary>
public static class LossLog
{
    private const int MaxAttempts = 30;

    /// <summary>Starts the log with the header only, unless it exists (a re-run must not drop rows written since).</summary>
    public static async Task WriteHeaderAsync(BlockBlobClient blob, CancellationToken cancellationToken = default)
    {
        var header = BlockId(-1);
        await StageAsync(blob, header, LossCsv.Header + "\n", cancellationToken).ConfigureAwait(false);
        try
        {
            await blob.CommitBlockListAsync(
                [header], new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Started already: an earlier attempt's header, and maybe rows, are kept.
        }
    }

    /// <summary>Writes an iteration's rows in their place among the other iterations' rows, replacing only its own.</summary>
    public static async Task WriteIterationAsync(BlockBlobClient blob, int iteration, string rows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        var id = BlockId(iteration);
        var header = BlockId(-1);
        for (var attempt = 1; ; attempt++)
        {
            // Staged on every attempt: another writer's commit discards the uncommitted blocks it does not list. The
            // header is staged too, in case its own commit was lost (its activity crashed after the checkpoint).
            await Task.WhenAll(
                StageAsync(blob, id, rows, cancellationToken),
                StageAsync(blob, header, LossCsv.Header + "\n", cancellationToken)).ConfigureAwait(false);
            var (committed, etag) = await CommittedAsync(blob, cancellationToken).ConfigureAwait(false);
            var blocks = committed.Where(b => b != header && b != id).Append(id).OrderBy(Iteration).Prepend(header).ToList();

            // Nothing committed yet (only staged blocks): there are no rows to lose, and a condition on the ETag of a
            // blob that has only uncommitted blocks never holds, so the first list is committed as it is.
            var conditions = committed.Count > 0 ? new BlobRequestConditions { IfMatch = etag } : null;
            try
            {
                await blob.CommitBlockListAsync(blocks, new CommitBlockListOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 400 or 409 or 412 && attempt < MaxAttempts)
            {
                // Another writer committed in between (the list changed, or our staged block went with its commit):
                // read its list and put this iteration's block in it, after a short random pause to spread the writers.
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<(List<string> Blocks, ETag? ETag)> CommittedAsync(BlockBlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var list = await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken).ConfigureAwait(false);
            return (list.Value.CommittedBlocks.Select(b => b.Name).ToList(), list.GetRawResponse().Headers.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return ([], null);
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
