namespace ServerlessStyle.Hosting.Tests;

/// <summary>The worker's retention schedule reads as the Functions timer reads RETENTION_SCHEDULE; no storage needed.</summary>
public sealed class RetentionTimerTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Parse_Unset_IsNoTimer(string? text) => Assert.Null(RetentionTimer.Parse(text));

    [Fact]
    public void Parse_DailySchedule_NextOccurrenceIsTheNextDayAtThatTimeWithSeconds()
    {
        var schedule = RetentionTimer.Parse("0 30 3 * * *")!;

        Assert.Equal(new DateTime(2026, 1, 2, 3, 30, 0), schedule.GetNextOccurrence(new DateTime(2026, 1, 1, 3, 30, 0)));
        Assert.Equal(new DateTime(2026, 1, 1, 3, 30, 0), schedule.GetNextOccurrence(new DateTime(2026, 1, 1, 3, 29, 59)));
    }

    [Theory]
    [InlineData("30 3 * * *")]    // five fields: the KEDA cron form, without seconds
    [InlineData("0 61 3 * * *")]  // minute out of range
    [InlineData("daily")]
    public void Parse_NotSixFieldNcrontab_NamesTheSettingTheValueAndTheForm(string text)
    {
        var e = Assert.Throws<FormatException>(() => RetentionTimer.Parse(text));

        Assert.Contains($"RETENTION_SCHEDULE '{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("six fields", e.Message, StringComparison.Ordinal);
    }
}
