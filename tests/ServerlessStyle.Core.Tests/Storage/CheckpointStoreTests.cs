using Microsoft.Extensions.Logging.Abstractions;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Optimization;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>Checkpoints are written once: a second write of the same name, direct or behind, keeps the first on Azurite.</summary>
[Trait("Category", "Storage")]
public sealed class CheckpointStoreTests
{
    private const string Name = "j1/p0/state-0001.bin";

    private readonly BlobStore _store = new(Azurite.CreateService());

    private static async Task<(OptimizerState A, OptimizerState B)> TwoStatesAsync()
    {
        var a = OptimizerState.Create(new OptimizerSettings(), TestProblems.RosenbrockStart(8));
        var b = OptimizerState.Create(new OptimizerSettings(), TestProblems.RosenbrockStart(8));
        await ChunkRunner.RunChunkAsync(b, TestProblems.Rosenbrock, 5);
        Assert.NotEqual(await TestProblems.ToBytesAsync(a), await TestProblems.ToBytesAsync(b));
        return (a, b);
    }

    private async Task<string> ContainerAsync()
    {
        var container = Azurite.UniqueContainer("checkpoints");
        await _store.EnsureContainerAsync(container);
        return container;
    }

    [Fact]
    public async Task Write_SameNameTwice_SecondReportsAlreadyThereAndTheFirstStays()
    {
        var container = await ContainerAsync();
        var (a, b) = await TwoStatesAsync();
        var expected = await TestProblems.ToBytesAsync(a);

        Assert.True(await new CheckpointStore(_store, container, NullLogger.Instance).WriteAsync(Name, a));
        var other = new CheckpointStore(_store, container, NullLogger.Instance);
        Assert.False(await other.WriteAsync(Name, b));

        Assert.Equal(expected, (await _store.TryDownloadAsync(container, Name))!.Value.Content.ToArray());
        var taken = await other.TryTakeAsync(Name, a.Length);
        Assert.Equal(expected, await TestProblems.ToBytesAsync(taken!));
    }

    [Fact]
    public async Task WriteBehind_AfterAnotherAttemptStoredIt_FlushReportsAlreadyStoredAndDropsTheLocalCopy()
    {
        var container = await ContainerAsync();
        var (a, b) = await TwoStatesAsync();
        var expected = await TestProblems.ToBytesAsync(a);
        Assert.True(await new CheckpointStore(_store, container, NullLogger.Instance).WriteAsync(Name, a));
        var late = new CheckpointStore(_store, container, NullLogger.Instance);

        await late.WriteBehindAsync(Name, b);

        Assert.Equal(CheckpointUpload.AlreadyStored, await late.FlushAsync(Name));
        Assert.Equal(expected, (await _store.TryDownloadAsync(container, Name))!.Value.Content.ToArray());

        // The next chunk in this process continues from the stored state, not from its own copy.
        Assert.Equal(expected, await TestProblems.ToBytesAsync((await late.TryTakeAsync(Name, a.Length))!));
    }

    [Fact]
    public async Task WriteBehind_Alone_FlushReportsStored()
    {
        var container = await ContainerAsync();
        var (a, _) = await TwoStatesAsync();
        var store = new CheckpointStore(_store, container, NullLogger.Instance);

        await store.WriteBehindAsync(Name, a);

        Assert.Equal(CheckpointUpload.Stored, await store.FlushAsync(Name));
        Assert.Equal(CheckpointUpload.NothingPending, await store.FlushAsync(Name));
        Assert.Equal(await TestProblems.ToBytesAsync(a), (await _store.TryDownloadAsync(container, Name))!.Value.Content.ToArray());
    }
}
