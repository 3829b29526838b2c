using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Cli.Samples;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace ServerlessStyle.Cli.Tests.Scaling;

/// <summary>The drawn inputs of the simulated jobs: a landscape and three variations of the swirls.</summary>
public sealed class ScalingInputs : IDisposable
{
    public ScalingInputs()
    {
        Folder = Directory.CreateTempSubdirectory("serverless-style-scaling-").FullName;
        Content = Path.Combine(Folder, "landscape.png");
        using (var landscape = SamplePictures.Landscape())
        {
            File.WriteAllBytes(Content, SamplePictures.ToPng(landscape));
        }

        Action<IImageProcessingContext>[] variations = [_ => { }, x => x.Flip(FlipMode.Horizontal), x => x.Rotate(RotateMode.Rotate180)];
        Styles = [.. variations.Select((vary, k) =>
        {
            using var swirls = SamplePictures.Swirls();
            swirls.Mutate(vary);
            var style = Path.Combine(Folder, $"swirls{k}.png");
            swirls.SaveAsPng(style);
            return style;
        })];
    }

    public string Folder { get; }

    public string Content { get; }

    public IReadOnlyList<string> Styles { get; }

    /// <summary>run's options for one job: the landscape with <paramref name="styles"/> (one pair each), a random VGG19 at 32 px.</summary>
    public string[] Request(IEnumerable<int> styles, int iterations, int evaluations) =>
        ["--content", Content, .. styles.SelectMany(k => new[] { "--style", Styles[k] }),
         "--network", "random-vgg19", "--provider", "cpu", "--height", "32",
         "--iterations", iterations.ToString(CultureInfo.InvariantCulture), "--evaluations", evaluations.ToString(CultureInfo.InvariantCulture)];

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>
/// The scaling simulation: infra/scale-rules.json evaluated as KEDA evaluates it against the task hub's queues in
/// Azurite, with a polling interval of 1 s and a cooldown of 10 s instead of Container Apps' 30 s and 300 s, starting
/// and stopping real <c>worker</c> processes (each one replica: the same orchestrations, activities, backend and queues
/// as a Functions replica). Each test prints its timeline and replica-seconds (run with
/// <c>--logger "console;verbosity=detailed"</c> to see them). The retention scenario adds the file's cron window,
/// compressed into seconds, and gives the workers the Functions app's RETENTION_SCHEDULE.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ScalingSimulationTests(ScalingInputs inputs, ITestOutputHelper output) : IClassFixture<ScalingInputs>, IDisposable
{
    // About a minute on two free cores; generous for a machine shared with other builds.
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(6);

    private readonly string _hub = WorkerProcessTests.NewHub();
    private readonly string _out = Directory.CreateTempSubdirectory("serverless-style-scaled-").FullName;

    private static string Storage => WorkerProcessTests.Storage;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task FromZero_JobOfThreePairs_StartsAtTheFirstPollReachesThreeMatchesOneWorkerAndReturnsToZero()
    {
        var request = inputs.Request([0, 1, 2], iterations: 2, evaluations: 6);
        var reference = await ReferenceAsync(request);
        await using var scaler = Autoscaler();
        scaler.Start();

        var submitted = scaler.Now;
        var job = await SubmitAsync(request);
        await WaitAsync(job, scaler);
        var done = scaler.Now;
        await scaler.WaitForAsync(t => t.Count > 0 && t[^1].Replicas == 0 && scaler.Replicas.All(r => r.ExitedAt is not null), TimeSpan.FromMinutes(1), "back to zero");
        var timeline = scaler.Timeline;
        var report = scaler.Report();
        output.WriteLine(report);

        // The first poll that saw the job's message started the first replica: within one interval of it.
        var first = timeline.First(p => p.Active);
        Assert.True(first.Replicas == 1, report);
        Assert.True(timeline.TakeWhile(p => p != first).All(p => p.Replicas == 0), report);

        // The fleet reached 3, one per pair, while the work-item queue held 3 chunks (running or waiting). It may
        // briefly ask for more: a finished activity's message is counted until the worker deletes it, and the
        // orchestration may have queued the pair's next chunk by then.
        var workItems = $"{_hub}-workitems";
        Assert.Contains(timeline, p => p.Replicas >= 3 && p.Lengths[workItems] >= 3);

        AssertSameFinals(reference, Path.Combine(_out, job), pairs: 3);
        AssertLossRowsOnce(Path.Combine(_out, job), pairs: 3, evaluations: 2 * 6);

        // Back to zero only once no rule was active for the cooldown.
        var lastActive = timeline.Last(p => p.Active);
        var zero = timeline.First(p => p.At > lastActive.At && p.Replicas == 0);
        Assert.True(zero.At - lastActive.At >= scaler.Cooldown, report);
        Assert.True(timeline.Where(p => p.At > first.At && p.At <= done).All(p => p.Replicas > 0), report);

        PrintCost(scaler, "three pairs", submitted, done);
    }

    [Fact]
    public async Task ScaleIn_BusyWorkerGetsSigtermThenSigkill_NothingLostOrDoubledAndResultsMatchOneWorker()
    {
        // Chunks of 12 evaluations (about a second each on two free cores): a replica is mid-chunk when the scale-in comes.
        var request = inputs.Request([0, 1, 2], iterations: 2, evaluations: 12);
        var reference = await ReferenceAsync(request);
        await using var scaler = Autoscaler();
        scaler.Start();

        var submitted = scaler.Now;
        var job = await SubmitAsync(request);

        // Once the fleet is at 3, maxReplicas drops to 2 at the first poll where a replica runs a chunk: that poll removes
        // one, a chunk runner first, with SIGTERM and SIGKILL after the grace, as a platform scale-in that does not
        // pick an idle replica.
        await scaler.WaitForAsync(_ => scaler.Current == 3, JobTimeout, "3 replicas");
        scaler.MaxReplicasOnceAChunkRuns = 2;
        await WaitAsync(job, scaler);
        var done = scaler.Now;
        await scaler.WaitForAsync(t => t.Count > 0 && t[^1].Replicas == 0 && scaler.Replicas.All(r => r.ExitedAt is not null), TimeSpan.FromMinutes(1), "back to zero");
        var report = scaler.Report();
        output.WriteLine(report);

        var victim = scaler.Replicas.FirstOrDefault(r => r.WasBusyAtStop && r.StopSentAt < done);
        Assert.True(victim is not null, $"no replica was busy when the scale-in stopped it\n{report}");

        // Loss rows and iteration images once each, and every final image bit for bit as one worker made it.
        AssertLossRowsOnce(Path.Combine(_out, job), pairs: 3, evaluations: 2 * 12);
        Assert.Equal(3 * 2, Directory.GetFiles(Path.Combine(_out, job), "res_at_iteration_*.png", SearchOption.AllDirectories).Length);
        AssertSameFinals(reference, Path.Combine(_out, job), pairs: 3);

        // How long the stopped chunk waited: from SIGTERM to its start on another replica (the workers' log clock).
        var pair = ChunkLines(victim, "started").Last(l => l.At <= victim.StopSentClock).Pair;
        var again = scaler.Replicas.Where(r => r != victim).SelectMany(r => ChunkLines(r, "started")).Where(l => l.Pair == pair && l.At >= victim.StopSentClock).Min(l => l.At);
        output.WriteLine($"scale-in: replica {victim.Number} got SIGTERM at {victim.StopSentAt!.Value.TotalSeconds:0.0} s while busy, " +
                         $"exited {(victim.ExitedAt!.Value - victim.StopSentAt.Value).TotalSeconds:0.0} s later{(victim.Killed ? " by SIGKILL" : "")}; " +
                         $"the chunk of {pair} it ran started again on another replica {(again - victim.StopSentClock!.Value).TotalSeconds:0.0} s after the SIGTERM");
        PrintCost(scaler, "three pairs, one replica scaled in mid-chunk", submitted, done);
    }

    [Fact]
    public async Task InboxAtZero_OneDrop_WakesTheFleetWhichStartsAndFinishesTheJobThenReturnsToZero()
    {
        // The library style under a name of this test's own; the drop goes to the inbox queue that every worker reads,
        // as Event Grid puts an upload's event there in Azure.
        var style = $"sim{Guid.NewGuid():N}"[..12];
        var storage = new JobStorage(BlobStore.FromConnectionString(Storage), Options.Create(new StorageOptions()), NullLogger<JobStorage>.Instance);
        await storage.Inputs.UploadAsync($"styles/{style}.png", BinaryData.FromBytes(await File.ReadAllBytesAsync(inputs.Styles[0])));
        await using var scaler = Autoscaler();
        scaler.Start();
        await scaler.WaitForAsync(t => t.Count >= 2, TimeSpan.FromSeconds(30), "two polls");
        Assert.All(scaler.Timeline, p => Assert.Equal(0, p.Replicas));

        var dropped = scaler.Now;
        var (code, text, error) = await CliProcess.RunInProcessAsync(
            "inbox", "drop", inputs.Content, "--styles", style, "--set", "height=32", "--set", "iterations=2", "--set", "evaluationsPerIteration=3",
            "--set", "network=random-vgg19", "--storage", Storage);
        Assert.True(code == 0, $"inbox drop exit {code}: {error}");
        var job = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Single(l => l.StartsWith("job: ", StringComparison.Ordinal))[5..];

        // The inbox rule woke the fleet at the first poll after the drop, and the job it started ran to its end.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JobDocument? document;
        while ((document = await storage.Documents.ReadAsync(job)) is not { State: JobState.Completed or JobState.Failed or JobState.Canceled })
        {
            Assert.True(clock.Elapsed < JobTimeout, $"job {job} of the drop did not end within {JobTimeout.TotalMinutes} min ({document?.State})\n{scaler.Report()}");
            await Task.Delay(500);
        }

        var done = scaler.Now;
        await scaler.WaitForAsync(t => t.Count > 0 && t[^1].Replicas == 0 && scaler.Replicas.All(r => r.ExitedAt is not null), TimeSpan.FromMinutes(1), "back to zero");
        var report = scaler.Report();
        output.WriteLine(report);
        Assert.True(document.State == JobState.Completed, $"{document.State}: {document.Reason}\n{report}");
        var first = scaler.Timeline.First(p => p.Active);
        Assert.True(first.At >= dropped && first.At - dropped <= scaler.Interval + TimeSpan.FromSeconds(2), $"first active poll at {first.At}, drop at {dropped}\n{report}");
        Assert.True(first.Replicas == 1, report);
        PrintCost(scaler, "one inbox drop at zero", dropped, done);
    }

    [Fact]
    public async Task RetentionAtZero_CronWindowOpens_OneWorkerPurgesTheExpiredJobKeepsTheFreshOneThenZero()
    {
        // Two ended jobs as the pipeline leaves them: one 40 days ago (past ResultDays 30: its results and inputs go), one
        // a day ago (within InputDays 7: it stays whole).
        var store = BlobStore.FromConnectionString(Storage);
        var options = new StorageOptions();
        var storage = new JobStorage(store, Options.Create(options), NullLogger<JobStorage>.Instance);
        await store.EnsureContainerAsync(options.Container(options.Results));
        var expired = $"retention-old-{Guid.NewGuid():N}"[..22];
        var fresh = $"retention-new-{Guid.NewGuid():N}"[..22];
        foreach (var (job, endedDaysAgo) in new[] { (expired, 40), (fresh, 1) })
        {
            await EndedJobAsync(storage, job, endedDaysAgo);
        }

        // The deployment's window and schedule compressed into seconds, near enough to run in CI: the worker's
        // RETENTION_SCHEDULE fires every minute at second S, 25 s from now; the retention window of infra/scale-rules.json
        // (its name, time zone and replicas) opens 20 s before S, as leadMinutes opens it before a cold start, and
        // closes 10 s after.
        var now = DateTimeOffset.UtcNow;
        var occurrence = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(25);
        static string EveryMinuteAt(DateTimeOffset t) => string.Create(CultureInfo.InvariantCulture, $"{t.Second} * * * * *");
        var rules = ScaleRules.Load(ScaleRules.DefaultPath, _hub, partitionCount: 4)
            .WithRetentionWindow(EveryMinuteAt(occurrence.AddSeconds(-20)), EveryMinuteAt(occurrence.AddSeconds(10)));
        var environment = new Dictionary<string, string?>(WorkerProcessTests.ShortLimits)
        {
            ["RETENTION_SCHEDULE"] = EveryMinuteAt(occurrence),
            ["ServerlessStyle__Retention__InputDays"] = "7",
            ["ServerlessStyle__Retention__ResultDays"] = "30",
        };
        await using var scaler = Autoscaler(rules, environment);
        scaler.Start();
        var occurrenceAt = scaler.Now + (occurrence - DateTimeOffset.UtcNow);

        await scaler.WaitForAsync(
            t => t.Any(p => p.WindowOpen) && t[^1] is { Replicas: 0, WindowOpen: false } && scaler.Replicas.Count > 0 && scaler.Replicas.All(r => r.ExitedAt is not null),
            TimeSpan.FromSeconds(90), "the window, the purge and back to zero");
        var timeline = scaler.Timeline;
        var report = scaler.Report();
        output.WriteLine(report);

        // At zero until the window opened; then one replica, the first poll that saw the window open started it.
        var replica = Assert.Single(scaler.Replicas);
        var opened = timeline.First(p => p.WindowOpen);
        Assert.True(timeline.TakeWhile(p => p != opened).All(p => p.Replicas == 0 && !p.Active), report);
        Assert.True(opened.Replicas == 1, report);

        // The worker purged at the schedule: the expired job down to its job.json, the fresh one untouched.
        var purge = System.Text.RegularExpressions.Regex.Match(replica.Process.Output, @"(\d\d:\d\d:\d\d\.\d{3}) Retention at \S+: .*? of (\d+) ended jobs deleted, results of (\d+)");
        Assert.True(purge.Success, $"the worker logged no retention run\n{replica.Process.Output}\n{report}");
        var old = await storage.Documents.ReadAsync(expired);
        Assert.True(old is { ResultsDeleted: not null, Request: null }, $"{expired}: results not deleted\n{report}");
        Assert.False(await store.ExistsAsync(options.Container(options.Results), BlobLayout.FinalImage(expired, "p0")));
        Assert.Empty(await store.ListAsync(options.Container(options.Uploads), BlobLayout.UploadsPrefix(expired)));
        var kept = await storage.Documents.ReadAsync(fresh);
        Assert.True(kept is { InputsDeleted: null, ResultsDeleted: null }, $"{fresh} was purged\n{report}");
        Assert.True(await store.ExistsAsync(options.Container(options.Results), BlobLayout.FinalImage(fresh, "p0")));
        Assert.Single(await store.ListAsync(options.Container(options.Uploads), BlobLayout.UploadsPrefix(fresh)));

        // Back to zero only once the window had been closed for the cooldown.
        var lastActive = timeline.Last(p => p.Active);
        var zero = timeline.First(p => p.At > lastActive.At && p.Replicas == 0);
        Assert.True(zero.At - lastActive.At >= scaler.Cooldown, report);

        var closed = timeline.First(p => p.At > opened.At && !p.WindowOpen);
        var end = replica.ExitedAt!.Value;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"retention at zero: window '{rules.Retention!.Start}' to '{rules.Retention.End}' open at t={opened.At.TotalSeconds:0.0} s, closed at t={closed.At.TotalSeconds:0.0} s; " +
            $"replica up {replica.StartedAt.TotalSeconds:0.0} s to {end.TotalSeconds:0.0} s; schedule '{environment["RETENTION_SCHEDULE"]}' due at t={occurrenceAt.TotalSeconds:0.0} s, " +
            $"purge logged at {purge.Groups[1].Value} (results of {purge.Groups[3].Value} job(s) deleted); fleet at zero at t={zero.At.TotalSeconds:0.0} s; " +
            $"{scaler.ReplicaSeconds(TimeSpan.Zero, end):0.0} replica-seconds for the window (cooldown {scaler.Cooldown.TotalSeconds:0} s included), " +
            $"one always-on replica {end.TotalSeconds:0.0} over the same span"));
    }

    private QueueAutoscaler Autoscaler(ScaleRules? rules = null, IReadOnlyDictionary<string, string?>? environment = null) =>
        new(rules ?? ScaleRules.Load(ScaleRules.DefaultPath, _hub, partitionCount: 4), Storage, onLine =>
            CliProcess.Start(["worker", "--storage", Storage, "--task-hub", _hub, "--provider", "cpu"], environment: environment ?? WorkerProcessTests.ShortLimits, onLine: (_, line) => onLine(line)));

    /// <summary>A job that ended <paramref name="endedDaysAgo"/> days ago, as the pipeline leaves it: an upload, a final image and job.json.</summary>
    private static async Task EndedJobAsync(JobStorage storage, string jobId, int endedDaysAgo)
    {
        var now = DateTimeOffset.UtcNow;
        var upload = $"uploads/{BlobLayout.Upload(jobId, "content.png")}";
        await storage.Inputs.UploadAsync(upload, BinaryData.FromString("photo"));
        await storage.Results.WriteAsync(BlobLayout.FinalImage(jobId, "p0"), BinaryData.FromString("png"));
        var request = new JobRequest { Content = [upload], Styles = [new StyleInput("styles/starry_night.jpg")] };
        await storage.Documents.UpdateAsync(jobId, _ => new JobDocument
        {
            JobId = jobId,
            State = JobState.Completed,
            Request = request,
            Pairs = [new PairDocument("p0", upload, request.Styles, JobState.Completed)],
            Created = now.AddDays(-endedDaysAgo - 1),
            Ended = now.AddDays(-endedDaysAgo),
        });
    }

    /// <summary>The same job run by <c>run</c> with its one in-process worker, in a hub of its own: the job folder.</summary>
    private async Task<string> ReferenceAsync(string[] request)
    {
        var folder = Path.Combine(_out, "reference");
        var (code, _, error) = await CliProcess.RunInProcessAsync(["run", .. request, "--storage", Storage, "--task-hub", WorkerProcessTests.NewHub(), "--out", folder]);
        Assert.True(code == 0, $"reference run exit {code}: {error}");
        return Assert.Single(Directory.GetDirectories(folder));
    }

    /// <summary>Submits with <c>run --detach</c>: no worker of its own, the job waits in the hub's queues.</summary>
    private async Task<string> SubmitAsync(string[] request)
    {
        var (code, text, error) = await CliProcess.RunInProcessAsync(["run", .. request, "--storage", Storage, "--task-hub", _hub, "--detach"]);
        Assert.True(code == 0, $"run --detach exit {code}: {error}");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
    }

    private async Task WaitAsync(string job, QueueAutoscaler scaler)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync("jobs", "wait", job, "--storage", Storage, "--task-hub", _hub, "--out", _out, "--timeout", ((int)JobTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"jobs wait exit {code}: {error}\n{scaler.Report()}");
    }

    /// <summary>
    /// Replica-seconds from the submission until the fleet was back at zero, against one always-on replica: the same
    /// span, and an hour (what an always-on replica bills whether jobs come or not).
    /// </summary>
    private void PrintCost(QueueAutoscaler scaler, string what, TimeSpan submitted, TimeSpan done)
    {
        var end = scaler.Replicas.Max(r => r.ExitedAt!.Value);
        var scaled = scaler.ReplicaSeconds(submitted, end);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: jobs done {(done - submitted).TotalSeconds:0.0} s after submission, fleet at zero {(end - submitted).TotalSeconds:0.0} s after; " +
            $"scaled fleet {scaled:0.0} replica-seconds (cooldown {scaler.Cooldown.TotalSeconds:0} s included), " +
            $"one always-on replica {(end - submitted).TotalSeconds:0.0} over the same span and 3600 an hour; " +
            $"with Container Apps' 300 s cooldown the fleet would add {300 - scaler.Cooldown.TotalSeconds:0} s per replica up at the end"));
    }

    /// <summary>A worker's RunChunk lines that end as <paramref name="how"/>: when (today, local time, as it logs) and the pair instance.</summary>
    private static List<(DateTime At, string Pair)> ChunkLines(Replica replica, string how) =>
        [.. replica.Process.Output.Split('\n')
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^(\d\d:\d\d:\d\d\.\d{3}) RunChunk for (\S+) " + how + " "))
            .Where(m => m.Success)
            .Select(m => (DateTime.Today + TimeSpan.ParseExact(m.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture), m.Groups[2].Value))];

    /// <summary>The final image of every pair, byte for byte as in the reference run.</summary>
    private static void AssertSameFinals(string reference, string jobFolder, int pairs)
    {
        var expected = Directory.GetFiles(reference, "final.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(pairs, expected.Count);
        foreach (var file in expected)
        {
            var actual = Path.Combine(jobFolder, Path.GetRelativePath(reference, file));
            Assert.True(File.Exists(actual), $"{actual} is missing");
            Assert.True(File.ReadAllBytes(file).SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from the one-worker run's {file}");
        }
    }

    /// <summary>Every pair's loss.csv numbers its evaluations 1..N once each.</summary>
    private static void AssertLossRowsOnce(string jobFolder, int pairs, int evaluations)
    {
        var logs = Directory.GetFiles(jobFolder, "loss.csv", SearchOption.AllDirectories);
        Assert.Equal(pairs, logs.Length);
        foreach (var log in logs)
        {
            var numbers = File.ReadAllLines(log).Skip(1).Where(l => l.Length > 0).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(1, evaluations), numbers);
        }
    }
}
