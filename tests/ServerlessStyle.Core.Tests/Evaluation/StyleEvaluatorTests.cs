using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Evaluation;

public sealed class StyleEvaluatorTests
{
    private static readonly LossNetwork Tiny = RandomVgg19.CreateVggStyle("tiny_evaluator", [4, RandomVgg19.Pool, 6], seed: 3);

    [Fact]
    public void StyleTargets_WriteThenRead_RoundTrips()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var targets = evaluator.ComputeTargets(Tiny, GradientChecks.PatternImage(8, 10, 1), [(GradientChecks.PatternImage(8, 10, 2), 1.0)]);
        using var stream = new MemoryStream();
        targets.WriteTo(stream);
        stream.Position = 0;
        var read = StyleTargets.ReadFrom(stream);
        Assert.Equal(targets.NetworkName, read.NetworkName);
        Assert.Equal((targets.Height, targets.Width), (read.Height, read.Width));
        Assert.Equal(targets.ContentFeatures, read.ContentFeatures);
        Assert.Equal(targets.Grams.Count, read.Grams.Count);
        for (var l = 0; l < targets.Grams.Count; l++)
        {
            Assert.Equal(targets.Grams[l], read.Grams[l]);
        }

        Assert.Equal(targets.StyleLayerWeights, read.StyleLayerWeights);
    }

    [Fact]
    public void StyleTargets_FlippedByte_ThrowsFormatError()
    {
        var targets = new StyleTargets { NetworkName = "n", Height = 2, Width = 3, ContentFeatures = [1f, 2f], Grams = [[3f]], StyleLayerWeights = [0.5] };
        using var stream = new MemoryStream();
        targets.WriteTo(stream);
        var bytes = stream.ToArray();
        bytes[bytes.Length / 2] ^= 0x10;
        var error = Assert.Throws<StyleTargetsFormatException>(() => StyleTargets.ReadFrom(new MemoryStream(bytes)));
        Assert.Contains("CRC", error.Message);
    }

    [Fact]
    public void Evaluate_AfterReleaseSessions_BuildsTheSessionAgainWithTheSameResultBitForBit()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(8, 10, 1);
        var targets = evaluator.ComputeTargets(Tiny, content, [(GradientChecks.PatternImage(8, 10, 2), 1.0)]);
        var x = GradientChecks.PatternImage(8, 10, 4).Data;
        var (first, second) = (new float[x.Length], new float[x.Length]);

        var before = evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, x, first);
        Assert.Equal(1, evaluator.CachedSessions);
        evaluator.ReleaseSessions();
        Assert.Equal(0, evaluator.CachedSessions);
        var after = evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, x, second);

        Assert.Equal(1, evaluator.CachedSessions);
        Assert.Equal(before, after);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task ReleaseSessions_WhileEvaluationsRun_EveryEvaluationFinishesWithTheSameResult()
    {
        // A worker may run several activities at once: a blend releases the sessions while a tile evaluates. A session in
        // use must outlive its run (disposing it under ONNX Runtime's Run is a native use after free).
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(8, 10, 1);
        var targets = evaluator.ComputeTargets(Tiny, content, [(GradientChecks.PatternImage(8, 10, 2), 1.0)]);
        var x = GradientChecks.PatternImage(8, 10, 4).Data;
        var expected = evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, x, new float[x.Length]);
        using var stop = new CancellationTokenSource();
        var releases = 0;
        var releaser = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                evaluator.ReleaseSessions();
                Interlocked.Increment(ref releases);
            }
        });

        // Each evaluating thread goes on until the releaser has run a while, so the two overlap however they are scheduled.
        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var terms = new List<LossTerms>();
            while (terms.Count < 20 || Volatile.Read(ref releases) < 100)
            {
                terms.Add(evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, x, new float[x.Length]));
            }

            return terms;
        })));
        await stop.CancelAsync();
        await releaser;

        Assert.All(results.SelectMany(r => r), terms => Assert.Equal(expected, terms));
    }

    [Fact]
    public void ComputeTargets_TwoStylesHalfWeights_GramsAreTheMean()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(8, 8, 1);
        var a = GradientChecks.PatternImage(8, 8, 2);
        var b = GradientChecks.PatternImage(8, 8, 3);
        var onlyA = evaluator.ComputeTargets(Tiny, content, [(a, 1.0)]);
        var onlyB = evaluator.ComputeTargets(Tiny, content, [(b, 1.0)]);
        var blend = evaluator.ComputeTargets(Tiny, content, [(a, 3.0), (b, 3.0)]);
        for (var l = 0; l < blend.Grams.Count; l++)
        {
            for (var i = 0; i < blend.Grams[l].Length; i++)
            {
                // Float32 Grams blended in double then rounded: 1e-6 relative of the larger Gram covers the rounding.
                var expected = (onlyA.Grams[l][i] + (double)onlyB.Grams[l][i]) / 2;
                Assert.True(Math.Abs(blend.Grams[l][i] - expected) <= 1e-6 * Math.Max(Math.Abs(onlyA.Grams[l][i]), Math.Abs(onlyB.Grams[l][i])), $"gram {l}[{i}]");
            }
        }
    }

    [Fact]
    public void ComputeTargets_NormalizeAtStart_StyleTermPerLayerIsItsWeight()
    {
        var network = RandomVgg19.CreateVggStyle("tiny_normalized", [4, RandomVgg19.Pool, 6], seed: 3);
        network = new LossNetwork
        {
            Name = network.Name, Graph = network.Graph, InputName = network.InputName, Input = network.Input, StyleLayers = network.StyleLayers,
            ContentLayer = network.ContentLayer, DefaultWeights = network.DefaultWeights, NormalizeStyleLayersAtStart = true,
        };
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var content = GradientChecks.PatternImage(8, 8, 1);
        var targets = evaluator.ComputeTargets(network, content, [(GradientChecks.PatternImage(8, 8, 2), 1.0)]);
        var terms = evaluator.Evaluate(network, targets, new LossWeights(0, 1, 0), content.Data, new float[content.Length]);

        // At the start point every normalised layer contributes exactly its own weight, so the style term is the sum of
        // the network's layer weights (1.0); 1e-5 covers float32 Gram rounding.
        Assert.Equal(network.StyleLayers.Sum(s => s.Weight), terms.Style, 1e-5);
    }

    [WithoutCudaFact]
    public void Evaluate_AutoWithoutCuda_FallsBackToCpuWithOneLogLine()
    {
        var logger = new ListLogger();
        using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = ExecutionProvider.Auto }, logger);
        var content = GradientChecks.PatternImage(8, 8, 1);
        var targets = evaluator.ComputeTargets(Tiny, content, [(content, 1.0)]);
        evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, content.Data, new float[content.Length]);
        Assert.Equal(ExecutionProvider.Cpu, evaluator.ActiveProvider);
        var line = Assert.Single(logger.Lines, l => l.Level >= LogLevel.Warning);
        Assert.Contains("CUDA", line.Message);
        Assert.Contains("CPU", line.Message);
    }

    [WithoutCudaFact]
    public void ComputeTargets_CudaRequiredWithoutCuda_ThrowsNamingLibraries()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = ExecutionProvider.Cuda });
        var content = GradientChecks.PatternImage(8, 8, 1);
        var error = Assert.Throws<CudaUnavailableException>(() => evaluator.ComputeTargets(Tiny, content, [(content, 1.0)]));
        Assert.Contains("libcublasLt.so.13", error.Message);
        Assert.IsType<OnnxRuntimeException>(error.InnerException);
    }

    [Fact]
    public void Evaluate_TargetsOfAnotherNetwork_ThrowsNamingBoth()
    {
        using var evaluator = new StyleEvaluator(new EvaluatorOptions());
        var targets = new StyleTargets { NetworkName = "other", Height = 8, Width = 8, ContentFeatures = [], Grams = [], StyleLayerWeights = [] };
        var error = Assert.Throws<ArgumentException>(() => evaluator.Evaluate(Tiny, targets, Tiny.DefaultWeights, new float[192], new float[192]));
        Assert.Contains("other", error.Message);
        Assert.Contains(Tiny.Name, error.Message);
    }

    private sealed class ListLogger : ILogger<StyleEvaluator>
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
