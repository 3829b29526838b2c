using System.ComponentModel;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>
/// <c>run</c>: stylises photos end to end: submits the job to the durable task hub (Azurite or a storage account), works
/// on it with a worker in this process, follows it and downloads the results.
/// </summary>
internal sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    /// <summary>The options of <c>run</c>; numbers left out take the request's defaults (or job.json's with --resume).</summary>
    public sealed class Settings : EngineHubSettings
    {
        [CommandOption("--content <IMG>")]
        [Description("A content photo; repeat for several. Default: a landscape drawn by the program.")]
        public string[] Content { get; init; } = [];

        [CommandOption("--style <IMG>")]
        [Description("A style picture; repeat for several. Default: swirling brush strokes drawn by the program.")]
        public string[] Style { get; init; } = [];

        [CommandOption("--height <H>")]
        [Description("Output height in pixels; the width keeps the aspect ratio (default 224).")]
        public int? Height { get; init; }

        [CommandOption("--iterations <N>")]
        [Description("Optimiser iterations, one image each (default 10).")]
        public int? Iterations { get; init; }

        [CommandOption("--evaluations <N>")]
        [Description("Loss and gradient evaluations per iteration (default 20, as in the Keras example).")]
        public int? Evaluations { get; init; }

        [CommandOption("--style-mode <MODE>")]
        [Description("each: one result per style; blend: one result from all styles.")]
        public string? StyleMode { get; init; }

        [CommandOption("--content-weight <W>")]
        [LossWeightDescription("The content loss's weight: higher keeps more of the photo.", LossTerm.Content)]
        public double? ContentWeight { get; init; }

        [CommandOption("--style-weight <W>")]
        [LossWeightDescription("The style loss's weight: higher paints more of the style.", LossTerm.Style)]
        public double? StyleWeight { get; init; }

        [CommandOption("--tv-weight <W>")]
        [LossWeightDescription("The total variation loss's weight: higher smooths the result.", LossTerm.TotalVariation)]
        public double? TvWeight { get; init; }

        [CommandOption("--style-blend-weights <WEIGHTS>")]
        [Description("The weight of each --style in a blend, comma-separated in --style order, e.g. 3,1 (default 1 each; 0 leaves a style out).")]
        public string? StyleBlendWeights { get; init; }

        [CommandOption("--preserve-colors")]
        [Description("Keep the content's colours: the stylised luminance with the content's chroma (YCbCr), in every saved image.")]
        public bool PreserveColors { get; init; }

        [CommandOption("--init <INIT>")]
        [Description("Where the optimisation starts: content (default) | noise | style | a path to an image (resized to the output size).")]
        public string? Init { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of every random choice (the noise start point); the same seed gives the same image (default 0).")]
        public int? Seed { get; init; }

        [CommandOption("--style-scale <S>")]
        [Description("Style image size relative to the output size before its Grams are taken, 0.25..4 (default 1).")]
        public double? StyleScale { get; init; }

        [CommandOption("--scales <HEIGHTS>")]
        [Description("Coarse to fine: ascending heights, comma-separated (e.g. 128,256,512); each stage starts from the previous result upscaled; the last is the output height.")]
        public string? Scales { get; init; }

        [CommandOption("--stage-iterations <COUNTS>")]
        [Description("Iterations of each --scales stage, comma-separated (default --iterations for every stage).")]
        public string? StageIterations { get; init; }

        [CommandOption("--tile <PX>")]
        [Description("Poster sizes: optimise the largest stage (and any larger than PX) as overlapping tiles of at most PX px, one activity each, blended after every iteration; lets --height go up to 8192 (default 0: no tiles).")]
        public int? Tile { get; init; }

        [CommandOption("--tile-overlap <PX>")]
        [Description("Overlap of neighbouring tiles in px, less than half of --tile (default an eighth of --tile).")]
        public int? TileOverlap { get; init; }

        [CommandOption("--style-layers <LAYERS>")]
        [Description("Style taps of the network with weights, comma-separated NAME:WEIGHT (e.g. block1_conv1:1,block2_conv1:0.5); the weight defaults to 1.")]
        public string? StyleLayers { get; init; }

        [CommandOption("--content-layers <LAYER>")]
        [Description("The content tap, NAME or NAME:WEIGHT (e.g. block4_conv2); the weight multiplies the content weight.")]
        public string? ContentLayers { get; init; }

        [CommandOption("--pooling <KIND>")]
        [Description("max | avg: average pooling replaces every max pooling of a vgg19 network (default max).")]
        public string? Pooling { get; init; }

        [CommandOption("--activation-smoothing <ON_OFF>")]
        [Description("on | off: SWAG's softmax smoothing of the style and content taps (default on for resnet18, off for vgg19).")]
        public string? ActivationSmoothing { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the results are downloaded, under DIR/{job}/ (default ./out).")]
        public string Out { get; init; } = "out";

        [CommandOption("--workers <N>")]
        [Description("Chunks this process works on at once, 0..16; 0 only submits the job and follows it while workers elsewhere run it (default 1).")]
        public int Workers { get; init; } = 1;

        [CommandOption("--detach")]
        [Description("Submit the job, print its id as the last line and return at once; a worker runs it, and 'jobs wait JOB' follows it.")]
        public bool Detach { get; init; }

        [CommandOption("--serve [PORT]")]
        [Description("Serve the job's page (every iteration's image, the live loss chart) on 127.0.0.1:PORT while it runs, and after it until Ctrl-C (no PORT: a free one).")]
        public FlagValue<int>? Serve { get; init; }

        [CommandOption("--resume <JOB>")]
        [Description("Work on and follow a job submitted earlier: a running job continues, a failed one starts again from its last checkpoint (a canceled one stays canceled) (the request comes from results/{job}/job.json).")]
        public string? Resume { get; init; }

        public override ValidationResult Validate()
        {
            if (StyleMode is not (null or "each" or "blend"))
            {
                return ValidationResult.Error($"--style-mode '{StyleMode}' is not each or blend.");
            }

            if (Pooling is not (null or "max" or "avg"))
            {
                return ValidationResult.Error($"--pooling '{Pooling}' is not max or avg.");
            }

            if (ValidateActivationSmoothing(ActivationSmoothing) is { Successful: false } smoothing)
            {
                return smoothing;
            }

            if (Workers is < 0 or > 16)
            {
                return ValidationResult.Error($"--workers {Workers} is out of range; allowed: 0..16.");
            }

            if (Detach && Serve is { IsSet: true })
            {
                return ValidationResult.Error("--detach returns at once, so there is nothing to --serve; serve the job's page from a run --resume JOB --workers 0 --serve instead.");
            }

            if (Resume is not null && (Content.Length > 0 || Style.Length > 0 || Height is not null || Iterations is not null || Evaluations is not null || StyleMode is not null
                || ContentWeight is not null || StyleWeight is not null || TvWeight is not null || StyleBlendWeights is not null || PreserveColors || Init is not null || Seed is not null || StyleScale is not null || Scales is not null || StageIterations is not null || Tile is not null || TileOverlap is not null
                || StyleLayers is not null || ContentLayers is not null || Pooling is not null || ActivationSmoothing is not null))
            {
                return ValidationResult.Error("--resume continues the job as it was requested; leave out --content, --style, --height, --iterations, --evaluations, --style-mode, the weights and the artistic controls.");
            }

            return base.Validate();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // Ctrl-C and SIGTERM keep the process alive until the worker has stopped, the engine is disposed and the
        // runner's Azurite is stopped, and the command that continues the job is printed.
        using var signals = new ShutdownSignals(cancellationToken);
        var code = await new LocalRun(RunProgress.ConsoleFor(Console.Out), Console.Out, Console.Error).RunAsync(settings, signals.Token).ConfigureAwait(false);
        return code == LocalRun.Interrupted ? signals.ExitCode : code;
    }
}
