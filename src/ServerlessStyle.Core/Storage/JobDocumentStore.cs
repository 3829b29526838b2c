using System.Text.Json;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Storage;

/// <summary>Thrown when a job's job.json exists but is not a job document.</summary>
public sealed class JobDocumentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Every read and write of <c>results/{job}/job.json</c>. Writes are read-modify-write with the blob's ETag as the
/// condition, retried on a conflict, so two writers (a summary and a cancel, say) never lose each other's change.
/// </summary>
public sealed class JobDocumentStore(BlobStore store, StorageOptions storage)
{
    private const int MaxAttempts = 8;

    private string Results => storage.Container(storage.Results);

    /// <summary>The job's document, or null when it has none.</summary>
    public async Task<JobDocument?> ReadAsync(string jobId, CancellationToken cancellationToken = default) =>
        (await ReadWithETagAsync(jobId, cancellationToken).ConfigureAwait(false))?.Document;

    /// <summary>
    /// Applies <paramref name="change"/> to the stored document (null when there is none) and stores the result, unless
    /// another writer changed it in between: then reads it again and applies <paramref name="change"/> to that.
    /// </summary>
    public async Task<JobDocument> UpdateAsync(string jobId, Func<JobDocument?, JobDocument> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await store.EnsureContainerAsync(Results, cancellationToken).ConfigureAwait(false);
        var name = BlobLayout.JobJson(jobId);
        for (var attempt = 1; ; attempt++)
        {
            var current = await ReadWithETagAsync(jobId, cancellationToken).ConfigureAwait(false);
            var next = change(current?.Document);
            var text = BinaryData.FromString(next.ToJson());
            try
            {
                if (current is { } c)
                {
                    await store.ReplaceAsync(Results, name, text, c.ETag, cancellationToken).ConfigureAwait(false);
                    return next;
                }

                if (await store.TryCreateAsync(Results, name, text, cancellationToken).ConfigureAwait(false))
                {
                    return next;
                }
            }
            catch (BlobConflictException) when (attempt < MaxAttempts)
            {
            }

            if (attempt >= MaxAttempts)
            {
                throw new JobDocumentException($"{Results}/{name} kept changing under {MaxAttempts} attempts to update it.");
            }
        }
    }

    private async Task<(JobDocument Document, Azure.ETag ETag)?> ReadWithETagAsync(string jobId, CancellationToken cancellationToken)
    {
        var name = BlobLayout.JobJson(jobId);
        if (await store.TryDownloadAsync(Results, name, cancellationToken).ConfigureAwait(false) is not { } blob)
        {
            return null;
        }

        try
        {
            return (JobDocument.Parse(blob.Content.ToString()), blob.ETag);
        }
        catch (JsonException e)
        {
            throw new JobDocumentException($"{Results}/{name} is not a job document: {e.Message}", e);
        }
    }
}
