using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessStyle.Cli.Tests.Scaling;

/// <summary>One KEDA azure-queue rule with its placeholders filled in.</summary>
internal sealed record QueueRule(string Name, string Queue, int QueueLength, int ActivationQueueLength, bool VisibleOnly);

/// <summary>
/// One KEDA cron rule: <see cref="DesiredReplicas"/> between <see cref="Start"/> and <see cref="End"/> in
/// <see cref="Timezone"/>. KEDA takes five-field expressions (minute first); a six-field one (second first) is the
/// simulation's, to fit a window into seconds.
/// </summary>
internal sealed record CronRule(string Name, string Start, string End, string Timezone, int DesiredReplicas)
{
    /// <summary>
    /// As KEDA's cron scaler decides it: the next start and the next end after <paramref name="now"/>, in the rule's
    /// time zone; the window is open when the end comes first.
    /// </summary>
    public bool IsActive(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById(Timezone)).DateTime;
        return Parse(End).GetNextOccurrence(local) < Parse(Start).GetNextOccurrence(local);
    }

    private static NCrontab.CrontabSchedule Parse(string expression) =>
        NCrontab.CrontabSchedule.Parse(expression, new NCrontab.CrontabSchedule.ParseOptions
        {
            IncludingSeconds = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6,
        });
}

/// <summary>
/// infra/scale-rules.json, the rules the Bicep gives KEDA, read as KEDA's azure-queue scaler reads them: {hub} is the
/// task hub lower-cased, {partition} runs 00..partitionCount-1 for a rule with forEachPartition. The HTTP rule is left
/// out: the simulation sends no requests. The retention cron window is added by <see cref="WithRetention"/> (from a
/// retention schedule, as the Bicep derives it) or <see cref="WithRetentionWindow"/>; without it a run of the other
/// scenarios at 03:25 UTC sees no extra replica.
/// </summary>
internal sealed class ScaleRules
{
    /// <summary>KEDA's azure-queue scaler peeks at most this many messages for visibleonly and counts them all beyond.</summary>
    public const int PeekLimit = 32;

    private readonly RetentionEntry _retentionEntry;

    private ScaleRules(IReadOnlyList<QueueRule> queues, int pollingIntervalSeconds, int cooldownPeriodSeconds, RetentionEntry retentionEntry, CronRule? retention)
    {
        Queues = queues;
        PollingIntervalSeconds = pollingIntervalSeconds;
        CooldownPeriodSeconds = cooldownPeriodSeconds;
        _retentionEntry = retentionEntry;
        Retention = retention;
    }

    public IReadOnlyList<QueueRule> Queues { get; }

    /// <summary>The retention window, once added.</summary>
    public CronRule? Retention { get; }

    public int PollingIntervalSeconds { get; }

    public int CooldownPeriodSeconds { get; }

    public static string DefaultPath => Path.Combine(TestPaths.RepositoryRoot, "infra", "scale-rules.json");

    public static ScaleRules Load(string path, string hub, int partitionCount)
    {
        var file = JsonSerializer.Deserialize<RulesFile>(File.ReadAllText(path), new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException($"{path} holds no rules.");
        var queues = new List<QueueRule>();
        foreach (var rule in file.Queues)
        {
            var strategy = rule.QueueLengthStrategy ?? "all";
            if (strategy is not ("all" or "visibleonly"))
            {
                throw new InvalidDataException($"{path}: rule {rule.Name} has queueLengthStrategy '{strategy}'; KEDA knows all and visibleonly.");
            }

            var partitions = rule.ForEachPartition ? Enumerable.Range(0, partitionCount).Select(p => p.ToString("00", CultureInfo.InvariantCulture)) : [""];
            foreach (var partition in partitions)
            {
                string Fill(string text) => text.Replace("{hub}", hub.ToLowerInvariant(), StringComparison.Ordinal).Replace("{partition}", partition, StringComparison.Ordinal);
                queues.Add(new QueueRule(Fill(rule.Name), Fill(rule.Queue), rule.QueueLength, rule.ActivationQueueLength, strategy == "visibleonly"));
            }
        }

        var retention = file.Retention ?? throw new InvalidDataException($"{path} has no retention entry (the cron window around the retention schedule).");
        return new ScaleRules(queues, file.PollingIntervalSeconds, file.CooldownPeriodSeconds, retention, null);
    }

    /// <summary>
    /// These rules with the file's retention window around <paramref name="schedule"/> (NCRONTAB, daily 'S M H * * *'),
    /// as infra/app/function-app.bicep derives it: from leadMinutes before the schedule to
    /// <paramref name="wakeMinutes"/> after it, whole minutes (the seconds dropped), across midnight where it falls.
    /// </summary>
    public ScaleRules WithRetention(string schedule, int wakeMinutes)
    {
        var fields = schedule.Split(' ');
        var minuteOfDay = int.Parse(fields[1], CultureInfo.InvariantCulture) + 60 * int.Parse(fields[2], CultureInfo.InvariantCulture);
        static string Daily(int minute) => string.Create(CultureInfo.InvariantCulture, $"{minute % 60} {minute / 60} * * *");
        return WithRetentionWindow(Daily((minuteOfDay + 1440 - _retentionEntry.LeadMinutes) % 1440), Daily((minuteOfDay + wakeMinutes) % 1440));
    }

    /// <summary>These rules with the file's retention window (its name, time zone and replicas) from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public ScaleRules WithRetentionWindow(string start, string end) =>
        new(Queues, PollingIntervalSeconds, CooldownPeriodSeconds, _retentionEntry,
            new CronRule(_retentionEntry.Name, start, end, _retentionEntry.Timezone, _retentionEntry.DesiredReplicas));

    /// <summary>A rule's length as KEDA measures it, from the queue's approximate count (visible and invisible) and a peek.</summary>
    public static long Measure(QueueRule rule, long approximateCount, int peeked) =>
        rule.VisibleOnly && peeked < PeekLimit ? peeked : approximateCount;

    /// <summary>
    /// Active when any rule's length exceeds its activation length or the retention window is open
    /// (<paramref name="windowOpen"/>, <see cref="CronRule.IsActive"/>); then the replicas KEDA's HPA asks for, the largest
    /// ceil(length / queueLength) over the rules and the window's replicas, at least 1 and at most
    /// <paramref name="maxReplicas"/>; else 0.
    /// </summary>
    public (bool Active, int Desired) Evaluate(IReadOnlyDictionary<string, long> lengths, int maxReplicas, bool windowOpen = false)
    {
        var active = false;
        long desired = 0;
        foreach (var rule in Queues)
        {
            var length = lengths.GetValueOrDefault(rule.Queue);
            active |= length > rule.ActivationQueueLength;
            desired = Math.Max(desired, (length + rule.QueueLength - 1) / rule.QueueLength);
        }

        // An open cron window is active and asks for its replicas, like any other rule.
        if (windowOpen && Retention is { } window)
        {
            active = true;
            desired = Math.Max(desired, window.DesiredReplicas);
        }

        return active ? (true, (int)Math.Clamp(desired, 1, maxReplicas)) : (false, 0);
    }

    private sealed record RulesFile(int PollingIntervalSeconds, int CooldownPeriodSeconds, IReadOnlyList<RuleEntry> Queues, RetentionEntry Retention);

    private sealed record RetentionEntry(string Name, string Timezone, int DesiredReplicas, int LeadMinutes);

    private sealed record RuleEntry(
        string Name, string Queue, int QueueLength, int ActivationQueueLength, string? QueueLengthStrategy, bool ForEachPartition);
}
