using System.Text.Json;

namespace ServerlessStyle.Bench.Engine;

/// <summary>Summarises an ONNX Runtime profile (Chrome trace JSON) by operator type.</summary>
public static class OrtProfile
{
    /// <summary>Kernel milliseconds per op type per run, largest first (the file's total divided by <paramref name="runs"/>).</summary>
    public static IReadOnlyDictionary<string, double> MillisecondsByOpType(string path, int runs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in document.RootElement.EnumerateArray())
        {
            // Node events come in fence_before / kernel_time / fence_after triples; only kernel_time is compute.
            if (e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node"
                && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)
                && e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var op))
            {
                var name = op.GetString()!;
                totals[name] = totals.GetValueOrDefault(name) + (e.GetProperty("dur").GetDouble() / 1000.0);
            }
        }

        return totals.OrderByDescending(p => p.Value).ToDictionary(p => p.Key, p => Math.Round(p.Value / runs, 2));
    }
}
