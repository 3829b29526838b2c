using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Bench.Engine;

/// <summary>
/// The machine's float32 matrix-multiply rate through ONNX Runtime's own GEMM (MLAS), the kernel family our convolutions
/// run on: the peak that the engine's GFLOP/s is compared with.
/// </summary>
public static class GemmBenchmark
{
    /// <summary>Median GFLOP/s (2 n^3 per product) of <paramref name="runs"/> n x n by n x n products after one warm-up.</summary>
    public static double Run(int n = 2048, int threads = 0, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var random = new Random(7);
        var b = new float[n * n];
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = (float)random.NextDouble();
        }

        var graph = new GraphProto { Name = "gemm" };
        graph.Input.Add(FloatValue("a", [n, n]));
        graph.Initializer.Add(FloatTensor("b", [n, n], b));
        graph.Node.Add(Node("MatMul", ["a", "b"], ["c"], "matmul"));
        graph.Output.Add(FloatValue("c", [n, n]));
        using var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(Model(graph).ToByteArray(), options);
        var a = new float[n * n];
        Array.Copy(b, a, a.Length);
        using var input = OrtValue.CreateTensorValueFromMemory(a, [n, n]);
        using var runOptions = new RunOptions();
        var times = new double[runs];
        for (var i = -1; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var outputs = session.Run(runOptions, ["a"], [input], ["c"]);
            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        return 2.0 * n * n * n / Statistics.Median(times) / 1e9;
    }
}
