namespace ServerlessStyle.Cli.Tests.Scaling;

/// <summary>infra/scale-rules.json read and evaluated as KEDA's azure-queue scaler does; no storage needed.</summary>
public sealed class ScaleRulesTests
{
    private static readonly ScaleRules Rules = ScaleRules.Load(ScaleRules.DefaultPath, "MyHub", partitionCount: 4);

    [Fact]
    public void Load_RepositoryRules_ExpandLowerCasedHubAndEveryPartition()
    {
        Assert.Equal(
            ["myhub-workitems", "myhub-control-00", "myhub-control-01", "myhub-control-02", "myhub-control-03", "inbox-events"],
            Rules.Queues.Select(q => q.Queue));
        Assert.Equal("control-02", Rules.Queues[3].Name);
        Assert.All(Rules.Queues.Where(q => q.Queue.Contains("-control-", StringComparison.Ordinal)), q => Assert.True(q.VisibleOnly));
        Assert.False(Rules.Queues[0].VisibleOnly);
    }

    [Theory]
    [InlineData(0, 0, false, 0)]   // nothing queued: inactive, scale to zero after the cooldown
    [InlineData(0, 1, true, 1)]    // one orchestration message wakes one replica
    [InlineData(3, 1, true, 3)]    // one replica per chunk, running or waiting
    [InlineData(0, 1500, true, 2)] // control messages add a replica per 1000
    [InlineData(20, 0, true, 8)]   // capped by maxReplicas
    public void Evaluate_QueueLengths_AsksForTheLargestCeilingOverTheRules(long workItems, long control01, bool active, int desired)
    {
        var lengths = new Dictionary<string, long> { ["myhub-workitems"] = workItems, ["myhub-control-01"] = control01 };

        Assert.Equal((active, desired), Rules.Evaluate(lengths, maxReplicas: 8));
    }

    [Theory]
    [InlineData(false, 40, 0, 40)] // all: visible and invisible (running activities, pending timers)
    [InlineData(true, 40, 5, 5)]   // visibleonly: what a peek sees
    [InlineData(true, 40, 32, 40)] // visibleonly falls back to all at the peek limit
    public void Measure_Strategy_CountsAsKeda(bool visibleOnly, long approximate, int peeked, long expected)
    {
        var rule = new QueueRule("q", "q", 1, 0, visibleOnly);

        Assert.Equal(expected, ScaleRules.Measure(rule, approximate, peeked));
    }
}
