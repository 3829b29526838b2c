using System.Text.Json;
using Google.Protobuf;
using ServerlessStyle.Core.Graph;

namespace ServerlessStyle.Core.Networks;

/// <summary>A loss network imported into a <see cref="ModelStore"/>: its ONNX file and the preprocessing it needs.</summary>
public sealed record StoredModel(string Name, string OnnxPath, string Preprocess, long Bytes);

/// <summary>
/// A folder of imported loss networks: <c>{name}.onnx</c> (the forward graph with its weights) beside
/// <c>{name}.json</c> (how its input is normalised). <c>models import</c> writes it; the <c>auto</c> and <c>vgg19</c>
/// networks read it, so a VGG19 imported once serves every later run.
/// </summary>
public sealed class ModelStore(string folder)
{
    /// <summary>The folder: <c>SERVERLESS_STYLE_MODELS</c> when set, else <c>~/.serverless-style/models</c>.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("SERVERLESS_STYLE_MODELS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".serverless-style", "models");

    public string Folder { get; } = folder;

    /// <summary>The imported models, by name.</summary>
    public IReadOnlyList<StoredModel> List()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        return Directory.GetFiles(Folder, "*.json")
            .Select(path => TryRead(Path.GetFileNameWithoutExtension(path)))
            .OfType<StoredModel>()
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The stored model called <paramref name="name"/>, or null.</summary>
    public StoredModel? TryRead(string name)
    {
        var onnx = Path.Combine(Folder, name + ".onnx");
        var json = Path.Combine(Folder, name + ".json");
        if (!File.Exists(onnx) || !File.Exists(json))
        {
            return null;
        }

        var preprocess = JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(json))?.Preprocess ?? "caffe";
        return new StoredModel(name, onnx, preprocess, new FileInfo(onnx).Length);
    }

    /// <summary>Loads a stored model as a loss network, or null when it is not there.</summary>
    public LossNetwork? TryLoad(string name) =>
        TryRead(name) is { } stored ? NetworkCatalog.Load(stored.OnnxPath, Preprocessing.Parse(stored.Preprocess)) : null;

    /// <summary>
    /// Stores <paramref name="network"/> under <paramref name="name"/>. Files are written beside their final names and
    /// then moved, so a crash never leaves a half-written model that a later run would load.
    /// </summary>
    public StoredModel Import(string name, LossNetwork network, string preprocess)
    {
        Preprocessing.Parse(preprocess);
        Directory.CreateDirectory(Folder);
        var onnx = Path.Combine(Folder, name + ".onnx");
        var json = Path.Combine(Folder, name + ".json");
        var model = OnnxProtos.Model(network.Graph);
        File.WriteAllBytes(onnx + ".tmp", model.ToByteArray());
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(new Sidecar(preprocess)));
        File.Move(onnx + ".tmp", onnx, overwrite: true);
        File.Move(json + ".tmp", json, overwrite: true);
        return TryRead(name)!;
    }

    private sealed record Sidecar(string Preprocess);
}

/// <summary>The names of input preprocessings a user can give: <c>caffe</c> (Keras) and <c>torch</c> (ONNX model zoo).</summary>
public static class Preprocessing
{
    public static InputNormalization Parse(string name) => name.ToLowerInvariant() switch
    {
        "caffe" => InputNormalization.Caffe(Imaging.CaffeSpace.Mean),
        "torch" => InputNormalization.Torch,
        _ => throw new ArgumentException($"Unknown preprocessing '{name}': use caffe (BGR minus the ImageNet mean, as Keras) or torch (RGB mean/std)."),
    };
}
