using System.ComponentModel;
using System.Diagnostics;
using ServerlessStyle.Bench.Engine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary>
/// <c>gpu-check</c>: the same loss and gradient on the CPU and CUDA providers, compared, with the time of one evaluation
/// and of one 20-evaluation L-BFGS chunk (docs/gpu.md). Published self-contained for GPU machines that have no .NET.
/// </summary>
internal sealed class GpuCheckCommand : AsyncCommand<GpuCheckCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[SIZES]")]
        [Description("Image sizes (square), default 224 512.")]
        public int[] Sizes { get; init; } = [];
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sizes = settings.Sizes.Length > 0 ? settings.Sizes : [224, 512];
        ProbeResNet18();
        foreach (var (spec, network) in new[] { ("random-vgg19", RandomVgg19.Create()), ("resnet18", ResNet18.Load()) })
        {
            foreach (var size in sizes)
            {
                await CompareAsync(network, spec, size, cancellationToken).ConfigureAwait(false);
            }
        }

        return 0;
    }

    /// <summary>
    /// Where does ResNet18's CUDA gradient part from the CPU's? One loss term at a time, each through a different part
    /// of the network: the stem (conv 7x7/2 with asymmetric pads, BN, ReLU), + the overlapping padded max-pool and
    /// stage 1, + stage 2 (stride-2 convs), + stage 3 (content), and the TV term alone (no network).
    /// </summary>
    private static void ProbeResNet18()
    {
        var resnet = ResNet18.Load();
        var probes = new (string Name, StyleLayer[] Style, LossWeights Weights)[]
        {
            ("stem ReLU253 style", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(0, 1e6, 0)),
            ("stage1 ReLU283 style", [new StyleLayer(resnet.StyleLayers[1].Tensor, 1)], new LossWeights(0, 1e6, 0)),
            ("stage2 ReLU315 style", [new StyleLayer(resnet.StyleLayers[2].Tensor, 1)], new LossWeights(0, 1e6, 0)),
            ("stage3 ReLU347 content", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(1, 0, 0)),
            ("tv only", [new StyleLayer(resnet.StyleLayers[0].Tensor, 1)], new LossWeights(0, 0, 1e-3)),
        };
        const int size = 224;
        var (content, style, x) = Images(size);
        foreach (var probe in probes)
        {
            var network = LossNetworkVariants.WithLayers(resnet, "probe-" + probe.Name.Split(' ')[0], probe.Style, resnet.ContentLayer);
            var gradients = new List<float[]>();
            foreach (var provider in new[] { ExecutionProvider.Cpu, ExecutionProvider.Cuda })
            {
                try
                {
                    using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = provider });
                    var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
                    var gradient = new float[x.Length];
                    evaluator.Evaluate(network, targets, probe.Weights, x, gradient);
                    gradients.Add(gradient);
                }
                catch (Exception e)
                {
                    Console.WriteLine($"probe {probe.Name} {provider}: FAILED {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                }
            }

            if (gradients.Count == 2)
            {
                var (cosine, maxDiff) = Agreement(gradients[0], gradients[1]);
                Console.WriteLine($"probe {probe.Name}: gradient cosine {cosine:F8}, max |dg|/max|g| {maxDiff:E2}");
            }
        }
    }

    private static async Task CompareAsync(LossNetwork network, string spec, int size, CancellationToken cancellationToken)
    {
        var (content, style, x) = Images(size);
        var results = new Dictionary<ExecutionProvider, (LossTerms Terms, float[] Gradient, double Ms)>();
        foreach (var provider in new[] { ExecutionProvider.Cpu, ExecutionProvider.Cuda })
        {
            try
            {
                using var evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = provider });
                var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
                var gradient = new float[x.Length];
                var terms = evaluator.Evaluate(network, targets, network.DefaultWeights, x, gradient);
                var times = new List<double>();
                var runs = provider == ExecutionProvider.Cuda ? 20 : 5;
                for (var r = 0; r < runs; r++)
                {
                    var clock = Stopwatch.StartNew();
                    evaluator.Evaluate(network, targets, network.DefaultWeights, x, gradient);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }

                // One L-BFGS chunk of 20 evaluations: the optimiser's own time included.
                var state = OptimizerState.Create(new OptimizerSettings(), content.Data);
                var chunkClock = Stopwatch.StartNew();
                var result = await ChunkRunner.RunChunkAsync(state, StyleObjective.Create(evaluator, network, targets, network.DefaultWeights), 20, cancellationToken).ConfigureAwait(false);
                var chunkMs = chunkClock.Elapsed.TotalMilliseconds;
                var median = Statistics.Median(times);
                results[provider] = (terms, gradient, median);
                // The goal (docs/contracts.md, Goals): a GPU chunk at most 10 % outside evaluations (the optimiser's vector work, transfers).
                var outside = 1 - (result.Losses.Count * median / chunkMs);
                Console.WriteLine($"{spec} {size}x{size} {evaluator.ActiveProvider}: median {median:F1} ms/eval (min {times.Min():F1}), {result.Losses.Count}-eval L-BFGS chunk {chunkMs:F0} ms ({100 * outside:F0} % outside evaluations), loss after chunk {result.State.Loss:G6}, loss {terms.Total:G8}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"{spec} {size} {provider}: FAILED {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }

        if (results.Count == 2)
        {
            var (cpu, cuda) = (results[ExecutionProvider.Cpu], results[ExecutionProvider.Cuda]);
            var (cosine, maxDiff) = Agreement(cpu.Gradient, cuda.Gradient);
            Console.WriteLine($"{spec} {size}: CUDA vs CPU loss rel diff {Math.Abs(cpu.Terms.Total - cuda.Terms.Total) / Math.Abs(cpu.Terms.Total):E2}, gradient cosine {cosine:F8}, max |dg|/max|g| {maxDiff:E2}, speed-up {cpu.Ms / cuda.Ms:F1}x");
        }
    }

    /// <summary>Pattern images (no photos travel to the GPU machine) and a point away from the content.</summary>
    private static (ImageTensor Content, ImageTensor Style, float[] X) Images(int size)
    {
        var content = EvaluationBenchmark.Pattern(size, size, 1);
        var style = EvaluationBenchmark.Pattern(size, size, 2);
        var x = EvaluationBenchmark.Pattern(size, size, 3).Data.Select((v, i) => v + content.Data[i]).ToArray();
        return (content, style, x);
    }

    /// <summary>The cosine of two gradients and their largest difference relative to the first one's largest entry.</summary>
    private static (double Cosine, double MaxDifference) Agreement(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0, maxDiff = 0, maxA = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
            maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - b[i]));
            maxA = Math.Max(maxA, Math.Abs(a[i]));
        }

        return (dot / Math.Sqrt(na * nb), maxDiff / maxA);
    }
}
