using Azure;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Tests.Storage;

[Trait("Category", "Storage")]
public sealed class BlobStoreTests
{
    private readonly BlobStore _store = new(Azurite.CreateService());

    [Fact]
    public async Task UploadThenDownload_RoundTripsBytesAndETag()
    {
        var container = Azurite.UniqueContainer("roundtrip");
        await _store.EnsureContainerAsync(container);
        var bytes = new byte[70_000];
        new Random(7).NextBytes(bytes);

        var etag = await _store.UploadAsync(container, "a/b.bin", BinaryData.FromBytes(bytes));
        var read = await _store.TryDownloadAsync(container, "a/b.bin");

        Assert.NotNull(read);
        Assert.Equal(bytes, read.Value.Content.ToArray());
        Assert.Equal(etag, read.Value.ETag);
        Assert.Equal(["a/b.bin"], await _store.ListAsync(container, "a/"));
    }

    [Fact]
    public async Task TryDownload_MissingBlob_ReturnsNull()
    {
        var container = Azurite.UniqueContainer("missing");
        await _store.EnsureContainerAsync(container);

        Assert.Null(await _store.TryDownloadAsync(container, "nope.bin"));
    }

    [Fact]
    public async Task TryCreate_ExistingBlob_ReturnsFalseAndKeepsContent()
    {
        var container = Azurite.UniqueContainer("create");
        await _store.EnsureContainerAsync(container);

        Assert.True(await _store.TryCreateAsync(container, "x", BinaryData.FromString("first")));
        Assert.False(await _store.TryCreateAsync(container, "x", BinaryData.FromString("second")));

        var read = await _store.TryDownloadAsync(container, "x");
        Assert.Equal("first", read!.Value.Content.ToString());
    }

    [Fact]
    public async Task Replace_StaleETag_ThrowsConflictAndKeepsNewerContent()
    {
        var container = Azurite.UniqueContainer("etag");
        await _store.EnsureContainerAsync(container);
        var first = await _store.UploadAsync(container, "job.json", BinaryData.FromString("v1"));
        var second = await _store.ReplaceAsync(container, "job.json", BinaryData.FromString("v2"), first);
        Assert.NotEqual(first, second);

        var error = await Assert.ThrowsAsync<BlobConflictException>(
            () => _store.ReplaceAsync(container, "job.json", BinaryData.FromString("v3 from a stale reader"), first));

        Assert.Contains("job.json", error.Message);
        var read = await _store.TryDownloadAsync(container, "job.json");
        Assert.Equal("v2", read!.Value.Content.ToString());
        Assert.Equal(second, read.Value.ETag);
    }
}
