using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using ServerlessStyle.Bench.Poster;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary>
/// <c>tile-gap</c>: why tiled stages end at a higher loss than untiled ones (issue 24), in one process without the
/// durable pipeline: the untiled run, then a tiled run per (overlap, halo, tile style term), each scored by the untiled
/// objective, one JSON line each; with <c>--gradients</c> also each tile's gradient against the untiled one, by
/// distance from the tile's inner edges, at the content and at the untiled result (docs/artistic-controls.md, "What
/// the gap is made of").
/// </summary>
internal sealed class TileGapCommand : AsyncCommand<TileGapCommand.Settings>
{
    public sealed class Settings : EvaluatorSettings
    {
        [CommandOption("--content <IMG>")]
        public string Content { get; init; } = Path.Combine("samples", "content", "coffee.png");

        [CommandOption("--style <IMG>")]
        public string Style { get; init; } = Path.Combine("samples", "styles", "starry_night.jpg");

        [CommandOption("--height <H>")]
        public int Height { get; init; } = 256;

        [CommandOption("--tile <N>")]
        public int Tile { get; init; } = 128;

        [CommandOption("--tile-overlaps <LIST>")]
        [Description("Overlaps to try, comma-separated (px).")]
        public string Overlaps { get; init; } = "16";

        [CommandOption("--halos <LIST>")]
        [Description("Pixels each tile is grown by on its inner sides and optimised with, but not blended; comma-separated.")]
        public string Halos { get; init; } = "0";

        [CommandOption("--terms <LIST>")]
        [Description("The tile's style term: tile (as the tiled stages run), shared, block; comma-separated.")]
        public string Terms { get; init; } = "tile";

        [CommandOption("--iterations <N>")]
        public int Iterations { get; init; } = 4;

        [CommandOption("--evaluations <N>")]
        public int Evaluations { get; init; } = 20;

        [CommandOption("--restart")]
        [Description("Clear the L-BFGS memory at every iteration, untiled and tiled (the Keras example's rule).")]
        public bool Restart { get; init; }

        [CommandOption("--gradients")]
        [Description("Also compare each tile's gradient with the untiled one, at the content and at the untiled result.")]
        public bool Gradients { get; init; }

        [CommandOption("--no-tiled")]
        [Description("Skip the tiled runs (with --gradients: the gradients only).")]
        public bool NoTiled { get; init; }

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            if (Height < 2 || Tile < 32 || Iterations < 1 || Evaluations < 1)
            {
                return ValidationResult.Error($"--height {Height} must be at least 2, --tile {Tile} at least 32, --iterations {Iterations} and --evaluations {Evaluations} at least 1.");
            }

            if (Ints(Overlaps) is not { } overlaps || overlaps.Any(o => o < 0 || 2 * o >= Tile))
            {
                return ValidationResult.Error($"--tile-overlaps '{Overlaps}' must list overlaps of 0 up to less than half the tile ({Tile} px).");
            }

            if (Ints(Halos) is not { } halos || halos.Any(h => h < 0))
            {
                return ValidationResult.Error($"--halos '{Halos}' must list halos of 0 px or more.");
            }

            return TermList(Terms) is null
                ? ValidationResult.Error($"--terms '{Terms}' must list tile, shared or block.")
                : ValidationResult.Success();
        }

        internal static int[]? Ints(string list)
        {
            var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var values = parts.Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1).ToArray();
            return values.Length > 0 && values.All(v => v >= 0) ? values : null;
        }

        internal static TileStyleTerm[]? TermList(string list)
        {
            var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var terms = new List<TileStyleTerm>();
            foreach (var part in parts)
            {
                // Enum.TryParse also takes numbers ("1"); only the names count.
                if (!Enum.TryParse<TileStyleTerm>(part, true, out var term) || !Enum.GetNames<TileStyleTerm>().Contains(part, StringComparer.OrdinalIgnoreCase))
                {
                    return null;
                }

                terms.Add(term);
            }

            return terms.Count > 0 ? terms.ToArray() : null;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = await settings.LoadNetworkAsync(cancellationToken);
        var content = ImageLoader.LoadToHeight(await File.ReadAllBytesAsync(settings.Content, cancellationToken), settings.Height);
        var style = ImageLoader.LoadExact(await File.ReadAllBytesAsync(settings.Style, cancellationToken), content.Height, content.Width);
        using var evaluator = new StyleEvaluator(settings.EvaluatorOptions());
        var experiment = new TileGapExperiment(evaluator, network, network.DefaultWeights, content, style);
        var (iterations, evaluations, restart) = (settings.Iterations, settings.Evaluations, settings.Restart);

        var clock = Stopwatch.StartNew();
        var untiled = await experiment.RunUntiledAsync(iterations, evaluations, restart, cancellationToken);
        var untiledSeconds = clock.Elapsed.TotalSeconds;
        var (untiledTerms, untiledSaved) = (experiment.Score(untiled, saved: false), experiment.Score(untiled, saved: true));
        Print(new
        {
            run = "untiled",
            network = network.Name,
            height = content.Height,
            width = content.Width,
            iterations,
            evaluations,
            restart,
            startLoss = experiment.Score(content, saved: false).Total,
            loss = untiledTerms.Total,
            content = untiledTerms.Content,
            style = untiledTerms.Style,
            tv = untiledTerms.TotalVariation,
            savedLoss = untiledSaved.Total,
            seconds = Math.Round(untiledSeconds, 1),
        });

        var overlaps = Settings.Ints(settings.Overlaps)!;
        var terms = Settings.TermList(settings.Terms)!;
        if (settings.Gradients)
        {
            foreach (var (name, at) in new[] { ("content", content), ("untiled", untiled) })
            {
                foreach (var term in terms)
                {
                    foreach (var styleOnly in new[] { false, true })
                    {
                        Print(new
                        {
                            run = "gradients",
                            at = name,
                            term = term.ToString().ToLowerInvariant(),
                            tile = settings.Tile,
                            overlap = overlaps[0],
                            styleOnly,
                            bands = experiment.CompareGradients(at, settings.Tile, overlaps[0], term, styleOnly)
                                .Select(b => new { from = b.From, to = b.To == int.MaxValue ? (int?)null : b.To, pixels = b.Pixels, relativeError = Round(b.RelativeError), cosine = Round(b.Cosine) }),
                        });
                    }
                }
            }
        }

        if (settings.NoTiled)
        {
            return 0;
        }

        foreach (var overlap in overlaps)
        {
            foreach (var halo in Settings.Ints(settings.Halos)!)
            {
                foreach (var term in terms)
                {
                    clock.Restart();
                    var tiled = await experiment.RunTiledAsync(settings.Tile, overlap, halo, term, iterations, evaluations, restart, cancellationToken);
                    var seconds = clock.Elapsed.TotalSeconds;
                    var (tiledTerms, tiledSaved) = (experiment.Score(tiled, saved: false), experiment.Score(tiled, saved: true));
                    var edges = Seams(tiled, settings.Tile, overlap);
                    Print(new
                    {
                        run = "tiled",
                        tile = settings.Tile,
                        overlap,
                        halo,
                        term = term.ToString().ToLowerInvariant(),
                        tiles = Tiles.Grid(content.Height, content.Width, settings.Tile, overlap).Count,
                        iterations,
                        evaluations,
                        restart,
                        loss = tiledTerms.Total,
                        content = tiledTerms.Content,
                        style = tiledTerms.Style,
                        tv = tiledTerms.TotalVariation,
                        savedLoss = tiledSaved.Total,
                        ratio = Round(tiledTerms.Total / untiledTerms.Total),
                        savedRatio = Round(tiledSaved.Total / untiledSaved.Total),
                        contentRatio = Round(tiledTerms.Content / untiledTerms.Content),
                        styleRatio = Round(tiledTerms.Style / untiledTerms.Style),
                        tvRatio = Round(tiledTerms.TotalVariation / untiledTerms.TotalVariation),
                        edgeRatio = Round(edges.Ratio),
                        edgeLocalRatio = Round(edges.LocalRatio),
                        edgeFloor = Round(Seams(untiled, settings.Tile, overlap).Ratio),
                        seconds = Math.Round(seconds, 1),
                    });
                }
            }
        }

        return 0;
    }

    private static SeamRatio Seams(ImageTensor image, int tile, int overlap)
    {
        using var pixels = ImageWriter.ToImage(image);
        return SeamMeasure.Measure(pixels, TileGrid.Edges(image.Width, tile, overlap), TileGrid.Edges(image.Height, tile, overlap));
    }

    private static void Print(object line) => Console.Out.WriteLine(JsonSerializer.Serialize(line));

    private static double Round(double v) => Math.Round(v, 4);
}
