namespace ServerlessStyle.Core.Networks;

/// <summary>A VGG19 found on this machine: in the model store (with its recorded SHA-256) or as the Keras file.</summary>
public sealed record LocalVgg19(NetworkOrigin Origin, string Path, string? Sha256);

/// <summary>Where this machine keeps VGG19 and how network files load; the choice among networks is <c>Workflow.NetworkResolver</c>'s.</summary>
public static class NetworkCatalog
{
    /// <summary>The Keras file the example loads; Keras caches it in ~/.keras/models.</summary>
    public const string KerasVgg19FileName = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5";

    /// <summary>Folders searched, in order, for <see cref="KerasVgg19FileName"/>.</summary>
    public static IReadOnlyList<string> Vgg19SearchFolders { get; } =
    [
        Path.Combine(AppContext.BaseDirectory, "models"),
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".keras", "models"),
    ];

    /// <summary>
    /// What to do when no VGG19 is installed: the one sentence every "vgg19 not available" message ends with, so the CLI,
    /// the engine's validation and the docs all tell the same story.
    /// </summary>
    public const string HowToAddVgg19 =
        "Add one with 'serverless-style models fetch vgg19' (downloads the Keras file, needs internet) or " +
        "'serverless-style models import --keras-h5 FILE', then, for a deployment, 'serverless-style models upload --account ACCOUNT' " +
        "(it goes to the models container); or ask for network resnet18.";

    /// <summary>
    /// Loads a network from a <c>.onnx</c> or Keras <c>.h5</c> file. <paramref name="preprocess"/> overrides the network's
    /// own input normalisation; a VGG19 from an ONNX file needs it (ONNX files do not say how their input was normalised).
    /// </summary>
    public static LossNetwork LoadFile(string path, InputNormalization? preprocess = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
        {
            return LoadKeras(path, preprocess);
        }

        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return LoadOnnx(path, preprocess);
        }

        throw new NetworkLoadException(NetworkLoadFailure.UnknownSpec, $"{path}: not a network file; give a path ending in .onnx or .h5.");
    }

    /// <summary>
    /// The VGG19 installed on this machine: the one in <paramref name="store"/> (imported or fetched), else the Keras file
    /// in one of <see cref="Vgg19SearchFolders"/>; null when there is none. This is the local part of every lookup;
    /// a deployment puts the storage account's models container in front of it.
    /// </summary>
    public static LocalVgg19? FindLocalVgg19(ModelStore? store)
    {
        if (store?.TryRead("vgg19") is { } stored)
        {
            return new LocalVgg19(NetworkOrigin.ModelStore, stored.OnnxPath, stored.Sha256);
        }

        return Vgg19SearchFolders.Select(f => Path.Combine(f, KerasVgg19FileName)).FirstOrDefault(File.Exists) is { } keras
            ? new LocalVgg19(NetworkOrigin.File, keras, null)
            : null;
    }

    /// <summary>Loads a VGG19 that <see cref="FindLocalVgg19"/> found.</summary>
    public static LossNetwork LoadLocal(LocalVgg19 local, InputNormalization? preprocess, ModelStore? store)
    {
        ArgumentNullException.ThrowIfNull(local);
        return local.Origin == NetworkOrigin.ModelStore && store is not null
            ? store.TryLoad("vgg19") ?? throw new NetworkLoadException(NetworkLoadFailure.FileNotFound, $"{local.Path} disappeared while loading.")
            : LoadKeras(local.Path, preprocess);
    }

    private static LossNetwork LoadKeras(string path, InputNormalization? preprocess) =>
        Vgg19.Build(Path.GetFileNameWithoutExtension(path) == Path.GetFileNameWithoutExtension(KerasVgg19FileName) ? "vgg19" : Path.GetFileNameWithoutExtension(path),
            KerasWeights.ReadVgg19Convs(path), preprocess ?? Vgg19.KerasInput);

    private static LossNetwork LoadOnnx(string path, InputNormalization? preprocess)
    {
        // The CNTK ResNet18 may be deployed under another path; it is recognised by its content tap.
        var model = OnnxFiles.ReadModel(path);
        if (model.Graph.Node.Any(n => n.Output.Contains(ResNet18.ContentLayer)))
        {
            return ResNet18.Load(model, path, preprocess);
        }

        if (preprocess is null)
        {
            throw new ArgumentException(
                $"{path}: an ONNX VGG19 does not record how its input was normalised; pass InputNormalization.Caffe(...) or InputNormalization.Torch.",
                nameof(preprocess));
        }

        return OnnxVgg19.Load(model, path, preprocess);
    }
}
