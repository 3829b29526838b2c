using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// The storage layer as the workflow, the starters and the viewer use it: job documents, inputs, a worker's internal
/// state and the results, all in one account (docs/contracts.md). One per process: the work store keeps the pairs'
/// targets and checkpoints in memory between chunks.
/// </summary>
public sealed class JobStorage
{
    public JobStorage(BlobStore store, IOptions<StorageOptions> options, ILogger<JobStorage> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        var storage = options.Value;
        Options = storage;
        Documents = new JobDocumentStore(store, storage);
        Inputs = new InputStore(store, storage);
        Work = new WorkStore(store, storage, logger);
        Results = new ResultStore(store, storage);
        Attempts = new ActivityAttempts(store, storage);
    }

    /// <summary>The container names (with the deployment's prefix).</summary>
    public StorageOptions Options { get; }

    public JobDocumentStore Documents { get; }

    public InputStore Inputs { get; }

    public WorkStore Work { get; }

    public ResultStore Results { get; }

    /// <summary>How often each activity of a job started and ended, across every worker.</summary>
    public ActivityAttempts Attempts { get; }

    /// <summary>
    /// Records a job that validation refused: its job.json says what was asked and when (its page shows them; the
    /// summary adds the reason). A job.json already there is left as it is.
    /// </summary>
    public async Task RecordRefusedAsync(string jobId, Jobs.JobRequest request, CancellationToken cancellationToken = default)
    {
        await Results.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await Documents.UpdateAsync(jobId, job => job ?? Jobs.JobDocument.Refused(jobId, request), cancellationToken).ConfigureAwait(false);
    }
}
