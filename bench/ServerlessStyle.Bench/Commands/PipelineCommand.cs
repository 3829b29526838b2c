using System.ComponentModel;
using ServerlessStyle.Bench.Pipeline;
using ServerlessStyle.Hosting;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench.Commands;

/// <summary><c>pipeline</c>: the share of a chunk activity spent outside loss evaluations, through the durable host on Azurite.</summary>
internal sealed class PipelineCommand : AsyncCommand<PipelineCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--content <FILE>")]
        [Description("Content image (default samples/content/chelsea.png).")]
        public string Content { get; init; } = Path.Combine("samples", "content", "chelsea.png");

        [CommandOption("--style <FILE>")]
        [Description("Style image (default samples/styles/starry_night.jpg).")]
        public string Style { get; init; } = Path.Combine("samples", "styles", "starry_night.jpg");

        [CommandOption("--network <NAME>")]
        [Description("resnet18 | random-vgg19 | vgg19 | a model path (default resnet18).")]
        public string Network { get; init; } = "resnet18";

        [CommandOption("--height <PX>")]
        public int Height { get; init; } = 224;

        [CommandOption("--iterations <N>")]
        public int Iterations { get; init; } = 3;

        [CommandOption("--evaluations <N>")]
        public int Evaluations { get; init; } = 20;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await PipelineBenchmark.RunAsync(
            ScratchHub.AzuriteConnectionString(), await File.ReadAllBytesAsync(settings.Content, cancellationToken), await File.ReadAllBytesAsync(settings.Style, cancellationToken),
            settings.Network, settings.Height, settings.Iterations, settings.Evaluations, Console.Out, cancellationToken);
        return 0;
    }
}
