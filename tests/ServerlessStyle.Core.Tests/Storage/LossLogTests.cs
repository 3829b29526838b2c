using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>loss.csv as one block per iteration on Azurite: what a reader downloads after appends and re-runs.</summary>
[Trait("Category", "Storage")]
public sealed class LossLogTests
{
    private const string Header = LossCsv.Header + "\n";
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
    public async Task WriteIteration_LateDuplicateOfAnEarlierIteration_ReplacesOnlyItsOwnRows()
    {
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);
        await LossLog.WriteIterationAsync(blob, 0, "1,0,a\n");
        await LossLog.WriteIterationAsync(blob, 1, "2,1,b\n");
        await LossLog.WriteIterationAsync(blob, 2, "3,2,c\n");

        // A late duplicate of chunk 1 (activities are at-least-once): its rows once, chunk 2's rows kept.
        await LossLog.WriteIterationAsync(blob, 1, "2,1,B\n");
        Assert.Equal(Header + "1,0,a\n2,1,B\n3,2,c\n", await ReadAsync(blob));

        await LossLog.WriteIterationAsync(blob, 1, "2,1,B\n");
        Assert.Equal(Header + "1,0,a\n2,1,B\n3,2,c\n", await ReadAsync(blob));
    }

    [Fact]
    public async Task WriteHeader_AgainAfterRows_KeepsTheRows()
    {
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);
        await LossLog.WriteIterationAsync(blob, 0, "1,0,a\n");

        await LossLog.WriteHeaderAsync(blob);

        Assert.Equal(Header + "1,0,a\n", await ReadAsync(blob));
    }

    [Fact]
    public async Task WriteIteration_AnotherCommitBetweenReadAndCommit_KeepsTheOtherRows()
    {
        // Writer A (iteration 1) reads the block list; before its commit reaches the service, writer C commits iteration 2
        // and B, a duplicate of A, commits iteration 1 (so A's block id is committed and A's list stays valid). A's
        // commit, conditioned on the list it read, must fail and be redone with C's block in it, not drop it.
        var container = Azurite.UniqueContainer("losslog");
        await _store.EnsureContainerAsync(container);
        var b = _store.BlockBlob(container, "j1/p0/loss.csv");
        await LossLog.WriteHeaderAsync(b);
        await LossLog.WriteIterationAsync(b, 0, "1,0,a\n");
        var options = new BlobClientOptions(BlobClients.PinnedServiceVersion);
        options.AddPolicy(
            new BeforeFirstCommit(async () =>
            {
                await LossLog.WriteIterationAsync(b, 2, "3,2,c\n");
                await LossLog.WriteIterationAsync(b, 1, "2,1,b\n");
            }),
            HttpPipelinePosition.PerCall);
        var a = new BlobServiceClient(Azurite.ConnectionString, options).GetBlobContainerClient(container).GetBlockBlobClient("j1/p0/loss.csv");

        await LossLog.WriteIterationAsync(a, 1, "2,1,b\n");

        Assert.Equal(Header + "1,0,a\n2,1,b\n3,2,c\n", await ReadAsync(b));
    }

    /// <summary>Runs an action once, just before the first Put Block List request of the client it is added to.</summary>
    private sealed class BeforeFirstCommit(Func<Task> action) : HttpPipelinePolicy
    {
        private int _done;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("the test uses the async API");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Put && message.Request.Uri.Query.Contains("comp=blocklist", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _done, 1) == 0)
            {
                await action();
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    [Fact]
    public async Task WriteIteration_ManyWritersAtOnce_EveryIterationLandsOnce()
    {
        // Commits conditioned on the block list they read: without the condition, writers that read the same list
        // overwrite each other's additions and iterations go missing.
        var blob = await NewLogAsync();
        await LossLog.WriteHeaderAsync(blob);

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => LossLog.WriteIterationAsync(blob, i, $"{i + 1},{i},x\n")));

        Assert.Equal(Header + string.Concat(Enumerable.Range(0, 12).Select(i => $"{i + 1},{i},x\n")), await ReadAsync(blob));
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
