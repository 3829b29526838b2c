using System.ComponentModel;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>
/// <c>sheet-controls</c>: renders each artistic control on every content photo, one job per control through the
/// runner's durable host over Azurite, and writes a labelled grid of the results (never the paintings) to
/// docs/images/controls.png.
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
        var network = NetworkSpec.TryParse(settings.Network) is { Kind: NetworkKind.Vgg19 or NetworkKind.ResNet18 or NetworkKind.RandomVgg19 } named
            ? named
            : throw new InvalidOperationException($"--network '{settings.Network}' is not resnet18, random-vgg19 or vgg19.");
        // Job ids (sheet-0, ...) repeat from one sheet to the next: each sheet runs on a hub of its own.
        await using var scratch = ScratchHub.Create(ScratchHub.AzuriteConnectionString(), "sheet", new Dictionary<string, string?>
        {
            ["ServerlessStyle:Engine:Provider"] = "cpu",
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        });
        var storage = scratch.Storage;

        async Task<string> UploadAsync(string container, string path)
        {
            var name = $"{container}/sheet/{Path.GetFileName(path)}";
            await storage.Inputs.UploadAsync(name, BinaryData.FromBytes(await File.ReadAllBytesAsync(path, cancellationToken)), cancellationToken).ConfigureAwait(false);
            return name;
        }

        var contents = new List<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(settings.Images, "content"), "*.png").Order(StringComparer.Ordinal))
        {
            contents.Add(await UploadAsync("uploads", path).ConfigureAwait(false));
        }

        var starry = await UploadAsync("styles", Path.Combine(settings.Images, "styles", "starry_night.jpg")).ConfigureAwait(false);
        var scream = await UploadAsync("styles", Path.Combine(settings.Images, "styles", "the_scream.jpg")).ConfigureAwait(false);
        var baseline = new JobRequest
        {
            Content = contents,
            Styles = [new StyleInput(starry)],
            Height = settings.Height,
            Iterations = settings.Iterations,
            EvaluationsPerIteration = settings.Evaluations,
            Network = network,
        };
        var half = settings.Height / 2;
        var firstStyleLayer = (await NetworkResolver.LoadOfflineAsync(network, new ModelStore(ModelStore.DefaultFolder), cancellationToken: cancellationToken).ConfigureAwait(false)).Network.StyleLayers[0].Tensor;

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
            new("style layers first only", (r, _, _) => r with { StyleLayers = [new LayerWeight(firstStyleLayer)] }),
        ];

        // One job per control, all photos at once (one pair each), through the same durable host as `run`.
        await using var host = await scratch.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var rows = new List<ContactSheetRow>();
        for (var c = 0; c < controls.Length; c++)
        {
            var request = controls[c].Apply(baseline, starry, scream);
            var summary = await host.RunToEndAsync(new JobInput($"sheet-{c}", request, new WorkflowSettings()), cancellationToken).ConfigureAwait(false);
            if (summary.State != JobState.Completed)
            {
                throw new InvalidOperationException($"{controls[c].Label}: the job ended {summary.State}: {summary.Reason}");
            }

            var cells = new List<ContactSheetCell>();
            foreach (var (pair, k) in summary.Pairs.Select((p, k) => (p.Result!, k)))
            {
                var final = storage.Results.FromReference(summary.JobId, pair.FinalImage);
                var png = await storage.Results.TryReadAsync(final, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"{final.Name} was not written.");
                cells.Add(new ContactSheetCell(k, png.ToArray()));
                Console.WriteLine($"{controls[c].Label} / {JobIds.Stem(contents[k])}: loss {pair.Loss:g4} after {pair.Evaluations} evaluations");
            }

            rows.Add(new ContactSheetRow(controls[c].Label, cells));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.Out))!);
        await File.WriteAllBytesAsync(settings.Out, ContactSheet.CreatePng(rows, settings.Height), cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"wrote {settings.Out}: columns {string.Join(", ", contents.Select((n, k) => $"{k} = {JobIds.Stem(n)}"))}");
        return 0;
    }
}
