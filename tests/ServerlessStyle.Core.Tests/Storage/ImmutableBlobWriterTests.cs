using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Storage;

[Trait("Category", "Storage")]
public sealed class ImmutableBlobWriterTests
{
    private readonly BlobStore _store = new(Azurite.CreateService());

    // Larger than one 4 MiB block, so the upload is staged in several blocks before the commit.
    private static readonly byte[] Payload = Enumerable.Range(0, 9 * 1024 * 1024 + 17).Select(i => (byte)(i * 31 + 7)).ToArray();

    [Fact]
    public async Task TryCreate_WriterThrowsAfterSeveralBlocks_LeavesNoBlob()
    {
        var container = Azurite.UniqueContainer("immutable");
        await _store.EnsureContainerAsync(container);
        var blob = _store.Service.GetBlobContainerClient(container).GetBlobClient("state-0001.bin");

        await Assert.ThrowsAnyAsync<Exception>(() => ImmutableBlobWriter.TryCreateAsync(blob, async (stream, ct) =>
        {
            await stream.WriteAsync(Payload, ct);
            throw new IOException("writer failed half way");
        }));

        Assert.False((await blob.ExistsAsync()).Value);
    }

    [Fact]
    public async Task TryCreate_NewThenExisting_WritesOnceAndKeepsTheFirstContent()
    {
        var container = Azurite.UniqueContainer("immutable");
        await _store.EnsureContainerAsync(container);
        var blob = _store.Service.GetBlobContainerClient(container).GetBlobClient("state-0001.bin");

        var first = await ImmutableBlobWriter.TryCreateAsync(blob, (stream, ct) => stream.WriteAsync(Payload, ct).AsTask());
        var second = await ImmutableBlobWriter.TryCreateAsync(blob, (stream, ct) => stream.WriteAsync(new byte[] { 1, 2, 3 }, ct).AsTask());

        Assert.Equal((true, false), (first, second));
        Assert.Equal(Payload, (await _store.TryDownloadAsync(container, "state-0001.bin"))!.Value.Content.ToArray());
    }
}
