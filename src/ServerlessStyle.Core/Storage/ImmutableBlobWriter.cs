using System.IO.Pipelines;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// Streams a large blob that must appear whole or not at all, and only once: the writer's bytes flow through a pipe
/// into a staged block upload whose block list is committed (if no blob of that name exists yet) only after the writer
/// finished. A writer that throws or is cancelled leaves nothing behind; a blob's write stream
/// (<c>OpenWriteAsync</c>) would instead commit what it had when disposed, a truncated checkpoint that reads as done.
/// </summary>
internal static class ImmutableBlobWriter
{
    private const int BlockBytes = 4 * 1024 * 1024;

    /// <summary>True when this call created the blob; false when one already existed (it is left as it was).</summary>
    public static async Task<bool> TryCreateAsync(BlobClient blob, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        // Back-pressure bounds memory to the blocks in flight, whatever the blob's size.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 2 * BlockBytes, resumeWriterThreshold: BlockBytes));
        var writing = Task.Run(() => WriteAsync(pipe.Writer, write, cancellationToken), CancellationToken.None);
        try
        {
            await using var source = pipe.Reader.AsStream();
            await blob.UploadAsync(source, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                TransferOptions = new StorageTransferOptions { InitialTransferSize = BlockBytes, MaximumTransferSize = BlockBytes, MaximumConcurrency = 4 },
            }, cancellationToken).ConfigureAwait(false);
            await writing.ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            await writing.ConfigureAwait(false);
            return false;
        }
        finally
        {
            // Unblocks a writer still waiting for room when the upload stopped early; then surfaces nothing twice.
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await Task.WhenAny(writing).ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(PipeWriter writer, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await write(writer.AsStream(leaveOpen: true), cancellationToken).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The reader (the upload) then fails with this exception and commits no block list.
            await writer.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
    }
}
