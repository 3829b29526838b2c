using Microsoft.Extensions.Logging.Abstractions;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Tests.Storage;

/// <summary>Chunk outcomes on Azurite: written by one version of the app, read by another after a deploy.</summary>
[Trait("Category", "Storage")]
public sealed class WorkStoreTests
{
    private readonly BlobStore _store = new(Azurite.CreateService());

    [Fact]
    public async Task TryReadOutcome_WrittenByAnotherVersion_ReadsWhatItKnows()
    {
        var storage = new StorageOptions { ContainerPrefix = $"ws{Guid.NewGuid():N}"[..12] + "-" };
        var work = new WorkStore(_store, storage, NullLogger.Instance);
        await work.EnsureContainerAsync();

        // An older outcome without a version and with a field this version does not have; a strict reader failed every
        // retry of the chunk on such a blob after a deploy.
        await _store.UploadAsync(storage.Container(storage.Work), BlobLayout.ChunkOutcome("j", "p0", 3), BinaryData.FromString(
            """{ "iteration": 3, "evaluations": 80, "loss": 12.5, "image": "results/j/p0/res_at_iteration_3.png", "seconds": 2, "secondsPerEvaluation": 0.1, "converged": false, "reused": false, "gpu": "none" }"""));

        var outcome = await work.TryReadOutcomeAsync("j", "p0", 3);

        Assert.Equal(new ChunkOutcome(3, 80, 12.5, "results/j/p0/res_at_iteration_3.png", 2, 0.1, false, false), outcome);
        Assert.Equal(1, outcome!.Version);
    }
}
