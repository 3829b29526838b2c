using ServerlessStyle.Bench.Engine;

namespace ServerlessStyle.Bench.Tests;

public sealed class StatisticsTests
{
    [Fact]
    public void Median_OddCount_IsTheMiddleValueWhateverTheOrder() => Assert.Equal(3.0, Statistics.Median([5.0, 1.0, 3.0, 9.0, 2.0]));

    [Fact]
    public void Median_EvenCount_IsTheMeanOfTheTwoMiddleValues() => Assert.Equal(2.5, Statistics.Median([4.0, 1.0, 2.0, 3.0]));

    [Fact]
    public void Median_NoValues_Throws() => Assert.Throws<ArgumentException>(() => Statistics.Median([]));
}
