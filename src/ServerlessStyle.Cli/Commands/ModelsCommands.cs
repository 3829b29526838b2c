using System.ComponentModel;
using ServerlessStyle.Core.Networks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>Options every <c>models</c> command shares.</summary>
internal class ModelsSettings : CommandSettings
{
    [CommandOption("--models <DIR>")]
    [Description("Where imported networks live (default: $SERVERLESS_STYLE_MODELS or ~/.serverless-style/models).")]
    public string? Folder { get; init; }

    public ModelStore Store => new(Folder ?? ModelStore.DefaultFolder);
}

/// <summary><c>models list</c>.</summary>
internal sealed class ModelsListCommand : Command<ModelsSettings>
{
    public override int Execute(CommandContext context, ModelsSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.Store;
        var models = store.List();
        if (models.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"No imported networks in {store.Folder}.");
        }

        foreach (var model in models)
        {
            AnsiConsole.MarkupLineInterpolated($"{model.Name}  {model.Preprocess}  {model.Bytes / 1_048_576.0:F1} MB  {model.OnnxPath}");
        }

        AnsiConsole.MarkupLineInterpolated($"resnet18  caffe  bundled  {ResNet18.DefaultPath}");
        Console.WriteLine($"auto -> {NetworkCatalog.ResolveAuto(store).Note}");
        return 0;
    }
}

/// <summary><c>models import --keras-h5 FILE | --onnx FILE --preprocess caffe|torch</c>.</summary>
internal sealed class ModelsImportCommand : Command<ModelsImportCommand.Settings>
{
    public sealed class Settings : ModelsSettings
    {
        [CommandOption("--keras-h5 <FILE>")]
        [Description("The Keras file vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (or a Keras VGG19 .h5 of that layout).")]
        public string? KerasH5 { get; init; }

        [CommandOption("--onnx <FILE>")]
        [Description("An ONNX VGG19 (Conv/Relu/MaxPool stack); layers after block5_conv2 are dropped.")]
        public string? Onnx { get; init; }

        [CommandOption("--preprocess <KIND>")]
        [Description("How the ONNX file's input is normalised: caffe (Keras) or torch (ONNX model zoo). Required with --onnx.")]
        public string? Preprocess { get; init; }

        [CommandOption("--name <NAME>")]
        [Description("The name to store it under (default vgg19).")]
        public string Name { get; init; } = "vgg19";

        public override ValidationResult Validate()
        {
            if ((KerasH5 is null) == (Onnx is null))
            {
                return ValidationResult.Error("give exactly one of --keras-h5 FILE or --onnx FILE.");
            }

            if (Onnx is not null && Preprocess is null)
            {
                return ValidationResult.Error("--onnx needs --preprocess caffe|torch (an ONNX file does not say how its input was normalised).");
            }

            if (Preprocess is not null && Preprocess is not ("caffe" or "torch"))
            {
                return ValidationResult.Error($"--preprocess '{Preprocess}' is not caffe or torch.");
            }

            var file = KerasH5 ?? Onnx!;
            return File.Exists(file) ? ValidationResult.Success() : ValidationResult.Error($"file not found: {file}");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var preprocess = settings.KerasH5 is not null ? "caffe" : settings.Preprocess!;
        var network = NetworkCatalog.Load(settings.KerasH5 ?? settings.Onnx!, Preprocessing.Parse(preprocess));
        var stored = settings.Store.Import(settings.Name, network, preprocess);
        Console.WriteLine($"imported {stored.Name} ({stored.Bytes / 1_048_576.0:F1} MB, {preprocess}) to {stored.OnnxPath}");
        return 0;
    }
}

/// <summary><c>models fetch vgg19</c>: downloads the Keras notop weights from their public address, then imports them.</summary>
internal sealed class ModelsFetchCommand : AsyncCommand<ModelsFetchCommand.Settings>
{
    /// <summary>Where Keras itself downloads the file the seed loads.</summary>
    public const string KerasVgg19Url =
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + NetworkCatalog.KerasVgg19FileName;

    public sealed class Settings : ModelsSettings
    {
        [CommandArgument(0, "<NETWORK>")]
        [Description("Only vgg19 can be fetched.")]
        public string Network { get; init; } = "";

        public override ValidationResult Validate() =>
            Network == "vgg19" ? ValidationResult.Success() : ValidationResult.Error($"cannot fetch '{Network}': only vgg19 is downloadable (resnet18 is bundled).");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(Path.GetTempPath(), NetworkCatalog.KerasVgg19FileName + "." + Environment.ProcessId);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            Console.WriteLine($"downloading {KerasVgg19Url} ...");
            try
            {
                using var response = await http.GetAsync(KerasVgg19Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                await using var file = File.Create(temp);
                await response.Content.CopyToAsync(file, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"could not download the VGG19 weights ({e.Message}). Without internet, copy {NetworkCatalog.KerasVgg19FileName} " +
                    "here from a machine that has it and run 'serverless-style models import --keras-h5 FILE'.", e);
            }

            var network = NetworkCatalog.Load(temp, Preprocessing.Parse("caffe"));
            var stored = settings.Store.Import("vgg19", network, "caffe");
            Console.WriteLine($"imported vgg19 ({stored.Bytes / 1_048_576.0:F1} MB) to {stored.OnnxPath}");
            return 0;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
