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
    private string Results => storage.Container(storage.Results);

    /// <summary>The job's document, or null when it has none.</summary>
    public async Task<JobDocument?> ReadAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var name = BlobLayout.JobJson(jobId);
        return await store.TryDownloadAsync(Results, name, cancellationToken).ConfigureAwait(false) is { } blob ? Parse(blob.Content, name) : null;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored document (null when there is none) and stores the result, unless
    /// another writer changed it in between: then reads it again and applies <paramref name="change"/> to that.
    /// </summary>
    public async Task<JobDocument> UpdateAsync(string jobId, Func<JobDocument?, JobDocument> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await store.EnsureContainerAsync(Results, cancellationToken).ConfigureAwait(false);
        var name = BlobLayout.JobJson(jobId);
        JobDocument? stored = null;
        await store.UpdateAsync(
            Results, name, current => BinaryData.FromString((stored = change(current is null ? null : Parse(current, name))).ToJson()), cancellationToken).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>
    /// Records <paramref name="submitted"/> unless the job has a document that has not ended, in one conditional write:
    /// of callers racing with one id, exactly one gets true. An ended document (a previous job of that id, whose history
    /// is gone) is replaced.
    /// </summary>
    public async Task<bool> TryClaimAsync(JobDocument submitted, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submitted);
        await store.EnsureContainerAsync(Results, cancellationToken).ConfigureAwait(false);
        var name = BlobLayout.JobJson(submitted.JobId);
        var stored = await store.UpdateAsync(
            Results, name, current => current is null || Parse(current, name).HasEnded ? BinaryData.FromString(submitted.ToJson()) : null, cancellationToken).ConfigureAwait(false);
        return stored is not null;
    }

    private JobDocument Parse(BinaryData content, string name)
    {
        try
        {
            return JobDocument.Parse(content.ToString());
        }
        catch (JsonException e)
        {
            throw new JobDocumentException($"{Results}/{name} is not a job document: {e.Message}", e);
        }
    }
}
