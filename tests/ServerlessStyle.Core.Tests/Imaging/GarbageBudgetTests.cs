using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Tests.Imaging;

/// <summary>The loops over a whole image's tiles collect their dead copies once they allocated the budget, not every step.</summary>
public sealed class GarbageBudgetTests
{
    [Fact]
    public void Check_AfterAllocatingTheBudget_RunsAFullCollection()
    {
        GarbageBudget.Check();
        for (var i = 0; i < 2 * GarbageBudget.Bytes / (4 << 20); i++)
        {
            GC.KeepAlive(new byte[4 << 20]);
        }

        var before = GC.CollectionCount(GC.MaxGeneration);
        GarbageBudget.Check();
        var after = GC.CollectionCount(GC.MaxGeneration);

        // Between the two counts only the check ran, so a full collection there is the check's.
        Assert.True(after > before, $"no full collection after allocating {2 * GarbageBudget.Bytes >> 20} MB");
    }
}
