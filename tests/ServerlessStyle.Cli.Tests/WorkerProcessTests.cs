using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessStyle.Cli.Samples;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// The reference every test here compares with: the same job run by <c>run</c> alone (one process, one worker), once
/// for the class, and the drawn inputs (a landscape and four variations of the swirls, one result per style).
/// </summary>
public sealed class WorkerJobFixture : IDisposable
{
    private readonly Lazy<Task<string>> _reference;

    public WorkerJobFixture()
    {
        Folder = Directory.CreateTempSubdirectory("serverless-style-workers-").FullName;
        var content = Path.Combine(Folder, "landscape.png");
        using (var landscape = SamplePictures.Landscape())
        {
            File.WriteAllBytes(content, SamplePictures.ToPng(landscape));
        }

        var request = new List<string> { "--content", content };
        Action<IImageProcessingContext>[] variations = [_ => { }, x => x.Flip(FlipMode.Horizontal), x => x.Rotate(RotateMode.Rotate180), x => x.Invert()];
        for (var k = 0; k < variations.Length; k++)
        {
            using var swirls = SamplePictures.Swirls();
            swirls.Mutate(variations[k]);
            var style = Path.Combine(Folder, $"swirls{k}.png");
            swirls.SaveAsPng(style);
            request.AddRange(["--style", style]);
        }

        // Small and quick: 4 pairs x 2 chunks of 6 evaluations of a random VGG19 at 32 px (about half a second a chunk).
        request.AddRange(["--network", "random-vgg19", "--provider", "cpu", "--height", "32", "--iterations", "2", "--evaluations", "6"]);
        Request = [.. request];
        _reference = new Lazy<Task<string>>(RunReferenceAsync);
    }

    public string Folder { get; }

    /// <summary>The run options of the job (inputs, network, size).</summary>
    public string[] Request { get; }

    /// <summary>The single-process run's job folder (DIR/{job}/), run by the first test that asks.</summary>
    public Task<string> ReferenceAsync() => _reference.Value;

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private async Task<string> RunReferenceAsync()
    {
        var storage = WorkerProcessTests.Storage;
        var result = await CliProcess.RunInProcessAsync(["run", .. Request, "--storage", storage, "--task-hub", WorkerProcessTests.NewHub(), "--out", Path.Combine(Folder, "reference")]);
        Assert.True(result.ExitCode == 0, $"reference run exit {result.ExitCode}: {result.Error}");
        return Assert.Single(Directory.GetDirectories(Path.Combine(Folder, "reference")));
    }
}

/// <summary>
/// <c>worker</c>, <c>run --detach</c> and <c>jobs</c> as real processes on the test run's Azurite (blob, queue and
/// table): several workers share one task hub, a killed worker's chunk moves to another, a stopped worker hands its
/// chunk back, and a finished job is read by a process that had no part in it. Each test has a task hub of its own.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Process")]
public sealed class WorkerProcessTests(WorkerJobFixture fixture) : IClassFixture<WorkerJobFixture>, IDisposable
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    // Short limits, so a killed worker's chunk and partitions move within seconds (the defaults are 15 s).
    internal static readonly IReadOnlyDictionary<string, string?> ShortLimits = new Dictionary<string, string?>
    {
        ["ServerlessStyle__Durable__WorkItemVisibilityTimeout"] = "00:00:05",
        ["ServerlessStyle__Durable__ControlQueueVisibilityTimeout"] = "00:00:05",
        ["ServerlessStyle__Durable__LeaseInterval"] = "00:00:06",
        ["ServerlessStyle__Durable__LeaseRenewInterval"] = "00:00:02",
        ["ServerlessStyle__Durable__LeaseAcquireInterval"] = "00:00:02",
    };

    private readonly string _hub = NewHub();
    private readonly string _out = Directory.CreateTempSubdirectory("serverless-style-jobs-").FullName;
    private readonly List<CliProcess.Child> _workers = [];

    /// <summary>The test run's Azurite: these tests need blob, queue and table, which scripts/with-azurite.sh starts.</summary>
    public static string Storage => CliProcess.EnvironmentStorage
        ?? throw new InvalidOperationException("AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh (blob, queue and table).");

    public static string NewHub() => $"t{Guid.NewGuid():N}"[..12];

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        Directory.Delete(_out, recursive: true);
    }

    [Fact]
    public void Worker_RetentionScheduleThatDoesNotParse_ExitsBeforeJoiningNamingTheSettingAndValue()
    {
        // Five fields: KEDA's cron form, not the Functions timer's NCRONTAB with seconds.
        using var worker = CliProcess.Start(
            ["worker", "--storage", Storage, "--task-hub", _hub, "--provider", "cpu"],
            environment: new Dictionary<string, string?> { ["RETENTION_SCHEDULE"] = "30 3 * * *" });

        Assert.True(worker.Process.WaitForExit(TimeSpan.FromSeconds(60)), $"the worker is still running: {worker.Output}");
        worker.Process.WaitForExit();
        Assert.Equal(1, worker.Process.ExitCode);
        Assert.Contains("RETENTION_SCHEDULE '30 3 * * *' is not an NCRONTAB expression with seconds", worker.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("joined task hub", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workers_ThreeProcessesOneJob_RunTheActivitiesInSeveralAndMatchASingleProcessRun()
    {
        var reference = await fixture.ReferenceAsync();
        for (var k = 0; k < 3; k++)
        {
            await StartWorkerAsync();
        }

        var job = await SubmitAsync();
        await WaitAsync(job);
        var workerIds = await StopWorkersAsync();

        // Which worker ran what, from each worker's own log: one line per activity with its worker id.
        var ran = _workers.Select(w => ActivityLines(w, job, "done").Count).ToList();
        Assert.True(ran.Count(n => n > 0) >= 2, $"activities per worker: {string.Join(", ", ran)}; the job ran in one process only");
        Assert.Equal(2 * 4, _workers.Sum(w => ActivityLines(w, job, "done").Count(l => l.StartsWith("RunChunk", StringComparison.Ordinal))));
        Assert.Equal(3, workerIds.Distinct().Count());
        AssertSameFinals(reference, Path.Combine(_out, job));
    }

    [Fact]
    public async Task Worker_KilledWithSigkillMidChunk_JobCompletesOnTheOtherWithEveryLossRowOnce()
    {
        var reference = await fixture.ReferenceAsync();
        string? killedJob = null;
        CliProcess.Child? victim = null;
        var killed = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<CliProcess.Child, string> killAtChunkStart = (worker, line) =>
        {
            // The first chunk any worker starts: killed as the line arrives, while the chunk computes.
            if (killedJob is not null && line.Contains($"RunChunk for {killedJob}-p", StringComparison.Ordinal) && line.Contains(" started ", StringComparison.Ordinal)
                && Interlocked.CompareExchange(ref victim, worker, null) is null)
            {
                worker.Process.Kill();
                killed.TrySetResult(Stopwatch.GetTimestamp());
            }
        };
        await StartWorkerAsync(killAtChunkStart);
        await StartWorkerAsync(killAtChunkStart);

        killedJob = await SubmitAsync();
        var killedAt = await killed.Task.WaitAsync(JobTimeout);
        await WaitAsync(killedJob);
        var recovery = Stopwatch.GetElapsedTime(killedAt);
        await StopWorkersAsync();

        var survivor = _workers.Single(w => w != victim);
        var started = ActivityLines(victim!, killedJob, "started").Last(l => l.StartsWith("RunChunk", StringComparison.Ordinal));
        Assert.DoesNotContain(ActivityLines(victim!, killedJob, "done"), l => l.StartsWith("RunChunk", StringComparison.Ordinal));
        Assert.Contains(ActivityLines(survivor, killedJob, "done"), l => l.StartsWith(started[..started.IndexOf(" started", StringComparison.Ordinal)], StringComparison.Ordinal));
        AssertLossRowsOnce(Path.Combine(_out, killedJob), evaluations: 2 * 6);
        AssertSameFinals(reference, Path.Combine(_out, killedJob));
        Assert.True(recovery < TimeSpan.FromSeconds(90), $"the job took {recovery} to finish after the kill");
    }

    [Fact]
    public async Task Worker_KilledWithSigkillMidTile_TiledJobCompletesOnTheOtherBitwiseEqualToAnUninterruptedRun()
    {
        // One pair at 48x72 as 2x2 tiles of 40 px (overlap 8), 2 iterations of 6 evaluations: 8 RunTile, 2 BlendTiles.
        string[] request =
        [
            "--content", Path.Combine(fixture.Folder, "landscape.png"), "--style", Path.Combine(fixture.Folder, "swirls0.png"), "--network", "random-vgg19",
            "--provider", "cpu", "--height", "48", "--iterations", "2", "--evaluations", "6", "--tile", "40", "--tile-overlap", "8",
        ];
        var referenceOut = Path.Combine(_out, "reference");
        var reference = await CliProcess.RunInProcessAsync(["run", .. request, "--storage", Storage, "--task-hub", NewHub(), "--out", referenceOut]);
        Assert.True(reference.ExitCode == 0, $"reference run exit {reference.ExitCode}: {reference.Error}");
        var referenceJob = Assert.Single(Directory.GetDirectories(referenceOut));

        string? killedJob = null;
        CliProcess.Child? victim = null;
        Action<CliProcess.Child, string> killAtTileStart = (worker, line) =>
        {
            if (killedJob is not null && line.Contains($"RunTile for {killedJob}-p", StringComparison.Ordinal) && line.Contains(" started ", StringComparison.Ordinal)
                && Interlocked.CompareExchange(ref victim, worker, null) is null)
            {
                worker.Process.Kill();
            }
        };
        await StartWorkerAsync(killAtTileStart);
        await StartWorkerAsync(killAtTileStart);
        var (code, output, error) = await CliProcess.RunInProcessAsync(["run", .. request, "--storage", Storage, "--task-hub", _hub, "--detach"]);
        Assert.True(code == 0, $"run --detach exit {code}: {error}");
        killedJob = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        await WaitAsync(killedJob);
        await StopWorkersAsync();

        Assert.NotNull(victim);
        var started = ActivityLines(victim!, killedJob, "started").Last(l => l.StartsWith("RunTile", StringComparison.Ordinal));
        Assert.DoesNotContain(ActivityLines(victim!, killedJob, "done"), l => l.StartsWith("RunTile", StringComparison.Ordinal));
        var survivor = _workers.Single(w => w != victim);
        Assert.Contains(ActivityLines(survivor, killedJob, "done"), l => l.StartsWith(started[..started.IndexOf(" started", StringComparison.Ordinal)], StringComparison.Ordinal));

        // Every image and the loss log, byte for byte as the uninterrupted run's: the killed tile lost nothing.
        var files = Directory.GetFiles(referenceJob, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) is "final.png" or "loss.csv" || Path.GetFileName(f).StartsWith("res_at_iteration_", StringComparison.Ordinal)).ToList();
        Assert.Contains(files, f => f.EndsWith("res_at_iteration_1.png", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var actual = Path.Combine(_out, killedJob, Path.GetRelativePath(referenceJob, file));
            Assert.True(File.Exists(actual) && File.ReadAllBytes(file).SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from the uninterrupted run's {file}");
        }
    }

    [Fact]
    public async Task Worker_SigtermMidChunk_EndsWithin30sHandsTheChunkBackAndLosesNothing()
    {
        var reference = await fixture.ReferenceAsync();
        string? job = null;
        var stopped = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await StartWorkerAsync((worker, line) =>
        {
            if (job is not null && line.Contains($"RunChunk for {job}-p", StringComparison.Ordinal) && line.Contains(" started ", StringComparison.Ordinal)
                && !stopped.Task.IsCompleted)
            {
                Signal(worker.Process, "TERM");
                stopped.TrySetResult(Stopwatch.GetTimestamp());
            }
        });

        job = await SubmitAsync();
        var sentAt = await stopped.Task.WaitAsync(JobTimeout);
        var first = _workers[0];
        using (var thirty = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await first.Process.WaitForExitAsync(thirty.Token);
        }

        var stopTime = Stopwatch.GetElapsedTime(sentAt);
        Assert.True(first.Process.ExitCode == 0, $"exit {first.Process.ExitCode} after SIGTERM: {first.Error}");
        Assert.Contains(ActivityLines(first, job, "abandoned"), l => l.StartsWith("RunChunk", StringComparison.Ordinal));
        Assert.DoesNotContain(" at ", first.Error);

        // Another worker finishes the job from what the first left: nothing lost, nothing twice.
        await StartWorkerAsync();
        await WaitAsync(job);
        AssertLossRowsOnce(Path.Combine(_out, job), evaluations: 2 * 6);
        AssertSameFinals(reference, Path.Combine(_out, job));
        Assert.True(stopTime < TimeSpan.FromSeconds(30), $"the worker took {stopTime} to stop");
    }

    [Fact]
    public async Task RunDetach_ThenJobsWaitAndShow_InNewProcesses_ReadTheFinishedJob()
    {
        await StartWorkerAsync();
        string job;
        using (var submit = CliProcess.Start(["run", .. fixture.Request, "--storage", Storage, "--task-hub", _hub, "--detach"]))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await submit.Process.WaitForExitAsync(timeout.Token);
            Assert.True(submit.Process.ExitCode == 0, $"run --detach exit {submit.Process.ExitCode}: {submit.Error}");
            job = submit.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        }

        using (var wait = CliProcess.Start(["jobs", "wait", job, "--storage", Storage, "--task-hub", _hub, "--out", _out, "--timeout", "240"]))
        {
            using var timeout = new CancellationTokenSource(JobTimeout);
            await wait.Process.WaitForExitAsync(timeout.Token);
            Assert.True(wait.Process.ExitCode == 0, $"jobs wait exit {wait.Process.ExitCode}: {wait.Error}");
        }

        await StopWorkersAsync();
        Assert.Equal(4, Directory.GetFiles(Path.Combine(_out, job), "final.png", SearchOption.AllDirectories).Length);

        // No worker any more: status and output come from the task hub's tables, read by a process of their own.
        using var show = CliProcess.Start(["jobs", "show", job, "--storage", Storage, "--task-hub", _hub]);
        await show.Process.WaitForExitAsync();
        Assert.True(show.Process.ExitCode == 0, $"jobs show exit {show.Process.ExitCode}: {show.Error}");
        using var json = JsonDocument.Parse(show.Output);
        Assert.Equal("Completed", json.RootElement.GetProperty("state").GetString());
        var pairs = json.RootElement.GetProperty("pairs").EnumerateArray().ToList();
        Assert.Equal(4, pairs.Count);
        Assert.All(pairs, pair =>
        {
            Assert.Equal(2, pair.GetProperty("iteration").GetInt32());
            Assert.True(pair.GetProperty("loss").GetDouble() > 0);
        });

        using var cancel = CliProcess.Start(["jobs", "cancel", job, "--storage", Storage, "--task-hub", _hub]);
        await cancel.Process.WaitForExitAsync();
        Assert.Equal(0, cancel.Process.ExitCode);
        Assert.Contains($"job {job} had already ended (completed); nothing to cancel.", cancel.Output);

        using var waitAgain = CliProcess.Start(["jobs", "wait", "no-such-job", "--storage", Storage, "--task-hub", _hub]);
        await waitAgain.Process.WaitForExitAsync();
        Assert.NotEqual(0, waitAgain.Process.ExitCode);
        Assert.Contains($"no job no-such-job in task hub {_hub}", waitAgain.Error);
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Each worker's activity lines for <paramref name="job"/> that end as <paramref name="how"/>: "RunChunk for job-p1 ...".</summary>
    private static List<string> ActivityLines(CliProcess.Child worker, string job, string how) =>
        worker.Output.Split('\n')
            .Select(l => Regex.Match(l, @"^\S+ (\w+ for " + Regex.Escape(job) + @"\S* " + how + ".*)$"))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value.TrimEnd('\r'))
            .ToList();

    /// <summary>Every pair's loss.csv numbers its evaluations 1..N once each.</summary>
    private static void AssertLossRowsOnce(string jobFolder, int evaluations)
    {
        var logs = Directory.GetFiles(jobFolder, "loss.csv", SearchOption.AllDirectories);
        Assert.Equal(4, logs.Length);
        foreach (var log in logs)
        {
            var numbers = File.ReadAllLines(log).Skip(1).Where(l => l.Length > 0).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(1, evaluations), numbers);
        }
    }

    /// <summary>The final image of every pair, byte for byte as in the single-process run.</summary>
    private static void AssertSameFinals(string reference, string jobFolder)
    {
        var expected = Directory.GetFiles(reference, "final.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(4, expected.Count);
        foreach (var file in expected)
        {
            var actual = Path.Combine(jobFolder, Path.GetRelativePath(reference, file));
            Assert.True(File.Exists(actual), $"{actual} is missing");
            Assert.True(File.ReadAllBytes(file).SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from the single-process run's {file}");
        }
    }

    private async Task StartWorkerAsync(Action<CliProcess.Child, string>? onLine = null)
    {
        var worker = CliProcess.Start(["worker", "--storage", Storage, "--task-hub", _hub, "--provider", "cpu"], environment: ShortLimits, onLine: onLine);
        _workers.Add(worker);
        var clock = Stopwatch.StartNew();
        while (!worker.Output.Contains($"joined task hub {_hub}", StringComparison.Ordinal))
        {
            Assert.True(!worker.Process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60), $"the worker did not join; output: {worker.Output}; error: {worker.Error}");
            await Task.Delay(50);
        }
    }

    /// <summary>Submits the fixture's job with <c>run --detach</c>: its id is the last line of standard output.</summary>
    private async Task<string> SubmitAsync()
    {
        var (code, output, error) = await CliProcess.RunInProcessAsync(["run", .. fixture.Request, "--storage", Storage, "--task-hub", _hub, "--detach"]);
        Assert.True(code == 0, $"run --detach exit {code}: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
    }

    /// <summary><c>jobs wait --out</c>: the job completed and its files are in the test's folder.</summary>
    private async Task WaitAsync(string job)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync("jobs", "wait", job, "--storage", Storage, "--task-hub", _hub, "--out", _out, "--timeout", "240");
        Assert.True(code == 0, $"jobs wait exit {code}: {error}; workers: {string.Join(" | ", _workers.Select(w => w.Output[Math.Max(0, w.Output.Length - 2000)..]))}");
    }

    /// <summary>SIGTERM to every live worker; returns the worker ids they logged.</summary>
    private async Task<List<string>> StopWorkersAsync()
    {
        foreach (var worker in _workers.Where(w => !w.Process.HasExited))
        {
            Signal(worker.Process, "TERM");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var worker in _workers)
        {
            await worker.Process.WaitForExitAsync(timeout.Token);
        }

        return _workers.Select(w => Regex.Match(w.Output, @"worker (\S+) joined").Groups[1].Value).ToList();
    }
}
