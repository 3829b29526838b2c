using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;

namespace ServerlessStyle.Cli.Tests.Scaling;

/// <summary>One <c>worker</c> process the autoscaler started: a replica, from its start to its exit.</summary>
internal sealed class Replica(int number, CliProcess.Child process, TimeSpan startedAt)
{
    private int _running;
    private int _chunks;

    public int Number { get; } = number;

    public CliProcess.Child Process { get; } = process;

    public TimeSpan StartedAt { get; } = startedAt;

    /// <summary>When the autoscaler sent SIGTERM.</summary>
    public TimeSpan? StopSentAt { get; set; }

    /// <summary>The same on the wall clock, which the workers' log lines use.</summary>
    public DateTime? StopSentClock { get; set; }

    /// <summary>When the process had exited (SIGTERM, or SIGKILL after the grace).</summary>
    public TimeSpan? ExitedAt { get; set; }

    /// <summary>It ran a chunk when SIGTERM came.</summary>
    public bool WasBusyAtStop { get; set; }

    /// <summary>It was still alive after the grace and got SIGKILL.</summary>
    public bool Killed { get; set; }

    public bool Busy => Volatile.Read(ref _running) > 0;

    /// <summary>It runs a RunChunk now.</summary>
    public bool RunsChunk => Volatile.Read(ref _chunks) > 0;

    /// <summary>Follows the worker's activity lines ("RunChunk for JOB-p0 started on ...", "... done in ...").</summary>
    public void OnLine(string line)
    {
        var match = Regex.Match(line, @"^\S+ (\w+) for \S+ (started|done|abandoned|failed) ");
        if (match.Success)
        {
            var change = match.Groups[2].Value == "started" ? 1 : -1;
            Interlocked.Add(ref _running, change);
            if (match.Groups[1].Value == "RunChunk")
            {
                Interlocked.Add(ref _chunks, change);
            }
        }
    }
}

/// <summary>One poll of the autoscaler: the rules' queue lengths, the retention window, what they ask for, and the replicas after it acted.</summary>
internal sealed record Poll(TimeSpan At, IReadOnlyDictionary<string, long> Lengths, bool Active, int Desired, int Replicas, bool WindowOpen);

/// <summary>
/// A test-side KEDA: every <see cref="Interval"/> it measures the rules' queues in Azurite as the azure-queue scaler does
/// (<see cref="ScaleRules.Measure"/>), starts real <c>worker</c> processes up to what the rules ask for at once, scales
/// in after the ask stayed lower for <see cref="Cooldown"/> (the HPA's stabilisation window, here equal to the cooldown)
/// and to zero once no rule was active for <see cref="Cooldown"/> (KEDA's cooldownPeriod). A replica it removes gets
/// SIGTERM, then SIGKILL after <see cref="Grace"/>. It removes replicas that run a chunk first, then busy ones, the
/// newest first: the platform does not pick an idle replica, so the simulation takes the worst case.
/// </summary>
internal sealed class QueueAutoscaler : IAsyncDisposable
{
    private readonly ScaleRules _rules;
    private readonly QueueServiceClient _queues;
    private readonly Func<Action<string>, CliProcess.Child> _startWorker;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Replica> _replicas = [];
    private readonly List<Poll> _timeline = [];
    private readonly List<(TimeSpan At, int Desired)> _recommendations = [];
    private readonly List<Task> _stopping = [];
    private readonly CancellationTokenSource _stop = new();
    private TimeSpan? _lastActive;
    private int _maxReplicas = 8;
    private Task? _loop;

    public QueueAutoscaler(ScaleRules rules, string connectionString, Func<Action<string>, CliProcess.Child> startWorker)
    {
        _rules = rules;
        _queues = new QueueServiceClient(connectionString);
        _startWorker = startWorker;
    }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The wall clock the cron window is evaluated against (the workers' retention timers use the real one too).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>maxReplicas of the app (the Bicep's default 8); lowering it while replicas run makes the next poll scale in.</summary>
    public int MaxReplicas { get => Volatile.Read(ref _maxReplicas); set => Volatile.Write(ref _maxReplicas, value); }

    /// <summary>
    /// A maxReplicas that takes effect at the first poll where a replica runs a chunk, so that the scale-in it causes in
    /// that poll meets a busy replica: the scale-in scenario.
    /// </summary>
    public int? MaxReplicasOnceAChunkRuns { get; set; }

    /// <summary>Time since the autoscaler was made: the timeline's clock.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<Poll> Timeline { get { lock (_timeline) { return [.. _timeline]; } } }

    public IReadOnlyList<Replica> Replicas { get { lock (_replicas) { return [.. _replicas]; } } }

    /// <summary>Replicas the autoscaler keeps now (started and not told to stop).</summary>
    public int Current { get { lock (_replicas) { return _replicas.Count(r => r.StopSentAt is null); } } }

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    /// <summary>Waits until a poll finds <paramref name="condition"/> true of the timeline so far.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<Poll>, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition(Timeline))
        {
            if (clock.Elapsed > timeout || _loop is { IsFaulted: true })
            {
                if (_loop is { IsFaulted: true })
                {
                    await _loop;
                }

                throw new TimeoutException($"{what}: not within {timeout}.\n{Report()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Seconds the replicas were up (start to exit, or to now) between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public double ReplicaSeconds(TimeSpan from, TimeSpan to) =>
        Replicas.Sum(r => Math.Max(0, (Min(r.ExitedAt ?? Now, to) - Max(r.StartedAt, from)).TotalSeconds));

    /// <summary>The timeline where something changed (replicas or what the rules asked for), and each replica's life.</summary>
    public string Report()
    {
        var text = new StringBuilder();
        Poll? previous = null;
        foreach (var poll in Timeline)
        {
            if (previous is null || poll.Replicas != previous.Replicas || poll.Desired != previous.Desired || poll.Active != previous.Active || poll.WindowOpen != previous.WindowOpen)
            {
                var lengths = string.Join(" ", poll.Lengths.Where(l => l.Value > 0).Select(l => $"{l.Key}={l.Value}"));
                text.AppendLine(CultureInfo.InvariantCulture, $"t={poll.At.TotalSeconds,6:0.0} s  replicas {poll.Replicas}  rules ask {poll.Desired}{(poll.Active ? "" : " (inactive)")}  {(lengths.Length == 0 ? "all queues empty" : lengths)}{(poll.WindowOpen ? $"  {_rules.Retention!.Name} window open" : "")}");
            }

            previous = poll;
        }

        foreach (var r in Replicas)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"replica {r.Number}: up {r.StartedAt.TotalSeconds:0.0} s, SIGTERM {(r.StopSentAt is { } s ? $"{s.TotalSeconds:0.0} s" : "-")}{(r.WasBusyAtStop ? " (busy)" : "")}, exit {(r.ExitedAt is { } e ? $"{e.TotalSeconds:0.0} s" : "-")}{(r.Killed ? " (SIGKILL after the grace)" : "")}");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var replica in Replicas.Where(r => r.StopSentAt is null))
        {
            Stop(replica);
        }

        await Task.WhenAll(_stopping);
        foreach (var replica in Replicas)
        {
            replica.Process.Dispose();
        }

        _stop.Dispose();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var lengths = new Dictionary<string, long>();
            foreach (var rule in _rules.Queues)
            {
                lengths[rule.Queue] = await MeasureAsync(rule, cancellationToken);
            }

            if (MaxReplicasOnceAChunkRuns is { } cap && Replicas.Any(r => r.StopSentAt is null && r.RunsChunk))
            {
                MaxReplicas = cap;
                MaxReplicasOnceAChunkRuns = null;
            }

            var windowOpen = _rules.Retention?.IsActive(Clock.GetUtcNow()) ?? false;
            var (active, desired) = _rules.Evaluate(lengths, MaxReplicas, windowOpen);
            Act(active, desired);
            lock (_timeline)
            {
                _timeline.Add(new Poll(Now, lengths, active, desired, Current, windowOpen));
            }

            await Task.Delay(Interval, cancellationToken);
        }
    }

    private async Task<long> MeasureAsync(QueueRule rule, CancellationToken cancellationToken)
    {
        var queue = _queues.GetQueueClient(rule.Queue);
        try
        {
            var count = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
            var peeked = rule.VisibleOnly ? (await queue.PeekMessagesAsync(ScaleRules.PeekLimit, cancellationToken)).Value.Length : 0;
            return ScaleRules.Measure(rule, count, peeked);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // The inbox queue of the other half of the deployment, or a hub not created yet: empty, as KEDA reads it.
            return 0;
        }
    }

    private void Act(bool active, int desired)
    {
        var now = Now;
        if (active)
        {
            _lastActive = now;
        }

        // The HPA keeps at least one replica while KEDA holds the scaler active or within its cooldown.
        _recommendations.Add((now, active ? desired : 1));
        _recommendations.RemoveAll(r => now - r.At > Cooldown);
        var current = Current;
        if (desired > current)
        {
            for (var k = current; k < desired; k++)
            {
                StartReplica();
            }
        }
        else if (!active && current > 0 && _lastActive is { } last && now - last >= Cooldown)
        {
            StopReplicas(current);
        }
        else if (current > MaxReplicas)
        {
            StopReplicas(current - MaxReplicas);
        }
        else if (active && desired < current && _recommendations.Max(r => r.Desired) < current)
        {
            StopReplicas(current - _recommendations.Max(r => r.Desired));
        }
    }

    private void StartReplica()
    {
        lock (_replicas)
        {
            Replica? replica = null;
            var child = _startWorker(line => replica?.OnLine(line));
            replica = new Replica(_replicas.Count + 1, child, Now);
            _replicas.Add(replica);
            var process = child.Process;
            _stopping.Add(Task.Run(async () =>
            {
                await process.WaitForExitAsync();
                replica.ExitedAt = Now;
            }));
        }
    }

    private void StopReplicas(int count)
    {
        List<Replica> victims;
        lock (_replicas)
        {
            victims = _replicas.Where(r => r.StopSentAt is null).OrderByDescending(r => r.RunsChunk).ThenByDescending(r => r.Busy).ThenByDescending(r => r.Number).Take(count).ToList();
        }

        foreach (var victim in victims)
        {
            Stop(victim);
        }
    }

    private void Stop(Replica replica)
    {
        replica.WasBusyAtStop = replica.RunsChunk;
        replica.StopSentAt = Now;
        replica.StopSentClock = DateTime.Now;
        if (replica.Process.Process.HasExited)
        {
            return;
        }

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", replica.Process.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        lock (_replicas)
        {
            _stopping.Add(Task.Run(async () =>
            {
                using var grace = new CancellationTokenSource(Grace);
                try
                {
                    await replica.Process.Process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    replica.Killed = true;
                    replica.Process.Process.Kill();
                }
            }));
        }
    }
}
