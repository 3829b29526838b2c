using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ServerlessStyle.Bench.Judge;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary>
/// <c>judge</c>: stylises content/style pairs with the engine alone (as a job's chunks do: L-BFGS from the content
/// photo, the network's or the given weights), writes each result as PNG and prints, per pair, the network-free
/// statistics of <see cref="ImageStatistics"/> as one JSON line: the result's and, for reference, the unstyled
/// photo's and the painting's own.
/// </summary>
internal sealed class JudgeCommand : AsyncCommand<JudgeCommand.Settings>
{
    public const string DefaultPairs = "chelsea.png:starry_night.jpg,astronaut.png:the_scream.jpg,coffee.png:woman-with-hat-matisse.jpg,rocket.jpg:shipwreck.jpg";

    public sealed class Settings : LossWeightSettings
    {
        [CommandOption("--pairs <PAIRS>")]
        [Description("CONTENT:STYLE pairs, comma-separated, named as in samples/content and samples/styles (default the four of docs/networks-and-imaging.md).")]
        public string Pairs { get; init; } = DefaultPairs;

        [CommandOption("--samples <DIR>")]
        [Description("The folder holding content/ and styles/ (default samples).")]
        public string Samples { get; init; } = "samples";

        [CommandOption("--height <H>")]
        public int Height { get; init; } = 256;

        [CommandOption("--iterations <N>")]
        public int Iterations { get; init; } = 10;

        [CommandOption("--evaluations <N>")]
        [Description("Loss evaluations per iteration (default 20, as a job's).")]
        public int Evaluations { get; init; } = 20;

        [CommandOption("--activation-smoothing <ON_OFF>")]
        [Description("on | off (default the network's own).")]
        public string? ActivationSmoothing { get; init; }

        [CommandOption("--temperature <T>")]
        [Description("The smoothing temperature (default the network's own).")]
        public double? Temperature { get; init; }

        [CommandOption("--style-layers <LAYERS>")]
        [Description("NAME:WEIGHT,... replacing the network's style taps.")]
        public string? StyleLayers { get; init; }

        [CommandOption("--content-layer <NAME>")]
        public string? ContentLayer { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the results are written as CONTENT_STYLE.png (default out/judge).")]
        public string Out { get; init; } = Path.Combine("out", "judge");

        [CommandOption("--tap-stats")]
        [Description("Print the content tap's statistics to standard error (mean, largest, percentiles, the top 1%'s share of the sum): how peaky the (smoothed) activations are.")]
        public bool TapStats { get; init; }

        [CommandOption("--judge-only <DIRS>")]
        [Description("Run nothing: judge the results already in these --out folders (comma-separated), pair by pair.")]
        public string? JudgeOnly { get; init; }

        [CommandOption("--sheet <FILE>")]
        [Description("With --judge-only: also write a PNG with one row per pair: photo, painting, then each folder's result.")]
        public string? Sheet { get; init; }

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            if (ValidateActivationSmoothing(ActivationSmoothing) is { Successful: false } smoothing)
            {
                return smoothing;
            }

            return Height < 32 || Iterations < 1 || Evaluations < 1
                ? ValidationResult.Error($"--height {Height} must be at least 32 (SSIM runs at a quarter of it), --iterations and --evaluations at least 1.")
                : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.JudgeOnly is not null)
        {
            return await JudgeExistingAsync(settings, cancellationToken);
        }

        var network = Variant(await settings.LoadNetworkAsync(cancellationToken), settings);
        var weights = settings.Weights(network.DefaultWeights);
        Directory.CreateDirectory(settings.Out);
        using var evaluator = new StyleEvaluator(settings.EvaluatorOptions());
        foreach (var pair in settings.Pairs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, content, style) = await LoadPairAsync(settings, pair, cancellationToken);
            var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
            if (settings.TapStats)
            {
                var f = targets.ContentFeatures;
                var sorted = f.Select(v => (double)v).OrderDescending().ToArray();
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{pair} content tap: n={f.Length} mean={sorted.Average():g4} max={sorted[0]:g4} p99={sorted[f.Length / 100]:g4} p50={sorted[f.Length / 2]:g4} top1%share={sorted.Take(f.Length / 100).Sum() / sorted.Sum():g3}"));
            }

            var objective = StyleObjective.Create(evaluator, network, targets, weights);
            var state = OptimizerState.Create(new OptimizerSettings(), content.Data);
            var started = DateTime.UtcNow;
            for (var i = 0; i < settings.Iterations; i++)
            {
                await ChunkRunner.RunChunkAsync(state, objective, settings.Evaluations, cancellationToken);
            }

            var seconds = (DateTime.UtcNow - started).TotalSeconds;
            var result = new ImageTensor(content.Height, content.Width, state.X);
            await File.WriteAllBytesAsync(Path.Combine(settings.Out, name), ImageWriter.ToPng(result), cancellationToken);

            using var resultImage = ImageWriter.ToImage(result);
            using var styleImage = ImageWriter.ToImage(style);
            using var contentImage = ImageWriter.ToImage(content);
            var judged = ImageStatistics.Judge(resultImage, styleImage, contentImage);
            var photo = ImageStatistics.Judge(contentImage, styleImage, contentImage);
            var painting = ImageStatistics.Judge(styleImage, styleImage, contentImage);
            Console.Out.WriteLine(JsonSerializer.Serialize(new
            {
                pair,
                network = network.Name,
                smoothing = network.ActivationSmoothing,
                temperature = network.SmoothingTemperature,
                weights = new[] { weights.Content, weights.Style, weights.TotalVariation },
                height = content.Height,
                width = content.Width,
                loss = state.Loss,
                seconds = Math.Round(seconds, 1),
                output = Path.Combine(settings.Out, name),
                colour = Round(judged.Colour),
                texture = Round(judged.Texture),
                ssim = Round(judged.ContentSsim),
                photo = new { colour = Round(photo.Colour), texture = Round(photo.Texture) },
                painting = new { ssim = Round(painting.ContentSsim) },
            }));
        }

        return 0;
    }

    private static async Task<int> JudgeExistingAsync(Settings settings, CancellationToken cancellationToken)
    {
        var folders = settings.JudgeOnly!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var rows = new List<ContactSheetRow>();
        foreach (var pair in settings.Pairs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, content, style) = await LoadPairAsync(settings, pair, cancellationToken);
            var contentPng = ImageWriter.ToPng(content);
            var stylePng = ImageWriter.ToPng(style);
            var cells = new List<ContactSheetCell> { new(1, contentPng), new(2, stylePng) };
            using var contentImage = ImageWriter.ToImage(content);
            using var styleImage = ImageWriter.ToImage(style);
            foreach (var folder in folders)
            {
                var path = Path.Combine(folder, name);
                var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                using var result = ImageLoader.Decode(bytes);
                var judged = ImageStatistics.Judge(result, styleImage, contentImage);
                Console.Out.WriteLine(JsonSerializer.Serialize(new { pair, result = path, colour = Round(judged.Colour), texture = Round(judged.Texture), ssim = Round(judged.ContentSsim) }));
                cells.Add(new(cells.Count + 1, bytes));
            }

            rows.Add(new(Path.GetFileNameWithoutExtension(name).Replace('_', ' ').Replace('-', ' ').ToLowerInvariant(), cells));
        }

        if (settings.Sheet is not null)
        {
            await File.WriteAllBytesAsync(settings.Sheet, ContactSheet.CreatePng(rows, 192), cancellationToken);
        }

        return 0;
    }

    /// <summary>The pair's result file name, the photo at the height and the painting at the photo's size, as the engine takes its Grams.</summary>
    private static async Task<(string Name, ImageTensor Content, ImageTensor Style)> LoadPairAsync(Settings settings, string pair, CancellationToken cancellationToken)
    {
        var parts = pair.Split(':');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"--pairs: '{pair}' is not CONTENT:STYLE.");
        }

        var content = ImageLoader.LoadToHeight(await File.ReadAllBytesAsync(Path.Combine(settings.Samples, "content", parts[0]), cancellationToken), settings.Height);
        var style = ImageLoader.LoadExact(await File.ReadAllBytesAsync(Path.Combine(settings.Samples, "styles", parts[1]), cancellationToken), content.Height, content.Width);
        return ($"{Path.GetFileNameWithoutExtension(parts[0])}_{Path.GetFileNameWithoutExtension(parts[1])}.png", content, style);
    }

    private static double Round(double v) => Math.Round(v, 4);

    /// <summary>The network as the options change it, through the same variant builder as a job's request.</summary>
    private static LossNetwork Variant(LossNetwork network, Settings settings)
    {
        var style = settings.StyleLayers?.Split(',').Select(s =>
        {
            var at = s.LastIndexOf(':');
            return at < 0 ? new StyleLayer(s, 1.0) : new StyleLayer(s[..at], double.Parse(s[(at + 1)..], CultureInfo.InvariantCulture));
        }).ToArray();
        var variant = new NetworkVariant(
            style, settings.ContentLayer, ActivationSmoothing: ActivationSmoothingChoices.TryParse(settings.ActivationSmoothing).AsSwitch(), Temperature: settings.Temperature);
        return LossNetworkVariants.NameOf(network, variant) is { } name ? LossNetworkVariants.Apply(network, variant, name) : network;
    }
}
