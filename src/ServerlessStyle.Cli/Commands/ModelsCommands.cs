using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Core.Storage;
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
internal sealed class ModelsListCommand : AsyncCommand<ModelsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ModelsSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.Store;
        var models = store.List();
        if (models.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"No imported networks in {store.Folder}.");
        }

        foreach (var model in models)
        {
            AnsiConsole.MarkupLineInterpolated($"{model.Name}  {model.Preprocess}  {model.Bytes / 1_048_576.0:F1} MB  sha256 {model.Sha256}  {model.OnnxPath}  ({model.Source})");
        }

        AnsiConsole.MarkupLineInterpolated($"resnet18  caffe  bundled  {ResNet18.DefaultPath}");
        // The runner's own lookup without a storage account: this machine's store and Keras file, else ResNet18.
        var (_, _, note) = await NetworkResolver.ResolveAutoOfflineAsync(store, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"auto -> {note}");
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
        var network = NetworkCatalog.LoadFile(settings.KerasH5 ?? settings.Onnx!, Preprocessing.Parse(preprocess));
        var source = settings.KerasH5 is not null ? $"Keras file {Path.GetFileName(settings.KerasH5)}" : $"ONNX file {Path.GetFileName(settings.Onnx)}";
        var stored = settings.Store.Import(settings.Name, network, preprocess, source);
        Console.WriteLine($"imported {stored.Name} ({stored.Bytes / 1_048_576.0:F1} MB, {preprocess}) to {stored.OnnxPath}");
        return 0;
    }
}

/// <summary>
/// <c>models fetch vgg19</c>: downloads the Keras notop weights, keeps them only if their MD5 is the one Keras publishes,
/// and imports them into the model store.
/// </summary>
internal sealed class ModelsFetchCommand : AsyncCommand<ModelsFetchCommand.Settings>
{
    /// <summary>Where Keras itself downloads the file the seed loads.</summary>
    public const string KerasVgg19Url =
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + NetworkCatalog.KerasVgg19FileName;

    /// <summary>The MD5 Keras publishes for that file (keras.applications.vgg19, file_hash of WEIGHTS_PATH_NO_TOP).</summary>
    public const string KerasVgg19Md5 = "253f8cb515780f3b799900260a226db6";

    public sealed class Settings : ModelsSettings
    {
        [CommandArgument(0, "<NETWORK>")]
        [Description("Only vgg19 can be fetched.")]
        public string Network { get; init; } = "";

        [CommandOption("--url <URL>")]
        [Description("Where to download the Keras file from (default: Keras' own address); a mirror must serve the same bytes, the MD5 is checked.")]
        public string Url { get; init; } = KerasVgg19Url;

        [CommandOption("--if-missing")]
        [Description("Do nothing when the model store already holds vgg19 (as the azd hook runs it on every provision).")]
        public bool IfMissing { get; init; }

        public override ValidationResult Validate()
        {
            if (Network != "vgg19")
            {
                return ValidationResult.Error($"cannot fetch '{Network}': only vgg19 is downloadable (resnet18 is bundled).");
            }

            return Uri.TryCreate(Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? ValidationResult.Success()
                : ValidationResult.Error($"--url '{Url}' is not an http(s) address.");
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.IfMissing && settings.Store.TryRead("vgg19") is { } present)
        {
            Console.WriteLine($"vgg19 is already imported ({present.OnnxPath}, sha256 {present.Sha256}); nothing fetched.");
            return 0;
        }

        // The file keeps its Keras name inside a folder of its own: the loader names the network after the file.
        var folder = Directory.CreateTempSubdirectory("serverless-style-fetch-").FullName;
        try
        {
            var file = Path.Combine(folder, NetworkCatalog.KerasVgg19FileName);
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            Console.WriteLine($"downloading {settings.Url} ...");
            try
            {
                await VerifiedDownload.DownloadAsync(http, new Uri(settings.Url), KerasVgg19Md5, file, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException(
                    $"could not download the VGG19 weights ({e.Message}). Without internet, copy {NetworkCatalog.KerasVgg19FileName} " +
                    "here from a machine that has it and run 'serverless-style models import --keras-h5 FILE'.", e);
            }

            Console.WriteLine($"MD5 {KerasVgg19Md5} verified");
            var network = NetworkCatalog.LoadFile(file, Preprocessing.Parse("caffe"));
            var stored = settings.Store.Import("vgg19", network, "caffe", $"Keras {NetworkCatalog.KerasVgg19FileName}, MD5 {KerasVgg19Md5} verified");
            Console.WriteLine($"imported vgg19 ({stored.Bytes / 1_048_576.0:F1} MB, sha256 {stored.Sha256}) to {stored.OnnxPath}");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>
/// <c>models upload [--name NAME] (--storage CONNECTION | --account NAME)</c>: puts a network of the local model store into
/// the storage account's models container with its SHA-256, where the Functions app and the runner find it.
/// </summary>
internal sealed class ModelsUploadCommand : AsyncCommand<ModelsUploadCommand.Settings>
{
    public sealed class Settings : ModelsSettings
    {
        [CommandOption("--name <NAME>")]
        [Description("The network of the model store to upload (default vgg19).")]
        public string Name { get; init; } = "vgg19";

        [CommandOption("--storage <CONNECTION_STRING>")]
        [Description("The storage account by connection string (Azurite: its development string).")]
        public string? Storage { get; init; }

        [CommandOption("--account <ACCOUNT>")]
        [Description("The storage account by name, with your signed-in identity (Azure CLI, Visual Studio, environment), like 'az storage --auth-mode login'.")]
        public string? Account { get; init; }

        [CommandOption("--force")]
        [Description("Upload even when the blob's metadata already records this SHA-256 (repairs a blob whose bytes were damaged).")]
        public bool Force { get; init; }

        [CommandOption("--container-prefix <PREFIX>")]
        [Description("The deployment's container prefix (default: $SERVERLESS_STYLE_CONTAINER_PREFIX, else none).")]
        public string? ContainerPrefix { get; init; }

        public override ValidationResult Validate() =>
            (Storage is null) == (Account is null)
                ? ValidationResult.Error("give exactly one of --storage CONNECTION_STRING or --account ACCOUNT.")
                : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var stored = settings.Store.TryRead(settings.Name)
            ?? throw new InvalidOperationException(
                $"no network '{settings.Name}' in {settings.Store.Folder}: run 'serverless-style models fetch vgg19' or 'serverless-style models import ...' first.");
        // --account: the account's blob endpoint with DefaultAzureCredential (BlobStore.Create with a service URI), which
        // finds the Azure CLI's or azd's signed-in user, as 'az storage --auth-mode login' does.
        await using var services = new ServiceCollection().AddServerlessStyle(options =>
        {
            options.ConnectionString = settings.Storage;
            options.ServiceUri = settings.Account is null ? null : new Uri($"https://{settings.Account}.blob.core.windows.net");
            options.ContainerPrefix = settings.ContainerPrefix ?? Environment.GetEnvironmentVariable("SERVERLESS_STYLE_CONTAINER_PREFIX") ?? "";
        }).BuildServiceProvider();
        var models = services.GetRequiredService<ModelContainer>();
        var (model, uploaded) = await models.UploadAsync(stored.Name, stored.OnnxPath, stored.Preprocess, stored.Source, settings.Force, cancellationToken);
        Console.WriteLine(uploaded
            ? $"uploaded {stored.Name} ({stored.Bytes / 1_048_576.0:F1} MB, sha256 {model.Sha256}) to {models.ContainerName}/{model.BlobName}"
            : $"{models.ContainerName}/{model.BlobName} already holds {stored.Name} (sha256 {model.Sha256}); nothing uploaded.");
        return 0;
    }
}
