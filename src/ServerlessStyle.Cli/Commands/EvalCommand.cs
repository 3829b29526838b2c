using System.ComponentModel;
using System.Text.Json;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary><c>eval</c>: one loss and gradient evaluation, printed as JSON, the gradient written as .npy (for comparisons with other implementations).</summary>
internal sealed class EvalCommand : AsyncCommand<EvalCommand.Settings>
{
    public sealed class Settings : LossWeightSettings
    {
        [CommandOption("--content <IMG>")]
        [Description("The content image.")]
        public string Content { get; init; } = "";

        [CommandOption("--style <IMG>")]
        [Description("The style image (resized to exactly the content's size, as the Keras example does).")]
        public string Style { get; init; } = "";

        [CommandOption("--height <H>")]
        [Description("Image height in pixels.")]
        public int Height { get; init; }

        [CommandOption("--width <W>")]
        [Description("Image width (default: keep the content's aspect ratio).")]
        public int? Width { get; init; }

        [CommandOption("-x|--x-npy <FILE>")]
        [Description("Evaluate at this preprocessed image (.npy float32 of shape 1x3xHxW, caffe space) instead of the content image.")]
        public string? X { get; init; }

        [CommandOption("--grad-out <FILE>")]
        [Description("Write d loss / d x here (.npy float32 of shape 1x3xHxW).")]
        public string? GradOut { get; init; }

        [CommandOption("--inputs-out <DIR>")]
        [Description("Also write the preprocessed content.npy, style.npy and x.npy used, so another implementation can evaluate the same point.")]
        public string? InputsOut { get; init; }

        public override ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful)
            {
                return common;
            }

            foreach (var (option, file) in new[] { ("--content", Content), ("--style", Style), ("-x", X ?? "") })
            {
                if (option != "-x" && file.Length == 0)
                {
                    return ValidationResult.Error($"{option} IMG is required.");
                }

                if (file.Length > 0 && !File.Exists(file))
                {
                    return ValidationResult.Error($"{option}: file not found: {file}");
                }
            }

            if (Height < 2 || Width is < 2)
            {
                return ValidationResult.Error($"--height {Height} / --width {Width}: both must be at least 2 (the total variation needs 2x2).");
            }

            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = await settings.LoadNetworkAsync(cancellationToken).ConfigureAwait(false);
        var contentBytes = File.ReadAllBytes(settings.Content);
        var content = settings.Width is { } width
            ? ImageLoader.LoadExact(contentBytes, settings.Height, width)
            : ImageLoader.LoadToHeight(contentBytes, settings.Height);
        var style = ImageLoader.LoadExact(File.ReadAllBytes(settings.Style), content.Height, content.Width);
        long[] shape = [1, 3, content.Height, content.Width];

        var x = content.Data;
        if (settings.X is { } xPath)
        {
            var (data, xShape) = Npy.ReadFloat32(xPath);
            if (!xShape.SequenceEqual(shape))
            {
                throw new ArgumentException($"-x {xPath} has shape ({string.Join(", ", xShape)}); the images are ({string.Join(", ", shape)}).");
            }

            x = data;
        }

        var weights = settings.Weights(network.DefaultWeights);
        using var evaluator = new StyleEvaluator(settings.EvaluatorOptions());
        var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var gradient = new float[x.Length];
        var terms = evaluator.Evaluate(network, targets, weights, x, gradient);

        if (settings.GradOut is { } gradOut)
        {
            Npy.WriteFloat32(gradOut, gradient, shape);
        }

        if (settings.InputsOut is { } folder)
        {
            Directory.CreateDirectory(folder);
            Npy.WriteFloat32(Path.Combine(folder, "content.npy"), content.Data, shape);
            Npy.WriteFloat32(Path.Combine(folder, "style.npy"), style.Data, shape);
            Npy.WriteFloat32(Path.Combine(folder, "x.npy"), x, shape);
        }

        Console.Out.WriteLine(JsonSerializer.Serialize(new { loss = terms.Total, content = terms.Content, style = terms.Style, tv = terms.TotalVariation }));
        return 0;
    }
}
