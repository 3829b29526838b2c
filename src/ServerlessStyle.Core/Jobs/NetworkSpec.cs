using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessStyle.Core.Jobs;

/// <summary>What a <see cref="NetworkSpec"/> names.</summary>
public enum NetworkKind
{
    /// <summary>The deployment's configured network (which is itself vgg19 when one is available, else resnet18).</summary>
    Auto,
    Vgg19,
    ResNet18,

    /// <summary>A VGG19-shaped network with seeded random weights, for tests only (see <see cref="LimitsOptions.AllowTestNetworks"/>).</summary>
    RandomVgg19,

    /// <summary>A .onnx or Keras .h5 file on the worker's machine (see <see cref="LimitsOptions.AllowNetworkFiles"/>).</summary>
    File,
}

/// <summary>
/// The loss network a request asks for: a named network or a model file. Parsed once from its one spelling (the
/// request's JSON, a command line, configuration), carried in the request, and resolved to a loaded network in one
/// place (<c>Workflow.NetworkResolver</c>).
/// </summary>
[JsonConverter(typeof(NetworkSpecJsonConverter))]
public sealed record NetworkSpec
{
    /// <summary>The accepted spellings, for messages and help.</summary>
    public const string Spellings = "auto, vgg19, resnet18, random-vgg19 or a path ending in .onnx or .h5";

    private NetworkSpec(NetworkKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public static NetworkSpec Auto { get; } = new(NetworkKind.Auto, "auto");

    public static NetworkSpec Vgg19 { get; } = new(NetworkKind.Vgg19, "vgg19");

    public static NetworkSpec ResNet18 { get; } = new(NetworkKind.ResNet18, "resnet18");

    public static NetworkSpec RandomVgg19 { get; } = new(NetworkKind.RandomVgg19, "random-vgg19");

    public NetworkKind Kind { get; }

    /// <summary>The spelling: a network's name, or the file's path for <see cref="NetworkKind.File"/>.</summary>
    public string Name { get; }

    /// <summary>The file's path; null for a named network.</summary>
    public string? FilePath => Kind == NetworkKind.File ? Name : null;

    /// <summary>A model file; the caller gives the path as the worker will open it (the command line makes it absolute).</summary>
    public static NetworkSpec File(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return IsModelFile(path)
            ? new NetworkSpec(NetworkKind.File, path)
            : throw new ArgumentException($"'{path}' does not end in .onnx or .h5", nameof(path));
    }

    /// <summary>The spec <paramref name="text"/> spells (surrounding spaces ignored, names lowercase as in request version 1); null for anything else.</summary>
    public static NetworkSpec? TryParse(string? text) => text?.Trim() switch
    {
        "auto" => Auto,
        "vgg19" => Vgg19,
        "resnet18" => ResNet18,
        "random-vgg19" => RandomVgg19,
        { Length: > 0 } path when IsModelFile(path) => new NetworkSpec(NetworkKind.File, path),
        _ => null,
    };

    /// <summary>The spec <paramref name="text"/> spells; throws <see cref="JobRequestException"/> on <paramref name="field"/> for anything else.</summary>
    public static NetworkSpec Parse(string? text, string field = "network") =>
        TryParse(text) ?? throw new JobRequestException(field, $"'{text}' is not a network; allowed: {Spellings}");

    /// <summary>
    /// The deployment's gates: the seeded test network only where <see cref="LimitsOptions.AllowTestNetworks"/>, a model
    /// file only where <see cref="LimitsOptions.AllowNetworkFiles"/>.
    /// </summary>
    public void CheckAllowed(LimitsOptions limits, string field = "network")
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (Kind == NetworkKind.RandomVgg19 && !limits.AllowTestNetworks)
        {
            throw new JobRequestException(field, "'random-vgg19' is for tests only; allowed: auto, vgg19, resnet18");
        }

        if (Kind == NetworkKind.File && !limits.AllowNetworkFiles)
        {
            throw new JobRequestException(field, $"'{Name}' is a file on the worker's machine, which this deployment does not open; allowed: auto, vgg19, resnet18");
        }
    }

    public override string ToString() => Name;

    private static bool IsModelFile(string path) =>
        path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Reads and writes a <see cref="NetworkSpec"/> as its one string (<c>"network": "vgg19"</c>).</summary>
public sealed class NetworkSpecJsonConverter : JsonConverter<NetworkSpec>
{
    public override NetworkSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // Only strings: the numbers the old enum converter also took (0 for auto, 2 for resnet18) were never documented.
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return NetworkSpec.TryParse(text) ?? throw new JsonException($"'{text ?? reader.TokenType.ToString()}' is not a network; allowed: {NetworkSpec.Spellings}.");
    }

    public override void Write(Utf8JsonWriter writer, NetworkSpec value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.Name);
    }
}

/// <summary>The spellings of <see cref="ActivationSmoothingChoice"/> outside JSON (command lines), and what each means to the engine.</summary>
public static class ActivationSmoothingChoices
{
    /// <summary>on or off as the request spells them; null for anything else.</summary>
    public static ActivationSmoothingChoice? TryParse(string? text) => text switch
    {
        "on" => ActivationSmoothingChoice.On,
        "off" => ActivationSmoothingChoice.Off,
        _ => null,
    };

    /// <summary>True for on, false for off, null (the network's own choice) when left out.</summary>
    public static bool? AsSwitch(this ActivationSmoothingChoice? choice) => choice switch
    {
        ActivationSmoothingChoice.On => true,
        ActivationSmoothingChoice.Off => false,
        _ => null,
    };
}
