using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// What a job hands to its user, in the results container: iteration and final images, each pair's loss.csv, the
/// contact sheet (job.json itself goes through <see cref="JobDocumentStore"/>). Names are inside the container, as
/// <see cref="BlobLayout"/> makes them.
/// </summary>
public sealed class ResultStore(BlobStore store, StorageOptions storage)
{
    /// <summary>The logical container name that result references start with ("results/...").</summary>
    public string LogicalContainer => storage.Results;

    private string Container => storage.Container(storage.Results);

    public Task EnsureContainerAsync(CancellationToken cancellationToken = default) => store.EnsureContainerAsync(Container, cancellationToken);

    /// <summary>Stores a file (an image) under <paramref name="name"/>; returns its reference "results/{name}".</summary>
    public async Task<string> WriteAsync(string name, BinaryData content, CancellationToken cancellationToken = default)
    {
        await store.UploadAsync(Container, name, content, cancellationToken).ConfigureAwait(false);
        return $"{LogicalContainer}/{name}";
    }

    /// <summary>
    /// Stores a result image (an iteration's or a final one, PNG) under <paramref name="name"/>, and before it, when the
    /// image is larger than <see cref="ImagePreview.LongSide"/>, its preview under <see cref="BlobLayout.Preview"/>: a page
    /// that lists the image then finds its preview too. Returns the image's reference "results/{name}".
    /// </summary>
    public Task<string> WriteImageAsync(string name, BinaryData png, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(png);
        return WriteImageAsync(name, new EncodedImage(png, ImagePreview.CreatePng(png.ToMemory())), cancellationToken);
    }

    /// <summary>As <see cref="WriteImageAsync(string, BinaryData, CancellationToken)"/>, with the preview made already.</summary>
    public async Task<string> WriteImageAsync(string name, EncodedImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        await WritePreviewAsync(name, image.Preview, cancellationToken).ConfigureAwait(false);
        return await WriteAsync(name, image.Png, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a pair's final image (and its preview, as <see cref="WriteImageAsync"/>); the last stage of a coarse-to-fine
    /// pair (<paramref name="pairOfLastStage"/> set) stores it in the pair's own folder too, where users, the contact sheet
    /// and the job page look for it. Returns the stage's reference.
    /// </summary>
    public Task<string> WriteFinalImageAsync(
        string jobId, string pairId, string? pairOfLastStage, BinaryData png, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(png);
        return WriteFinalImageAsync(jobId, pairId, pairOfLastStage, new EncodedImage(png, ImagePreview.CreatePng(png.ToMemory())), cancellationToken);
    }

    /// <summary>As <see cref="WriteFinalImageAsync(string, string, string?, BinaryData, CancellationToken)"/>, with the preview made already.</summary>
    public async Task<string> WriteFinalImageAsync(
        string jobId, string pairId, string? pairOfLastStage, EncodedImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (png, preview) = (image.Png, image.Preview);
        var name = BlobLayout.FinalImage(jobId, pairId);
        await WritePreviewAsync(name, preview, cancellationToken).ConfigureAwait(false);
        var final = await WriteAsync(name, png, cancellationToken).ConfigureAwait(false);
        if (pairOfLastStage is not null)
        {
            name = BlobLayout.FinalImage(jobId, pairOfLastStage);
            await WritePreviewAsync(name, preview, cancellationToken).ConfigureAwait(false);
            await WriteAsync(name, png, cancellationToken).ConfigureAwait(false);
        }

        return final;
    }

    private async Task WritePreviewAsync(string imageName, byte[]? preview, CancellationToken cancellationToken)
    {
        if (preview is not null)
        {
            await WriteAsync(BlobLayout.Preview(imageName), BinaryData.FromBytes(preview), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a pair's loss.csv with its header (a re-run of the first activity starts it again).</summary>
    public Task StartLossLogAsync(string jobId, string pairId, CancellationToken cancellationToken = default) =>
        LossLog.WriteHeaderAsync(store.BlockBlob(Container, BlobLayout.LossLog(jobId, pairId)), cancellationToken);

    /// <summary>Writes iteration <paramref name="iteration"/>'s rows of a pair's loss.csv after the earlier iterations' rows.</summary>
    public Task WriteLossRowsAsync(string jobId, string pairId, int iteration, string rows, CancellationToken cancellationToken = default) =>
        LossLog.WriteIterationAsync(store.BlockBlob(Container, BlobLayout.LossLog(jobId, pairId)), iteration, rows, cancellationToken);

    /// <summary>The names of every file of the job (job.json included), in name order.</summary>
    public Task<IReadOnlyList<string>> ListAsync(string jobId, CancellationToken cancellationToken = default) =>
        store.ListAsync(Container, BlobLayout.ResultsPrefix(jobId), cancellationToken);

    /// <summary>Every file of the job (job.json included), by what each one is.</summary>
    public async Task<JobResultFiles> ListFilesAsync(string jobId, CancellationToken cancellationToken = default) =>
        new(jobId, await ListAsync(jobId, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The file a result reference names: <c>results/{job}/...</c>, as <see cref="WriteAsync"/> returns it and a job's
    /// summary holds it (<c>PairResult.FinalImage</c>); throws when the reference is not one of the job's.
    /// </summary>
    public ResultFile FromReference(string jobId, string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var prefix = $"{LogicalContainer}/{BlobLayout.ResultsPrefix(jobId)}";
        return reference.StartsWith(prefix, StringComparison.Ordinal) && reference.Length > prefix.Length
            ? new ResultFile(jobId, reference[(LogicalContainer.Length + 1)..])
            : throw new ArgumentException($"'{reference}' is not a result of job {jobId} (it should start with '{prefix}').", nameof(reference));
    }

    /// <summary>A whole file, or null when it does not exist.</summary>
    public Task<BinaryData?> TryReadAsync(ResultFile file, CancellationToken cancellationToken = default) =>
        TryReadAsync(file.Name, cancellationToken);

    /// <summary>A file as a stream, or null when it does not exist.</summary>
    public Task<BlobStream?> TryOpenReadAsync(ResultFile file, CancellationToken cancellationToken = default) =>
        TryOpenReadAsync(file.Name, cancellationToken);

    /// <summary>A whole file, or null when it does not exist.</summary>
    public async Task<BinaryData?> TryReadAsync(string name, CancellationToken cancellationToken = default) =>
        (await store.TryDownloadAsync(Container, name, cancellationToken).ConfigureAwait(false))?.Content;

    /// <summary>A file as a stream, or null when it does not exist.</summary>
    public Task<BlobStream?> TryOpenReadAsync(string name, CancellationToken cancellationToken = default) =>
        store.TryOpenReadAsync(Container, name, cancellationToken);

    /// <summary>The ids of the jobs that have a job.json.</summary>
    public async Task<IReadOnlyList<string>> ListJobIdsAsync(CancellationToken cancellationToken = default) =>
        [.. (await store.ListAsync(Container, cancellationToken: cancellationToken).ConfigureAwait(false))
            .Where(n => n.EndsWith("/job.json", StringComparison.Ordinal) && n.IndexOf('/', StringComparison.Ordinal) == n.Length - "/job.json".Length)
            .Select(n => n[..^"/job.json".Length])];

    /// <summary>Deletes every file of the job (but job.json when <paramref name="keepJobJson"/>); returns the bytes deleted.</summary>
    public Task<long> DeleteJobAsync(string jobId, bool keepJobJson = false, CancellationToken cancellationToken = default) =>
        store.DeletePrefixAsync(
            Container, BlobLayout.ResultsPrefix(jobId), keepJobJson ? name => name == BlobLayout.JobJson(jobId) : null, cancellationToken);
}
