namespace ServerlessStyle.Core.Networks;

/// <summary>Loads a loss network from a spec: <c>vgg19</c>, <c>resnet18</c>, <c>random-vgg19</c>, or a path to a <c>.onnx</c> or Keras <c>.h5</c> file.</summary>
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
    /// Loads the network <paramref name="spec"/> names. <paramref name="preprocess"/> overrides the network's own input
    /// normalisation; a VGG19 from an ONNX file needs it (ONNX files do not say how their input was normalised).
    /// </summary>
    public static LossNetwork Load(string spec, InputNormalization? preprocess = null, ModelStore? store = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        switch (spec.ToLowerInvariant())
        {
            case "auto":
                return Load(ResolveAuto(store).Spec, preprocess, store);
            case "vgg19":
                return store?.TryLoad("vgg19") ?? LoadKeras(FindKerasVgg19(), preprocess);
            case "resnet18":
                return ResNet18.Load(input: preprocess);
            case "random-vgg19":
                return RandomVgg19.Create();
        }

        if (spec.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
        {
            return LoadKeras(spec, preprocess);
        }

        if (spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return LoadOnnx(spec, preprocess);
        }

        throw new NetworkLoadException(
            NetworkLoadFailure.UnknownSpec,
            $"Unknown network '{spec}': use vgg19, resnet18, random-vgg19, or a path ending in .onnx or .h5.");
    }

    /// <summary>
    /// What <c>auto</c> means on this machine: the imported or cached VGG19 when there is one (the seed's network),
    /// else the bundled ResNet18; <c>Note</c> is the one line that tells the user which, and how to get VGG19.
    /// </summary>
    public static (string Spec, string Note) ResolveAuto(ModelStore? store)
    {
        if (store?.TryRead("vgg19") is { } stored)
        {
            return ("vgg19", $"network: vgg19 (imported, {stored.OnnxPath})");
        }

        if (Vgg19SearchFolders.Select(f => Path.Combine(f, KerasVgg19FileName)).FirstOrDefault(File.Exists) is { } keras)
        {
            return ("vgg19", $"network: vgg19 ({keras})");
        }

        return ("resnet18", "network: resnet18 (bundled). For the seed's VGG19 run 'serverless-style models fetch vgg19' " +
            "or 'serverless-style models import --keras-h5 FILE'.");
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

    private static string FindKerasVgg19()
    {
        foreach (var folder in Vgg19SearchFolders)
        {
            var path = Path.Combine(folder, KerasVgg19FileName);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new NetworkLoadException(
            NetworkLoadFailure.FileNotFound,
            $"The VGG19 weights {KerasVgg19FileName} were not found in {string.Join(" or ", Vgg19SearchFolders)}; copy the Keras file there, pass its path, or use resnet18.");
    }
}
