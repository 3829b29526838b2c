using System.ComponentModel;
using System.Text.Json;
using ServerlessStyle.Bench.Poster;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary>
/// <c>seam</c>: how visible a tiled result's seams are, as JSON: the mean step between neighbouring pixels across the
/// tile grid's edges (and, separately, across the overlaps' centres) over the step everywhere else (issue 24 wants at
/// most 1.1), and the same against the steps one pixel beside each line (the local ratio, which the picture's own
/// content sways less on a grid of few lines). The grid is <see cref="TileGrid"/>'s for the image's own size.
/// </summary>
internal sealed class SeamCommand : Command<SeamCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<IMAGE>")]
        [Description("The assembled image (PNG or any format the project reads), at the tiled stage's size.")]
        public string Image { get; init; } = "";

        [CommandOption("--tile <N>")]
        [Description("The tile size the run used (px).")]
        public int Tile { get; init; }

        [CommandOption("--tile-overlap <N>")]
        [Description("The overlap the run used (px).")]
        public int TileOverlap { get; init; }

        public override ValidationResult Validate() =>
            Tile < 1 || TileOverlap < 0 || 2 * TileOverlap >= Tile
                ? ValidationResult.Error($"--tile {Tile} must be at least 1 and --tile-overlap {TileOverlap} in 0..{Math.Max(0, (Tile - 1) / 2)} (less than half the tile, as the run's grid requires).")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var image = ImageLoader.Decode(File.ReadAllBytes(settings.Image), ResultImages);
        var (width, height, tile, overlap) = (image.Width, image.Height, settings.Tile, settings.TileOverlap);
        var edges = SeamMeasure.Measure(image, TileGrid.Edges(width, tile, overlap), TileGrid.Edges(height, tile, overlap));
        var centres = SeamMeasure.Measure(image, TileGrid.OverlapCentres(width, tile, overlap), TileGrid.OverlapCentres(height, tile, overlap));
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            image = settings.Image,
            width,
            height,
            tile,
            overlap,
            tilesAcross = TileGrid.Starts(width, tile, overlap),
            tilesDown = TileGrid.Starts(height, tile, overlap),
            edgeRatio = Round(edges.Ratio),
            edgeLocalRatio = Round(edges.LocalRatio),
            edgeStep = Round(edges.Across),
            centreRatio = Round(centres.Ratio),
            centreLocalRatio = Round(centres.LocalRatio),
            centreStep = Round(centres.Across),
            elsewhereStep = Round(edges.Elsewhere),
        }));
        return 0;
    }

    /// <summary>Results may be posters: up to 16384 px a side and 1 GB of PNG, past the limits for uploaded inputs.</summary>
    internal static readonly ImageLimits ResultImages = new() { MaxBytes = 1L << 30, MaxPixels = 16_384L * 16_384, MaxSide = 16_384 };

    internal static double Round(double v) => Math.Round(v, 4);
}

/// <summary>
/// <c>loss</c>: the loss of given images under the untiled objective, one JSON line each: the content photo at the
/// run's height, the style image resized as a job resizes it, the network and weights as the run had them, evaluated
/// once on the whole image. A tiled and an untiled result are then judged by the same objective (issue 24 wants the
/// tiled one within 15 %). Images are read as saved (8-bit PNG), so the figure differs slightly from the run's last
/// logged loss, the same way for both.
/// </summary>
internal sealed class LossCommand : AsyncCommand<LossCommand.Settings>
{
    public sealed class Settings : LossWeightSettings
    {
        [CommandArgument(0, "<IMAGES>")]
        [Description("The results to evaluate, comma-separated; each at the run's output size.")]
        public string Images { get; init; } = "";

        [CommandOption("--content <IMG>")]
        public string Content { get; init; } = "";

        [CommandOption("--style <IMG>")]
        public string Style { get; init; } = "";

        [CommandOption("--height <H>")]
        [Description("The run's output height; the width follows the content's aspect ratio, as in a job.")]
        public int Height { get; init; }

        [CommandOption("--style-scale <S>")]
        [Description("The run's style scale (default 1: the style image resized to the output size).")]
        public double StyleScale { get; init; } = 1;

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            if (Content.Length == 0 || Style.Length == 0)
            {
                return ValidationResult.Error("--content and --style are required: the run's content and style images.");
            }

            return Height < 2 || StyleScale <= 0
                ? ValidationResult.Error($"--height {Height} must be at least 2 and --style-scale {StyleScale} above 0.")
                : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = await settings.LoadNetworkAsync(cancellationToken);
        var weights = settings.Weights(network.DefaultWeights);

        // As InputImages does for a job: the content to the height, each style to the output size times the style scale.
        var content = ImageLoader.LoadToHeight(File.ReadAllBytes(settings.Content), settings.Height);
        var style = ImageLoader.LoadExact(
            File.ReadAllBytes(settings.Style),
            Math.Max(1, (int)Math.Round(content.Height * settings.StyleScale, MidpointRounding.AwayFromZero)),
            Math.Max(1, (int)Math.Round(content.Width * settings.StyleScale, MidpointRounding.AwayFromZero)));
        using var evaluator = new StyleEvaluator(settings.EvaluatorOptions());
        var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var gradient = new float[content.Length];
        foreach (var path in settings.Images.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var decoded = ImageLoader.Decode(File.ReadAllBytes(path), SeamCommand.ResultImages);
            if (decoded.Width != content.Width || decoded.Height != content.Height)
            {
                throw new ArgumentException(
                    $"{path} is {decoded.Width} x {decoded.Height}, not the run's output size {content.Width} x {content.Height} (--height {settings.Height} of {settings.Content}).");
            }

            var terms = evaluator.Evaluate(network, targets, weights, ImageLoader.ToTensor(decoded).Data, gradient);
            Console.Out.WriteLine(JsonSerializer.Serialize(new
            {
                image = path,
                network = network.Name,
                width = content.Width,
                height = content.Height,
                weights = new[] { weights.Content, weights.Style, weights.TotalVariation },
                loss = terms.Total,
                content = terms.Content,
                style = terms.Style,
                tv = terms.TotalVariation,
            }));
        }

        return 0;
    }
}

/// <summary>
/// <c>estimate</c>: the peak memory that <see cref="MemoryEstimate"/> expects of a worker evaluating an image of the
/// given size, as a worker checks it before a job starts (CPU provider: Winograd up to its pixel limit), as JSON: the
/// figure the poster measurement sets each worker's peak RSS against, for a tile and for the untiled stage.
/// </summary>
internal sealed class EstimateCommand : Command<EstimateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<WIDTHxHEIGHT>")]
        public string Size { get; init; } = "";

        [CommandOption("--network <NAME>")]
        [Description("resnet18, or a VGG19-shaped network such as vgg19 or random-vgg19 (default random-vgg19).")]
        public string Network { get; init; } = "random-vgg19";

        [CommandOption("--winograd <MODE>")]
        [Description("auto (default: as a worker, up to 768x768 pixels), on or off.")]
        public string Winograd { get; init; } = "auto";

        [CommandOption("--stage <WIDTHxHEIGHT>")]
        [Description("The tiled stage the size is a tile of: adds what a worker holds of the stage whole (wholeStageMb), as a worker's job check does.")]
        public string? Stage { get; init; }

        public override ValidationResult Validate()
        {
            if (Winograd is not ("auto" or "on" or "off"))
            {
                return ValidationResult.Error($"--winograd '{Winograd}' is not auto, on or off.");
            }

            if (Stage is not null && Parse(Stage) is null)
            {
                return ValidationResult.Error($"--stage '{Stage}' is not WIDTHxHEIGHT with both sides 1..65536, e.g. 2048x2048.");
            }

            return Parse(Size) is null
                ? ValidationResult.Error($"'{Size}' is not WIDTHxHEIGHT with both sides 1..65536, e.g. 512x512.")
                : ValidationResult.Success();
        }

        internal static (int Width, int Height)? Parse(string size)
        {
            var parts = size.Split('x');
            return parts.Length == 2
                && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var w)
                && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h)
                && w is >= 1 and <= 65536 && h is >= 1 and <= 65536
                ? (w, h)
                : null;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (width, height) = Settings.Parse(settings.Size)!.Value;
        var pixels = (long)width * height;
        var winograd = settings.Winograd == "on" || (settings.Winograd == "auto" && pixels <= EvaluatorOptions.DefaultWinogradMaxPixels);
        var stage = settings.Stage is null ? 0 : Settings.Parse(settings.Stage) is var (stageWidth, stageHeight) ? (long)stageWidth * stageHeight : 0;
        var whole = MemoryEstimate.WholeStageBytes(stage);
        var bytes = MemoryEstimate.PeakBytes(settings.Network, pixels, winograd) + whole;
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            network = settings.Network,
            width,
            height,
            pixels,
            winograd,
            wholeStageMb = Math.Round(whole / (1024.0 * 1024), 1),
            peakMb = Math.Round(bytes / (1024.0 * 1024), 1),
        }));
        return 0;
    }
}
