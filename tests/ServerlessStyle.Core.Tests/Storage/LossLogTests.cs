using Azure.Storage.Blobs.Specialized;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>loss.csv as one block per iteration on Azurite: what a reader downloads after appends and re-runs.</summary>
[Trait("Category", "Integration")]
public sealed class LossLogTests
{
    private const string Header = BlobLayout.LossCsvHeader + "\n";
    private readonly BlobStore _store = new(Azurite.CreateService());

    private async Task<BlockBlobClient> NewLogAsync()
    {
        var container = Azurite.UniqueContainer("losslog");
        await _store.EnsureContainerAsync(container);
        return _store.BlockBlob(container, "j1/p0/loss.csv");
    }

    private static async Task<string> ReadAsync(BlockBlobClient blob) => (await blob.DownloadContentAsync()).Value.Content.ToString();

    [Fact]
    public async Task WriteIteration_InOrder_ReadsAsHeaderThenEveryIterationsRows()
    {
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);
        await LossLog.WriteIterationAsync(blob, 0, "1,0,a\n2,0,b\n");
        await LossLog.WriteIterationAsync(blob, 1, "3,1,c\n");
        await LossLog.WriteIterationAsync(blob, 2, "4,2,d\n");

        Assert.Equal(Header + "1,0,a\n2,0,b\n3,1,c\n4,2,d\n", await ReadAsync(blob));
    }

    [Fact]
    public async Task WriteIteration_ReRunOfAnEarlierIteration_ReplacesItsRowsAndDropsLaterOnes()
    {
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);
        await LossLog.WriteIterationAsync(blob, 0, "1,0,a\n");
        await LossLog.WriteIterationAsync(blob, 1, "2,1,b\n");
        await LossLog.WriteIterationAsync(blob, 2, "3,2,c\n");

        // A retried chunk 1 (its first attempt's rows and chunk 2's rows must not stay twice or out of order).
        await LossLog.WriteIterationAsync(blob, 1, "2,1,B\n");
        Assert.Equal(Header + "1,0,a\n2,1,B\n", await ReadAsync(blob));

        await LossLog.WriteIterationAsync(blob, 1, "2,1,B\n");
        Assert.Equal(Header + "1,0,a\n2,1,B\n", await ReadAsync(blob));
    }

    [Fact]
    public async Task WriteIteration_HeaderNeverCommitted_PutsTheHeaderFirst()
    {
        var blob = await NewLogAsync();

        await LossLog.WriteIterationAsync(blob, 0, "1,0,a\n");

        Assert.Equal(Header + "1,0,a\n", await ReadAsync(blob));
    }

    [Fact]
    public async Task WriteIteration_ManyIterations_KeepsThemInIterationOrder()
    {
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);
        for (var i = 0; i < 12; i++)
        {
            await LossLog.WriteIterationAsync(blob, i, $"{i + 1},{i},x\n");
        }

        var expected = Header + string.Concat(Enumerable.Range(0, 12).Select(i => $"{i + 1},{i},x\n"));
        Assert.Equal(expected, await ReadAsync(blob));
    }
}
