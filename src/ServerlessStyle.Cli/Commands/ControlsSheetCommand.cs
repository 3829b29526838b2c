using System.ComponentModel;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>
/// <c>sheet-controls</c>: renders each artistic control on every content photo with the real <see cref="StyleWork"/>
/// over Azurite and writes a labelled grid of the results (never the paintings) to docs/images/controls.png.
/// </summary>
internal sealed class ControlsSheetCommand : AsyncCommand<ControlsSheetCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--images <DIR>")]
        [Description("The sample images: content/*.png are the photos, styles/ the paintings (default samples).")]
        public string Images { get; init; } = "samples";

        [CommandOption("--network <NAME>")]
        [Description("resnet18 (default) | random-vgg19 | vgg19.")]
        public string Network { get; init; } = "resnet18";

        [CommandOption("--height <PX>")]
        public int Height { get; init; } = 160;

        [CommandOption("--iterations <N>")]
        public int Iterations { get; init; } = 4;

        [CommandOption("--evaluations <N>")]
        public int Evaluations { get; init; } = 20;

        [CommandOption("--out <FILE>")]
        public string Out { get; init; } = Path.Combine("docs", "images", "controls.png");
    }

    /// <summary>One row of the sheet: a label in the bitmap font's alphabet and the request change it shows.</summary>
    private sealed record Control(string Label, Func<JobRequest, string, string, JobRequest> Apply);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING");
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new InvalidOperationException("AZURITE_CONNECTION_STRING is not set; run it under scripts/with-azurite.sh.");
        }

        var store = new BlobStore(BlobClients.FromConnectionString(connection));
        var storage = new StorageOptions { ContainerPrefix = $"sheet{Guid.NewGuid():N}"[..13] + "-" };
        var limits = new LimitsOptions { AllowTestNetworks = true };
        using var engine = new StyleEngine(
            Options.Create(new EngineOptions { Network = settings.Network }), Options.Create(limits),
            NullLogger<StyleEngine>.Instance, NullLogger<Core.Evaluation.StyleEvaluator>.Instance);
        var work = new StyleWork(store, engine, Options.Create(storage), Options.Create(limits), NullLogger<StyleWork>.Instance);
        try
        {
            foreach (var container in new[] { storage.Uploads, storage.Styles, storage.Results, storage.Work })
            {
                await store.EnsureContainerAsync(storage.Container(container), cancellationToken).ConfigureAwait(false);
            }

            async Task<string> UploadAsync(string container, string path)
            {
                var name = $"sheet/{Path.GetFileName(path)}";
                await store.UploadAsync(storage.Container(container), name, BinaryData.FromBytes(await File.ReadAllBytesAsync(path, cancellationToken)), cancellationToken).ConfigureAwait(false);
                return $"{container}/{name}";
            }

            var contents = new List<string>();
            foreach (var path in Directory.GetFiles(Path.Combine(settings.Images, "content"), "*.png").Order(StringComparer.Ordinal))
            {
                contents.Add(await UploadAsync(storage.Uploads, path).ConfigureAwait(false));
            }

            var starry = await UploadAsync(storage.Styles, Path.Combine(settings.Images, "styles", "starry_night.jpg")).ConfigureAwait(false);
            var scream = await UploadAsync(storage.Styles, Path.Combine(settings.Images, "styles", "the_scream.jpg")).ConfigureAwait(false);
            var network = settings.Network switch
            {
                "resnet18" => NetworkChoice.ResNet18,
                "random-vgg19" => NetworkChoice.RandomVgg19,
                "vgg19" => NetworkChoice.Vgg19,
                _ => throw new InvalidOperationException($"--network '{settings.Network}' is not resnet18, random-vgg19 or vgg19."),
            };
            var baseline = new JobRequest
            {
                Styles = [new StyleInput(starry)],
                Height = settings.Height,
                Iterations = settings.Iterations,
                EvaluationsPerIteration = settings.Evaluations,
                Network = network,
            };
            var half = settings.Height / 2;
            // No "init style" row: within a few iterations that result is still close to the painting itself, and
            // the sheet shows results only, never the paintings.
            Control[] controls =
            [
                new("baseline starry night", (r, _, _) => r),
                new("blend starry night and the scream", (r, s, t) => r with { StyleMode = StyleMode.Blend, Styles = [new StyleInput(s), new StyleInput(t)] }),
                new("preserve colors", (r, _, _) => r with { PreserveColors = true }),
                new("init noise seed 1", (r, _, _) => r with { Init = InitChoices.Noise, Seed = 1 }),
                new("style scale half", (r, _, _) => r with { StyleScale = 0.5 }),
                new("style scale 2", (r, _, _) => r with { StyleScale = 2 }),
                new($"scales {half} then {settings.Height}", (r, _, _) => r with { Scales = [half, settings.Height] }),
                new("style layers first only", (r, _, _) => r with
                {
                    StyleLayers = [new LayerWeight(engine.GetNetwork(network).StyleLayers[0].Tensor)],
                }),
            ];

            var rows = new List<ContactSheetRow>();
            for (var c = 0; c < controls.Length; c++)
            {
                var cells = new List<ContactSheetCell>();
                for (var k = 0; k < contents.Count; k++)
                {
                    var request = controls[c].Apply(baseline with { Content = [contents[k]] }, starry, scream);
                    JobRequestParser.Validate(request, limits);
                    var plan = new PairPlan(0, $"c{c}-{k}", contents[k], request.Styles);
                    var result = await RunPairAsync(work, new PairInput("sheet", plan, request, new WorkflowSettings()), cancellationToken).ConfigureAwait(false);
                    var final = result.FinalImage[(result.FinalImage.IndexOf('/', StringComparison.Ordinal) + 1)..];
                    var png = (await store.TryDownloadAsync(storage.Container(storage.Results), final, cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"{final} was not written.")).Content.ToArray();
                    cells.Add(new ContactSheetCell(k, png));
                    Console.WriteLine($"{controls[c].Label} / {BlobLayout.Stem(contents[k])}: loss {result.Loss:g4} after {result.Evaluations} evaluations");
                }

                rows.Add(new ContactSheetRow(controls[c].Label, cells));
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.Out))!);
            await File.WriteAllBytesAsync(settings.Out, ContactSheet.CreatePng(rows, settings.Height), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"wrote {settings.Out}: columns {string.Join(", ", contents.Select((n, k) => $"{k} = {BlobLayout.Stem(n)}"))}");
            return 0;
        }
        finally
        {
            foreach (var container in new[] { storage.Uploads, storage.Styles, storage.Results, storage.Work })
            {
                await store.Service.GetBlobContainerClient(storage.Container(container)).DeleteIfExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The activities in the order StylePairOrchestration calls them, stages included, without Durable.</summary>
    private static async Task<PairResult> RunPairAsync(StyleWork work, PairInput input, CancellationToken cancellationToken)
    {
        var stages = Stages.Of(input.Request);
        var current = input;
        for (var k = 0; ; k++)
        {
            var stage = stages.Count == 0 ? current : Stages.StageInput(current, stages[k]);
            await work.PrepareTargetsAsync(stage, cancellationToken).ConfigureAwait(false);
            var chunk = 0;
            ChunkOutcome? last = null;
            while (chunk < stage.Request.Iterations && last?.Converged != true)
            {
                last = await work.RunChunkAsync(new ChunkInput(stage.JobId, stage.Pair, stage.Request, chunk), cancellationToken).ConfigureAwait(false);
                chunk++;
            }

            var result = await work.FinalizeAsync(stage with { NextChunk = chunk, LastOutcome = last }, cancellationToken).ConfigureAwait(false);
            if (k + 1 >= stages.Count)
            {
                return result;
            }

            current = current with { Stage = k + 1, StageStart = new StageStart(stage.Pair.PairId, result.Iterations) };
        }
    }
}
