using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Tests.Storage;

public sealed class LossCsvTests
{
    [Fact]
    public void Parse_RowsAsWritten_GivesTheSameNumbers()
    {
        // Round-trip precision: the viewer plots exactly the doubles the chunk computed.
        var terms = new LossTerms(Total: 0.1 + 0.2, Content: 1.0 / 3, Style: 1e-300, TotalVariation: double.NaN);
        var rows = new LossCsvRows(iteration: 2, evaluationsBefore: 6);
        rows.Add(terms);
        rows.Add(terms with { Total = 5 });

        var parsed = LossCsv.Parse(LossCsv.Header + "\n" + rows);

        Assert.Equal(
            [new LossRow(7, 2, 1.0 / 3, 1e-300, double.NaN, 0.1 + 0.2), new LossRow(8, 2, 1.0 / 3, 1e-300, double.NaN, 5)], parsed);
    }

    [Fact]
    public void Parse_WrongHeader_ThrowsNamingTheSource()
    {
        var error = Assert.Throws<LossCsvException>(() => LossCsv.Parse("a,b\n1,2\n", "results/j/p/loss.csv"));
        Assert.Contains("results/j/p/loss.csv", error.Message, StringComparison.Ordinal);
        Assert.Contains("header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ShortRow_ThrowsNamingTheLine()
    {
        var error = Assert.Throws<LossCsvException>(() => LossCsv.Parse(LossCsv.Header + "\n1,0,1,2,3,6\n2,0,1\n"));
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }
}
