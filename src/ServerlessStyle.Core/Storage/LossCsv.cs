using System.Globalization;
using System.Text;
using ServerlessStyle.Core.Evaluation;

namespace ServerlessStyle.Core.Storage;

/// <summary>One row of loss.csv: the loss terms after one evaluation.</summary>
public sealed record LossRow(int Evaluation, int Iteration, double Content, double Style, double Tv, double Loss);

/// <summary>
/// The format of a pair's loss.csv, written by the chunks and read by the viewer: <see cref="Header"/>, then one row
/// per evaluation, its numbers in the invariant culture and round-trip precision.
/// </summary>
public static class LossCsv
{
    public const string Header = "evaluation,iteration,content,style,tv,loss";

    /// <summary>The rows of a loss.csv; <paramref name="source"/> names it in the error of a malformed file.</summary>
    public static IReadOnlyList<LossRow> Parse(string text, string source = "loss.csv")
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            return [];
        }

        if (lines[0] != Header)
        {
            throw new LossCsvException($"{source}: the header is '{lines[0]}', expected '{Header}'.");
        }

        var rows = new List<LossRow>(lines.Length - 1);
        for (var n = 1; n < lines.Length; n++)
        {
            var cells = lines[n].Split(',');
            if (cells.Length != 6
                || !int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var evaluation)
                || !int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var iteration)
                || !TryParseDouble(cells[2], out var content) || !TryParseDouble(cells[3], out var style)
                || !TryParseDouble(cells[4], out var tv) || !TryParseDouble(cells[5], out var loss))
            {
                throw new LossCsvException($"{source}: line {n + 1} ('{lines[n]}') is not six numbers {Header}.");
            }

            rows.Add(new LossRow(evaluation, iteration, content, style, tv, loss));
        }

        return rows;
    }

    private static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}

/// <summary>The rows one chunk adds to loss.csv as it evaluates, numbered on from the evaluations before it.</summary>
public sealed class LossCsvRows(int iteration, int evaluationsBefore)
{
    private readonly StringBuilder _text = new();
    private int _evaluation = evaluationsBefore;

    /// <summary>Adds the row of the next evaluation.</summary>
    public void Add(LossTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        _evaluation++;
        _text.Append(CultureInfo.InvariantCulture, $"{_evaluation},{iteration},{terms.Content:R},{terms.Style:R},{terms.TotalVariation:R},{terms.Total:R}\n");
    }

    /// <summary>The rows as loss.csv holds them, each with its newline.</summary>
    public override string ToString() => _text.ToString();
}

/// <summary>Thrown when a loss.csv is not in the format of <see cref="LossCsv"/>; the message names the file and the line.</summary>
public sealed class LossCsvException(string message) : FormatException(message);
