using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using ServerlessStyle.Bench.Engine;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary><c>evaluation</c>: median and minimum time of one evaluation (forward + gradient) after warm-up, as JSON.</summary>
internal sealed class EvaluationCommand : AsyncCommand<EvaluationCommand.Settings>
{
    public sealed class Settings : EvaluatorSettings
    {
        [CommandOption("--height <H>")]
        public int Height { get; init; } = 224;

        [CommandOption("--width <W>")]
        public int Width { get; init; } = 224;

        [CommandOption("--evaluations <N>")]
        [Description("Timed evaluations (after two warm-up ones); the median is reported.")]
        public int Evaluations { get; init; } = 5;

        [CommandOption("--profile <PREFIX>")]
        [Description("Write ONNX Runtime's per-node profile of the evaluation session (PREFIX_*.json) and print its time by op type.")]
        public string? Profile { get; init; }

        [CommandOption("--compare-winograd")]
        [Description("Time the Winograd rewrite off and on in one process, alternating evaluations; one JSON line each (peak RSS is then the pair's).")]
        public bool CompareWinograd { get; init; }

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            if (Height < 2 || Width < 2)
            {
                return ValidationResult.Error($"--height {Height} / --width {Width}: both must be at least 2.");
            }

            return Evaluations < 1 ? ValidationResult.Error($"--evaluations {Evaluations} must be at least 1.") : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = await settings.LoadNetworkAsync(cancellationToken);
        var options = settings.EvaluatorOptions();
        options.ProfilePrefix = settings.Profile;
        IReadOnlyList<EvaluatorOptions> variants = [options];
        if (settings.CompareWinograd)
        {
            var on = settings.EvaluatorOptions();
            on.ProfilePrefix = settings.Profile;
            options.Winograd = false;
            on.Winograd = true;
            on.WinogradMaxPixels = long.MaxValue;
            variants = [options, on];
        }

        var timings = EvaluationBenchmark.RunSideBySide(network, settings.Height, settings.Width, variants, settings.Evaluations);

        // Nominal direct-conv multiply-adds of the unrewritten graph, so GFLOP/s stays comparable with the sgemm peak
        // (the Winograd rewrite does fewer multiplies for the same result).
        var multiplyAdds = GraphCost.MultiplyAdds(network, settings.Height, settings.Width, options.ConvGradient);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        foreach (var timing in timings)
        {
            var result = new Dictionary<string, object?>
            {
                ["network"] = timing.Network,
                ["height"] = timing.Height,
                ["width"] = timing.Width,
                ["provider"] = timing.Provider.ToString().ToLowerInvariant(),
                ["convGradient"] = timing.ConvGradient.ToString(),
                ["winograd"] = timing.Winograd,
                ["evaluations"] = timing.Runs,
                ["medianMs"] = Math.Round(timing.MedianMs, 1),
                ["minMs"] = Math.Round(timing.MinMs, 1),
                ["gigaMultiplyAdds"] = Math.Round(multiplyAdds / 1e9, 3),
                ["gflops"] = Math.Round(2 * multiplyAdds / (timing.MedianMs * 1e6), 1),
                ["peakRssMb"] = Math.Round(self.PeakWorkingSet64 / 1048576.0, 0),
            };
            if (timing.ProfileFile is { } profile)
            {
                result["profileFile"] = profile;
                result["profileMsByOp"] = OrtProfile.MillisecondsByOpType(profile, timing.Runs + EvaluationBenchmark.WarmUpRuns);
            }

            Console.Out.WriteLine(JsonSerializer.Serialize(result));
        }

        return 0;
    }
}

/// <summary><c>gemm</c>: float32 n x n matrix products through ONNX Runtime, the peak rate the engine's GFLOP/s is compared with.</summary>
internal sealed class GemmCommand : Command<GemmCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--size <N>")]
        public int N { get; init; } = 2048;

        [CommandOption("--threads <N>")]
        [Description("ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.")]
        public int Threads { get; init; }

        public override ValidationResult Validate() =>
            N is < 16 or > 8192 || Threads < 0 ? ValidationResult.Error($"--size {N} must be 16..8192 and --threads {Threads} non-negative.") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var gflops = GemmBenchmark.Run(settings.N, settings.Threads);
        Console.Out.WriteLine(JsonSerializer.Serialize(new { n = settings.N, threads = settings.Threads, gflops = Math.Round(gflops, 1) }));
        return 0;
    }
}

/// <summary>
/// <c>optimizer</c>: issue 4's comparison. L-BFGS with its memory kept across iterations against the seed's restart
/// after every iteration, on random VGG19 with the same images, size and evaluation budget, losses side by side.
/// </summary>
internal sealed class OptimizerCommand : AsyncCommand<OptimizerCommand.Settings>
{
    public sealed class Settings : EvaluatorSettings
    {
        [CommandOption("--content <IMG>")]
        [Description("Content image (default samples/content/chelsea.png).")]
        public string Content { get; init; } = Path.Combine("samples", "content", "chelsea.png");

        [CommandOption("--style <IMG>")]
        [Description("Style image (default samples/styles/starry_night.jpg).")]
        public string Style { get; init; } = Path.Combine("samples", "styles", "starry_night.jpg");

        [CommandOption("--height <H>")]
        public int Height { get; init; } = 224;

        [CommandOption("--iterations <N>")]
        public int Iterations { get; init; } = 10;

        [CommandOption("--evaluations-per-iteration <N>")]
        public int EvaluationsPerIteration { get; init; } = 20;

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            foreach (var (option, file) in new[] { ("--content", Content), ("--style", Style) })
            {
                if (!File.Exists(file))
                {
                    return ValidationResult.Error($"{option}: file not found: {file}");
                }
            }

            return Height < 2 || Iterations < 1 || EvaluationsPerIteration < 1
                ? ValidationResult.Error("--height must be at least 2, --iterations and --evaluations-per-iteration at least 1.")
                : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = await settings.LoadNetworkAsync(cancellationToken);
        var content = ImageLoader.LoadToHeight(await File.ReadAllBytesAsync(settings.Content, cancellationToken), settings.Height);
        var style = ImageLoader.LoadExact(await File.ReadAllBytesAsync(settings.Style, cancellationToken), content.Height, content.Width);
        using var evaluator = new StyleEvaluator(settings.EvaluatorOptions());
        var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var objective = StyleObjective.Create(evaluator, network, targets, network.DefaultWeights);

        var start = new float[content.Length];
        var startLoss = await objective(content.Data, start, cancellationToken);
        var kept = await RunAsync(new OptimizerSettings(RestartEachIteration: false), content.Data, objective, settings, cancellationToken);
        var restart = await RunAsync(new OptimizerSettings(RestartEachIteration: true), content.Data, objective, settings, cancellationToken);

        var rows = Enumerable.Range(0, settings.Iterations)
            .Select(i => new { iteration = i + 1, memoryKept = kept[i], restart = restart[i] })
            .ToList();
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            network = network.Name,
            height = content.Height,
            width = content.Width,
            evaluationsPerIteration = settings.EvaluationsPerIteration,
            startLoss,
            finalMemoryKept = kept[^1],
            finalRestart = restart[^1],
            iterations = rows,
        }));
        return 0;
    }

    private static async Task<double[]> RunAsync(OptimizerSettings optimizer, float[] x0, Objective objective, Settings settings, CancellationToken cancellationToken)
    {
        var state = OptimizerState.Create(optimizer, x0);
        var losses = new double[settings.Iterations];
        for (var i = 0; i < settings.Iterations; i++)
        {
            await ChunkRunner.RunChunkAsync(state, objective, settings.EvaluationsPerIteration, cancellationToken);

            // A converged state stops asking for evaluations; its loss simply stays.
            losses[i] = state.Loss ?? double.NaN;
        }

        return losses;
    }
}

/// <summary><c>export-random-vgg19 OUT.onnx</c>: the seeded VGG19-shaped network's forward graph, so other implementations use the same weights.</summary>
internal sealed class ExportRandomVgg19Command : Command<ExportRandomVgg19Command.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<OUT>")]
        [Description("The .onnx file to write (Conv/Relu/MaxPool, initializers blockB_convK/kernel and /bias).")]
        public string Output { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        OnnxModels.WriteForward(RandomVgg19.Create(), settings.Output);
        Console.Out.WriteLine($"wrote {settings.Output}");
        return 0;
    }
}
