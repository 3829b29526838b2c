using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// An input that kills its worker must not be retried for ever: the process running a chunk is killed (-9) while the
/// chunk runs, the job resumed and killed again in the same chunk, and after the third death the job fails with a
/// reason that says so, instead of starting that chunk a fourth time.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Process")]
public sealed class PoisonTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("poison-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task Run_WorkerKilledThreeTimesInTheSameChunk_FailsTheJobSayingWhy()
    {
        var connection = CliProcess.EnvironmentStorage;
        Assert.False(connection is null, "AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh.");
        var storage = new JobStorage(BlobStore.FromConnectionString(connection), Options.Create(new StorageOptions()), NullLogger<JobStorage>.Instance);

        // 100 evaluations of VGG19 at 64 px: a chunk takes seconds, long enough to be killed inside.
        string[] request = ["--network", "random-vgg19", "--provider", "cpu", "--height", "64", "--iterations", "2", "--evaluations", "100", "--storage", connection];
        string? job = null;
        for (var death = 1; death <= 3; death++)
        {
            using var child = CliProcess.Start(job is null ? ["run", .. request, "--out", _out] : ["run", "--resume", job, "--storage", connection, "--out", _out]);
            job ??= (await child.WaitForLineAsync("job: ", TimeSpan.FromSeconds(60))).Trim();
            await WaitForStartsAsync(storage, job, death, child, TimeSpan.FromSeconds(120));
            child.Process.Kill();
            await child.Process.WaitForExitAsync();
        }

        // Three starts of chunk 0, none of which ended: each worker died inside it.
        Assert.Equal(new AttemptCount(3, 0), await storage.Attempts.ReadAsync(job!, "p0-sample-swirls/chunk-0000"));

        var (code, _, error) = await CliProcess.RunInProcessAsync("run", "--resume", job!, "--storage", connection, "--out", _out);

        Assert.NotEqual(0, code);
        Assert.Contains("stopped the worker 3 times", error, StringComparison.Ordinal);
        var document = await storage.Documents.ReadAsync(job!);
        Assert.Equal(JobState.Failed, document!.State);
        Assert.Contains("chunk 0 of p0-sample-swirls stopped the worker 3 times", document.Reason, StringComparison.Ordinal);
    }

    /// <summary>Waits until chunk 0 of the job has been started <paramref name="starts"/> times (it is running now).</summary>
    private static async Task WaitForStartsAsync(JobStorage storage, string job, int starts, CliProcess.Child child, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while ((await storage.Attempts.ReadAsync(job, "p0-sample-swirls/chunk-0000")).Started < starts)
        {
            Assert.True(
                clock.Elapsed < timeout && !child.Process.HasExited,
                $"chunk 0 was not started {starts} times within {timeout}; output: {child.Output}; error: {child.Error}");
            await Task.Delay(50);
        }
    }
}
