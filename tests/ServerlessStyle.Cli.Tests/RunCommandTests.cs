using Azure.Storage.Blobs.Models;
using ServerlessStyle.Cli.Samples;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// <c>run</c> end to end over real parts: the in-process durable engine, real ONNX Runtime, the Azurite of the test
/// run (or the one the CLI starts itself when there is none), the drawn sample pictures.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Process")]
public sealed class RunCommandTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("serverless-style-run-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task Run_ReadmeCommandAtSmallSize_WritesDecodableImagesThatDifferFromTheContent()
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync("run", "--height", "48", "--iterations", "2", "--evaluations", "5", "--out", _out);

        Assert.True(code == 0, $"exit {code}: {error}");
        var job = Assert.Single(Directory.GetDirectories(_out));
        var pair = Path.Combine(job, "p0-sample-swirls");
        Assert.True(File.Exists(Path.Combine(job, "job.json")));
        Assert.True(File.Exists(Path.Combine(job, "inputs", "content", SamplePictures.ContentFileName)));
        foreach (var file in new[] { "res_at_iteration_0.png", "res_at_iteration_1.png", "final.png" })
        {
            using var image = Image.Load<Rgb24>(Path.Combine(pair, file));
            Assert.Equal(48, image.Height);
        }

        // The content as the engine saw it: the drawn landscape scaled to 48 px high.
        using var landscape = SamplePictures.Landscape();
        var content = ImageWriter.ToImage(ImageLoader.LoadToHeight(SamplePictures.ToPng(landscape), 48));
        using var final = Image.Load<Rgb24>(Path.Combine(pair, "final.png"));
        Assert.Equal((content.Width, content.Height), (final.Width, final.Height));

        // An unchanged image would differ by under 0.5 per channel (PNG stores the rounded start point); ten style
        // evaluations move the pixels far more, so a mean above 2 grey levels shows the optimiser really changed it.
        Assert.True(MeanAbsoluteDifference(content, final) > 2.0, "the final image is (almost) the content image");
        var rows = File.ReadAllLines(Path.Combine(pair, "loss.csv"));
        Assert.Equal("evaluation,iteration,content,style,tv,loss", rows[0]);
        Assert.InRange(rows.Length - 1, 2, 10);
    }

    [Fact]
    public async Task Run_InterruptedByCtrlCThenResumed_GivesTheSameFinalImageAsAnUninterruptedRun()
    {
        // A process started in the background by a non-interactive shell ignores SIGINT, and so do its children: then
        // Ctrl-C cannot be simulated at all. Say so instead of failing on the child's exit code.
        Assert.False(SigIntIgnored(), "SIGINT is ignored in this test process (started as a background job?), so the child would ignore it too.");
        string[] request = ["--network", "resnet18", "--height", "48", "--iterations", "40", "--evaluations", "4"];
        string job;
        string? storage;
        IReadOnlyDictionary<string, string>? finished = null;
        using (var child = CliProcess.Start(["run", .. request, "--out", _out]))
        {
            var connection = await child.StorageAsync(TimeSpan.FromSeconds(60));
            storage = CliProcess.EnvironmentStorage;
            job = (await child.WaitForLineAsync("job: ", TimeSpan.FromSeconds(60))).Trim();
            // Interrupted once two chunks have reported done, read from the child's own progress lines: polling the
            // storage for a checkpoint reacted too late under a loaded test run, after the whole job had finished.
            await WaitForIterationAsync(child, iteration: 2, TimeSpan.FromSeconds(120));
            await WaitForCheckpointAsync(connection, job, chunk: 1, TimeSpan.FromSeconds(10));

            var interrupted = System.Diagnostics.Stopwatch.StartNew();
            using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", child.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await child.Process.WaitForExitAsync(timeout.Token);
            var stopTime = interrupted.Elapsed;
            // 130 = 128 + SIGINT: a clean stop; a crash (SIGSEGV while native sessions were disposed under a running
            // evaluation, as before the worker handed its chunk back) would end in 139.
            Assert.True(
                child.Process.ExitCode == 130,
                $"exit {child.Process.ExitCode} after SIGINT; output: {child.Output[Math.Max(0, child.Output.Length - 1500)..]}; error: {child.Error}");
            Assert.True(stopTime < TimeSpan.FromSeconds(10), $"the run took {stopTime} to stop after Ctrl-C");
            Assert.Contains($"run --resume {job}", child.Error);
            Assert.DoesNotContain(" at ", child.Error);
            if (storage is not null)
            {
                // Only a shared Azurite outlives the child; its own stopped with it. A chunk is finished once a later
                // checkpoint exists (checkpoints are written behind, after the image): the image of a chunk stopped
                // before its checkpoint is written again by the resume, legitimately, and is not compared.
                var latest = await LatestCheckpointAsync(storage, job);
                finished = (await IterationImagesAsync(storage, job))
                    .Where(blob => BlobLayout.TryParseIterationImage(blob.Key[(blob.Key.LastIndexOf('/') + 1)..], out var i) && i < latest)
                    .ToDictionary(blob => blob.Key, blob => blob.Value, StringComparer.Ordinal);
            }
        }

        var resumed = await CliProcess.RunInProcessAsync(["run", "--resume", job, "--out", _out, .. Storage(storage)]);
        Assert.True(resumed.ExitCode == 0, $"resume exit {resumed.ExitCode}: {resumed.Error}");

        // The resume computed none of the chunks that had finished: their iteration images are the very blobs the
        // interrupted run wrote (same ETags), and its first progress line is past them, not at iteration 0.
        if (finished is not null)
        {
            Assert.True(finished.Count >= 1, "no finished chunk's image before the resume");
            var after = await IterationImagesAsync(storage!, job);
            Assert.All(finished, blob => Assert.Equal(blob.Value, after.GetValueOrDefault(blob.Key)));
        }

        var firstProgress = System.Text.RegularExpressions.Regex.Match(resumed.Output, @"iteration (\d+)/");
        Assert.True(
            firstProgress.Success && int.Parse(firstProgress.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 2,
            $"the resumed run started its progress at '{firstProgress.Value}'");
        var uninterrupted = await CliProcess.RunInProcessAsync(["run", .. request, "--out", Path.Combine(_out, "whole"), .. Storage(storage)]);
        Assert.True(uninterrupted.ExitCode == 0, $"exit {uninterrupted.ExitCode}: {uninterrupted.Error}");

        var resumedFinal = Path.Combine(_out, job, "p0-sample-swirls", "final.png");
        var wholeFinal = Assert.Single(Directory.GetFiles(Path.Combine(_out, "whole"), "final.png", SearchOption.AllDirectories));
        Assert.Equal(await File.ReadAllBytesAsync(wholeFinal), await File.ReadAllBytesAsync(resumedFinal));
    }

    private static string[] Storage(string? connection) => connection is null ? [] : ["--storage", connection];

    /// <summary>A job's iteration images in the results container with their ETags: what its finished chunks wrote.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> IterationImagesAsync(string connection, string job)
    {
        var results = BlobClients.FromConnectionString(connection).GetBlobContainerClient("results");
        var blobs = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var blob in results.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{job}/", CancellationToken.None))
        {
            if (blob.Name.Contains("/res_at_iteration_", StringComparison.Ordinal))
            {
                blobs[blob.Name] = blob.Properties.ETag!.Value.ToString();
            }
        }

        return blobs;
    }

    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }

    private static async Task WaitForIterationAsync(CliProcess.Child child, int iteration, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!System.Text.RegularExpressions.Regex.Matches(child.Output, @"iteration (\d+)/")
            .Any(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= iteration))
        {
            Assert.True(clock.Elapsed < timeout && !child.Process.HasExited, $"no progress line at iteration {iteration} within {timeout}; output: {child.Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits for a checkpoint at <paramref name="chunk"/> or later: the storage cleanup deletes state i-2 once state i is
    /// stored, so a fast run may already have removed the very one asked for.
    /// </summary>
    /// <summary>The highest checkpoint index of the job's pair: chunks below it are finished.</summary>
    private static async Task<int> LatestCheckpointAsync(string connection, string job)
    {
        var work = BlobClients.FromConnectionString(connection).GetBlobContainerClient("work");
        var latest = -1;
        await foreach (var blob in work.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{job}/p0-sample-swirls/state-", CancellationToken.None))
        {
            if (BlobLayout.TryParseState(blob.Name, out var index))
            {
                latest = Math.Max(latest, index);
            }
        }

        return latest;
    }

    private static async Task WaitForCheckpointAsync(string connection, string job, int chunk, TimeSpan timeout)
    {
        var work = BlobClients.FromConnectionString(connection).GetBlobContainerClient("work");
        var prefix = $"{job}/p0-sample-swirls/state-";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await foreach (var blob in work.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None))
            {
                if (int.TryParse(blob.Name[prefix.Length..].Replace(".bin", "", StringComparison.Ordinal), out var index) && index >= chunk)
                {
                    return;
                }
            }

            Assert.True(clock.Elapsed < timeout, $"no checkpoint {prefix}{chunk:0000}.bin or later within {timeout}");
            await Task.Delay(100);
        }
    }

    private static double MeanAbsoluteDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        double sum = 0;
        for (var y = 0; y < a.Height; y++)
        {
            for (var x = 0; x < a.Width; x++)
            {
                var (p, q) = (a[x, y], b[x, y]);
                sum += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
            }
        }

        return sum / (3.0 * a.Width * a.Height);
    }
}
