using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessStyle.Cli.Tests.Scaling;

/// <summary>One KEDA azure-queue rule with its placeholders filled in.</summary>
internal sealed record QueueRule(string Name, string Queue, int QueueLength, int ActivationQueueLength, bool VisibleOnly);

/// <summary>
/// infra/scale-rules.json, the rules the Bicep gives KEDA, read as KEDA's azure-queue scaler reads them: {hub} is the
/// task hub lower-cased, {partition} runs 00..partitionCount-1 for a rule with forEachPartition. The HTTP rule is left
/// out: the simulation sends no requests.
/// </summary>
internal sealed class ScaleRules
{
    /// <summary>KEDA's azure-queue scaler peeks at most this many messages for visibleonly and counts them all beyond.</summary>
    public const int PeekLimit = 32;

    private ScaleRules(IReadOnlyList<QueueRule> queues, int pollingIntervalSeconds, int cooldownPeriodSeconds)
    {
        Queues = queues;
        PollingIntervalSeconds = pollingIntervalSeconds;
        CooldownPeriodSeconds = cooldownPeriodSeconds;
    }

    public IReadOnlyList<QueueRule> Queues { get; }

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

        return new ScaleRules(queues, file.PollingIntervalSeconds, file.CooldownPeriodSeconds);
    }

    /// <summary>A rule's length as KEDA measures it, from the queue's approximate count (visible and invisible) and a peek.</summary>
    public static long Measure(QueueRule rule, long approximateCount, int peeked) =>
        rule.VisibleOnly && peeked < PeekLimit ? peeked : approximateCount;

    /// <summary>
    /// Active when any rule's length exceeds its activation length; then the replicas KEDA's HPA asks for, the largest
    /// ceil(length / queueLength) over the rules, at least 1 and at most <paramref name="maxReplicas"/>; else 0.
    /// </summary>
    public (bool Active, int Desired) Evaluate(IReadOnlyDictionary<string, long> lengths, int maxReplicas)
    {
        var active = false;
        long desired = 0;
        foreach (var rule in Queues)
        {
            var length = lengths.GetValueOrDefault(rule.Queue);
            active |= length > rule.ActivationQueueLength;
            desired = Math.Max(desired, (length + rule.QueueLength - 1) / rule.QueueLength);
        }

        return active ? (true, (int)Math.Clamp(desired, 1, maxReplicas)) : (false, 0);
    }

    private sealed record RulesFile(int PollingIntervalSeconds, int CooldownPeriodSeconds, IReadOnlyList<RuleEntry> Queues);

    private sealed record RuleEntry(
        string Name, string Queue, int QueueLength, int ActivationQueueLength, string? QueueLengthStrategy, bool ForEachPartition);
}
