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

    [Theory]
    [InlineData("0 30 3 * * *", 10, "25 3 * * *", "40 3 * * *")]   // the Bicep's defaults, and its bicep console expansion
    [InlineData("0 2 0 * * *", 10, "57 23 * * *", "12 0 * * *")]    // across midnight, both ways
    [InlineData("0 55 23 * * *", 30, "50 23 * * *", "25 0 * * *")]
    public void WithRetention_DailySchedule_WindowFromLeadMinutesBeforeToWakeMinutesAfter(string schedule, int wakeMinutes, string start, string end)
    {
        var window = Rules.WithRetention(schedule, wakeMinutes).Retention!;

        Assert.Equal(("retention", start, end, "Etc/UTC", 1), (window.Name, window.Start, window.End, window.Timezone, window.DesiredReplicas));
        Assert.Null(Rules.Retention);
    }

    [Theory]
    [InlineData("03:24:59", false)]
    [InlineData("03:25:00", true)]   // from the start on
    [InlineData("03:39:59", true)]
    [InlineData("03:40:00", false)]  // closed at the end
    [InlineData("12:00:00", false)]
    public void IsActive_RetentionWindow_OpenFromStartUntilEndAsKeda(string utc, bool open)
    {
        var window = Rules.WithRetention("0 30 3 * * *", 10).Retention!;

        Assert.Equal(open, window.IsActive(At(utc)));
    }

    [Theory]
    [InlineData("23:56:00", false)]
    [InlineData("23:58:00", true)]
    [InlineData("00:05:00", true)]
    [InlineData("00:12:00", false)]
    public void IsActive_WindowAcrossMidnight_OpenOnBothSides(string utc, bool open)
    {
        Assert.Equal(open, Rules.WithRetention("0 2 0 * * *", 10).Retention!.IsActive(At(utc)));
    }

    [Theory]
    [InlineData("00:00:00", false)] // 05:30 in Kolkata
    [InlineData("01:00:00", true)]  // 06:30
    [InlineData("15:00:00", false)] // 20:30
    public void IsActive_TimeZone_ReadsStartAndEndThere(string utc, bool open)
    {
        var window = new CronRule("office", "0 6 * * *", "0 20 * * *", "Asia/Kolkata", 10);

        Assert.Equal(open, window.IsActive(At(utc)));
    }

    [Theory]
    [InlineData("00:00:49", false)]
    [InlineData("00:00:55", true)]
    [InlineData("00:01:05", true)]   // across the minute
    [InlineData("00:01:10", false)]
    public void IsActive_SecondsWindowOfTheSimulation_OpensEveryMinute(string utc, bool open)
    {
        var window = Rules.WithRetentionWindow("50 * * * * *", "10 * * * * *").Retention!;

        Assert.Equal(open, window.IsActive(At(utc)));
    }

    [Fact]
    public void Evaluate_OpenWindowWithEmptyQueues_ActiveAndAsksForItsReplicas()
    {
        var rules = Rules.WithRetention("0 30 3 * * *", 10);
        var empty = new Dictionary<string, long>();

        Assert.Equal((true, 1), rules.Evaluate(empty, maxReplicas: 8, windowOpen: true));
        Assert.Equal((false, 0), rules.Evaluate(empty, maxReplicas: 8, windowOpen: false));
        Assert.Equal((true, 3), rules.Evaluate(new Dictionary<string, long> { ["myhub-workitems"] = 3 }, maxReplicas: 8, windowOpen: true));
    }

    private static DateTimeOffset At(string utc) =>
        new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero) + TimeSpan.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);
}
