using System.ComponentModel;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary><c>run</c>: stylises photos end to end on the in-process durable engine over Azurite (or any blob storage).</summary>
internal sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    /// <summary>The options of <c>run</c>; numbers left out take the request's defaults (or job.json's with --resume).</summary>
    public sealed class Settings : CommandSettings
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

        [CommandOption("--style-layers <LAYERS>")]
        [Description("Style taps of the network with weights, comma-separated NAME:WEIGHT (e.g. block1_conv1:1,block2_conv1:0.5); the weight defaults to 1.")]
        public string? StyleLayers { get; init; }

        [CommandOption("--content-layers <LAYER>")]
        [Description("The content tap, NAME or NAME:WEIGHT (e.g. block4_conv2); the weight multiplies the content weight.")]
        public string? ContentLayers { get; init; }

        [CommandOption("--pooling <KIND>")]
        [Description("max | avg: average pooling replaces every max pooling of a vgg19 network (default max).")]
        public string? Pooling { get; init; }

        [CommandOption("--network <NET>")]
        [Description("auto | vgg19 | resnet18 | random-vgg19 | a path to a .onnx or Keras .h5 VGG19 (default auto).")]
        public string Network { get; init; } = "auto";

        [CommandOption("--preprocess <KIND>")]
        [Description("How an ONNX VGG19's input is normalised: caffe or torch.")]
        public string? Preprocess { get; init; }

        [CommandOption("--provider <P>")]
        [Description("auto | cpu | cuda (auto uses CUDA when it loads, else CPU).")]
        public string Provider { get; init; } = "auto";

        [CommandOption("--verbose")]
        [Description("Print details, such as why CUDA could not be used.")]
        public bool Verbose { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the results are downloaded, under DIR/{job}/ (default ./out).")]
        public string Out { get; init; } = "out";

        [CommandOption("--storage <CONNECTION_STRING>")]
        [Description("Blob storage to use. Default: $ServerlessStyle__Storage__ConnectionString, $AZURITE_CONNECTION_STRING, else an Azurite the runner starts itself.")]
        public string? Storage { get; init; }

        [CommandOption("--serve [PORT]")]
        [Description("Serve the job's page (every iteration's image, the live loss chart) on 127.0.0.1:PORT while it runs, and after it until Ctrl-C (no PORT: a free one).")]
        public FlagValue<int>? Serve { get; init; }

        [CommandOption("--resume <JOB>")]
        [Description("Continue a stopped job from its last checkpoint (the request comes from results/{job}/job.json).")]
        public string? Resume { get; init; }

        public override ValidationResult Validate()
        {
            if (StyleMode is not (null or "each" or "blend"))
            {
                return ValidationResult.Error($"--style-mode '{StyleMode}' is not each or blend.");
            }

            if (Preprocess is not (null or "caffe" or "torch"))
            {
                return ValidationResult.Error($"--preprocess '{Preprocess}' is not caffe or torch.");
            }

            if (ExecutionProviders.TryParse(Provider) is null)
            {
                return ValidationResult.Error($"--provider '{Provider}' is not {ExecutionProviders.Names}.");
            }

            if (NetworkChoices.TryParse(Network) is null && !Network.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !Network.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
            {
                return ValidationResult.Error($"--network '{Network}' is not {NetworkChoices.Names} or a path to a .onnx or .h5 file.");
            }

            if (Pooling is not (null or "max" or "avg"))
            {
                return ValidationResult.Error($"--pooling '{Pooling}' is not max or avg.");
            }

            if (Resume is not null && (Content.Length > 0 || Style.Length > 0 || Height is not null || Iterations is not null || Evaluations is not null || StyleMode is not null
                || ContentWeight is not null || StyleWeight is not null || TvWeight is not null || StyleBlendWeights is not null || PreserveColors || Init is not null || Seed is not null || StyleScale is not null || Scales is not null || StageIterations is not null
                || StyleLayers is not null || ContentLayers is not null || Pooling is not null))
            {
                return ValidationResult.Error("--resume continues the job as it was requested; leave out --content, --style, --height, --iterations, --evaluations, --style-mode, the weights and the artistic controls.");
            }

            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // Keep the process alive so the runner can stop its Azurite and print how to resume.
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await new LocalRun(AnsiConsole.Console, Console.Out, Console.Error).RunAsync(settings, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
