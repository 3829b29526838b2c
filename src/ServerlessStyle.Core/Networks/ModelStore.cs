using System.Text.Json;
using Google.Protobuf;
using ServerlessStyle.Core.Graph;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// A loss network imported into a <see cref="ModelStore"/>: its ONNX file, the preprocessing it needs, the file's SHA-256
/// and where the network came from (for example the Keras file it was converted from).
/// </summary>
public sealed record StoredModel(string Name, string OnnxPath, string Preprocess, long Bytes, string Sha256, string Source);

/// <summary>
/// A folder of imported loss networks: <c>{name}.onnx</c> (the forward graph with its weights) beside
/// <c>{name}.json</c> (how its input is normalised, the ONNX file's SHA-256, its source). <c>models import</c> writes it;
/// the <c>auto</c> and <c>vgg19</c> networks read it, so a VGG19 imported once serves every later run.
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

        var sidecar = JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(json));
        // Imports made before digests were recorded have none: the file as it is now is all there is to go by.
        var sha256 = ModelDigest.IsSha256(sidecar?.Sha256) ? sidecar!.Sha256!.ToLowerInvariant() : ModelDigest.OfFile(onnx);
        return new StoredModel(name, onnx, sidecar?.Preprocess ?? "caffe", new FileInfo(onnx).Length, sha256, sidecar?.Source ?? "imported");
    }

    /// <summary>
    /// Loads a stored model as a loss network, or null when it is not there. The file is checked against the SHA-256
    /// recorded at import first, so a file changed since then fails here instead of running as if it were the import.
    /// </summary>
    public LossNetwork? TryLoad(string name)
    {
        if (TryRead(name) is not { } stored)
        {
            return null;
        }

        var actual = ModelDigest.OfFile(stored.OnnxPath);
        if (actual != stored.Sha256)
        {
            throw new NetworkLoadException(
                NetworkLoadFailure.DigestMismatch,
                $"{stored.OnnxPath} has SHA-256 {actual} but was imported with {stored.Sha256}: the file changed since 'models import'. Import it again.");
        }

        return NetworkCatalog.LoadFile(stored.OnnxPath, Preprocessing.Parse(stored.Preprocess));
    }

    /// <summary>
    /// Stores <paramref name="network"/> under <paramref name="name"/>, recording <paramref name="source"/> (where it came
    /// from) and the ONNX file's SHA-256. Files are written beside their final names and then moved, so a crash never
    /// leaves a half-written model that a later run would load.
    /// </summary>
    public StoredModel Import(string name, LossNetwork network, string preprocess, string source = "imported")
    {
        Preprocessing.Parse(preprocess);
        Directory.CreateDirectory(Folder);
        var onnx = Path.Combine(Folder, name + ".onnx");
        var json = Path.Combine(Folder, name + ".json");
        var bytes = OnnxProtos.Model(network.Graph).ToByteArray();
        File.WriteAllBytes(onnx + ".tmp", bytes);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(new Sidecar(preprocess, sha256, source)));
        File.Move(onnx + ".tmp", onnx, overwrite: true);
        File.Move(json + ".tmp", json, overwrite: true);
        return TryRead(name)!;
    }

    private sealed record Sidecar(string Preprocess, string? Sha256 = null, string? Source = null);
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
