using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// Which cancellations become <see cref="JobCanceledException"/> (never retried): only a stop of a job whose job.json
/// says Canceled. A storage call that timed out, or a worker that is stopping, stay as they were (retried, handed back).
/// </summary>
[Trait("Category", "Integration")]
public sealed class CancelAwareStyleWorkTests
{
    /// <summary>Every call ends as an <see cref="OperationCanceledException"/>, as a stopped chunk does.</summary>
    private sealed class Stopped : IStyleWork
    {
        public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) => throw Stop();

        public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => throw Stop();

        private static OperationCanceledException Stop() => new("stopped");
    }

    [Theory]
    [InlineData(true, false, true)]   // the user canceled the job: never retried
    [InlineData(false, false, false)] // the job runs: a transient fault, retried
    [InlineData(true, true, false)]   // the worker is stopping: the chunk is handed back, whatever job.json says
    public async Task RunChunkAsync_OperationCanceled_IsJobCanceledOnlyWhenJobJsonSaysCanceled(bool canceled, bool workerStopping, bool expected)
    {
        var options = new StorageOptions { ConnectionString = Azurite.ConnectionString, ContainerPrefix = $"c{Guid.NewGuid():N}"[..12] + "-" };
        var storage = new JobStorage(BlobStore.FromConnectionString(Azurite.ConnectionString), Options.Create(options), NullLogger<JobStorage>.Instance);
        await storage.Results.EnsureContainerAsync();
        var request = new JobRequest { Content = ["uploads/j/c.png"], Styles = [new StyleInput("styles/s.png")], Height = 32, Iterations = 1 };
        var document = JobDocument.Submitted("j-cancel-aware", request);
        await storage.Documents.UpdateAsync("j-cancel-aware", _ => canceled ? document.Canceled("canceled by request") : document);
        var work = new CancelAwareStyleWork(new Stopped(), storage);
        using var stopping = new CancellationTokenSource();
        if (workerStopping)
        {
            await stopping.CancelAsync();
        }

        var chunk = new ChunkInput("j-cancel-aware", JobPlan.Create("j-cancel-aware", request).Pairs[0], request, 0);
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => work.RunChunkAsync(chunk, stopping.Token));

        Assert.Equal(expected, error is JobCanceledException);
        Assert.Equal("stopped", error.Message);
        await BlobStore.FromConnectionString(Azurite.ConnectionString).DeleteContainerAsync(options.Container(options.Results), CancellationToken.None);
    }
}
