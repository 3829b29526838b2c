using System.Diagnostics;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;

static ImageTensor Pattern(int h, int w, int seed)
{
    var rng = new Random(seed);
    var data = new float[3 * h * w];
    for (var c = 0; c < 3; c++)
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                data[(c * h + y) * w + x] = (float)(60 * Math.Sin((x + 3 * c) * 0.07 * (seed + 1)) * Math.Cos(y * 0.05 * (c + 1)) + rng.NextDouble() * 20 - 10);
    return new ImageTensor(h, w, data);
}

static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

var sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [224, 512];

// Where does ResNet18's CUDA gradient part from the CPU's? One loss term at a time, each through a different part of
// the network: the stem (conv 7x7/2 with asymmetric pads, BN, ReLU), + the overlapping padded max-pool and stage 1,
// + stage 2 (stride-2 convs), + stage 3 (content), and the TV term alone (no network).
{
    var resnet = NetworkCatalog.Load("resnet18");
    var probes = new (string Name, StyleLayer[] Style, LossWeights Weights)[]
    {
        ("stem ReLU253 style", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(0, 1e6, 0)),
        ("stage1 ReLU283 style", [new StyleLayer(resnet.StyleLayers[1].Tensor, 1)], new LossWeights(0, 1e6, 0)),
        ("stage2 ReLU315 style", [new StyleLayer(resnet.StyleLayers[2].Tensor, 1)], new LossWeights(0, 1e6, 0)),
        ("stage3 ReLU347 content", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(1, 0, 0)),
        ("tv only", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(0, 0, 1e-3)),
    };
    const int size = 224;
    var content = Pattern(size, size, 1);
    var style = Pattern(size, size, 2);
    var x = Pattern(size, size, 3).Data.Select((v, i) => v + content.Data[i]).ToArray();
    foreach (var probe in probes)
    {
        var network = LossNetworkVariants.WithLayers(resnet, "probe-" + probe.Name.Split(' ')[0], probe.Style, resnet.ContentLayer);
        var grads = new List<float[]>();
        foreach (var provider in new[] { ExecutionProvider.Cpu, ExecutionProvider.Cuda })
        {
            try
            {
                using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = provider });
                var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
                var grad = new float[x.Length];
                evaluator.Evaluate(network, targets, probe.Weights, x, grad);
                grads.Add(grad);
            }
            catch (Exception e)
            {
                Console.WriteLine($"probe {probe.Name} {provider}: FAILED {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }

        if (grads.Count == 2)
        {
            double dot = 0, na = 0, nb = 0, maxDiff = 0, maxA = 0;
            for (var i = 0; i < x.Length; i++) { dot += (double)grads[0][i] * grads[1][i]; na += (double)grads[0][i] * grads[0][i]; nb += (double)grads[1][i] * grads[1][i]; maxDiff = Math.Max(maxDiff, Math.Abs(grads[0][i] - grads[1][i])); maxA = Math.Max(maxA, Math.Abs(grads[0][i])); }
            Console.WriteLine($"probe {probe.Name}: gradient cosine {dot / Math.Sqrt(na * nb):F8}, max |dg|/max|g| {maxDiff / maxA:E2}");
        }
    }
}
foreach (var spec in new[] { "random-vgg19", "resnet18" })
{
    var network = NetworkCatalog.Load(spec);
    foreach (var size in sizes)
    {
        var content = Pattern(size, size, 1);
        var style = Pattern(size, size, 2);
        var x = Pattern(size, size, 3).Data.Select((v, i) => v + content.Data[i]).ToArray();
        var results = new Dictionary<ExecutionProvider, (LossTerms Terms, float[] Grad, double Ms)>();
        foreach (var provider in new[] { ExecutionProvider.Cpu, ExecutionProvider.Cuda })
        {
            try
            {
                using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = provider });
                var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
                var grad = new float[x.Length];
                var terms = evaluator.Evaluate(network, targets, network.DefaultWeights, x, grad);
                var times = new List<double>();
                var runs = provider == ExecutionProvider.Cuda ? 20 : 5;
                for (var r = 0; r < runs; r++)
                {
                    var sw = Stopwatch.StartNew();
                    evaluator.Evaluate(network, targets, network.DefaultWeights, x, grad);
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
                // one L-BFGS chunk of 20 evaluations: optimiser overhead included
                var state = OptimizerState.Create(new OptimizerSettings(), content.Data);
                var chunkClock = Stopwatch.StartNew();
                var result = await ChunkRunner.RunChunkAsync(state, (xx, g, _) => ValueTask.FromResult(evaluator.Evaluate(network, targets, network.DefaultWeights, xx.Span, g.Span).Total), 20);
                var chunkMs = chunkClock.Elapsed.TotalMilliseconds;
                results[provider] = (terms, grad, Median(times));
                Console.WriteLine($"{spec} {size}x{size} {evaluator.ActiveProvider}: median {Median(times):F1} ms/eval (min {times.Min():F1}), 20-eval L-BFGS chunk {chunkMs:F0} ms, loss after chunk {result.State.Loss:G6}, loss {terms.Total:G8}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"{spec} {size} {provider}: FAILED {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        if (results.Count == 2)
        {
            var (a, b) = (results[ExecutionProvider.Cpu], results[ExecutionProvider.Cuda]);
            double dot = 0, na = 0, nb = 0, maxDiff = 0, maxA = 0;
            for (var i = 0; i < a.Grad.Length; i++) { dot += (double)a.Grad[i] * b.Grad[i]; na += (double)a.Grad[i] * a.Grad[i]; nb += (double)b.Grad[i] * b.Grad[i]; maxDiff = Math.Max(maxDiff, Math.Abs(a.Grad[i] - b.Grad[i])); maxA = Math.Max(maxA, Math.Abs(a.Grad[i])); }
            Console.WriteLine($"{spec} {size}: CUDA vs CPU loss rel diff {Math.Abs(a.Terms.Total - b.Terms.Total) / Math.Abs(a.Terms.Total):E2}, gradient cosine {dot / Math.Sqrt(na * nb):F8}, max |dg|/max|g| {maxDiff / maxA:E2}, speed-up {a.Ms / b.Ms:F1}x");
        }
    }
}
