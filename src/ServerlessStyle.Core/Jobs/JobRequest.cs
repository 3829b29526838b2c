using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessStyle.Core.Jobs;

/// <summary>Thrown for a request that cannot run; <see cref="Field"/> names the offending field (JSON path style).</summary>
public sealed class JobRequestException(string field, string message, Exception? inner = null)
    : Exception($"{field}: {message}", inner)
{
    public string Field { get; } = field;
}

/// <summary>
/// Reads a request's choice by its names only. The default converter also takes any number, as JSON or in a string,
/// even one that names no member: <c>"pooling": 7</c> ran with max pooling instead of being refused.
/// </summary>
public sealed class NamesOnlyEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(namingPolicy: null, allowIntegerValues: false)
    where TEnum : struct, Enum;

/// <summary>One result per style, or one result from all styles mixed by weight.</summary>
[JsonConverter(typeof(NamesOnlyEnumConverter<StyleMode>))]
public enum StyleMode
{
    [JsonStringEnumMemberName("each")] Each,
    [JsonStringEnumMemberName("blend")] Blend,
}

/// <summary>The optimiser family a request asks for (the engine's own is <see cref="Optimization.OptimizerKind"/>).</summary>
[JsonConverter(typeof(NamesOnlyEnumConverter<OptimizerChoice>))]
public enum OptimizerChoice
{
    [JsonStringEnumMemberName("lbfgs")] Lbfgs,
    [JsonStringEnumMemberName("adam")] Adam,
}

/// <summary>The named start points of <see cref="JobRequest.Init"/>; any other value is a blob name.</summary>
public static class InitChoices
{
    /// <summary>The content image at the output size (the Keras example's start point).</summary>
    public const string Content = "content";

    /// <summary>Uniform noise over 0..255 per channel, drawn from <see cref="JobRequest.Seed"/>.</summary>
    public const string Noise = "noise";

    /// <summary>The pair's first style image (the heaviest in a blend) resized to exactly the output size.</summary>
    public const string Style = "style";
}

/// <summary>A tensor of the loss network (a style or content tap) and its weight.</summary>
public sealed record LayerWeight(string Name, double Weight = 1.0);

/// <summary>The pooling of a VGG19 loss network.</summary>
[JsonConverter(typeof(NamesOnlyEnumConverter<PoolingChoice>))]
public enum PoolingChoice
{
    [JsonStringEnumMemberName("max")] Max,
    [JsonStringEnumMemberName("avg")] Avg,
}

/// <summary>SWAG's activation smoothing of the loss network's taps; a request that leaves it out gets the network's own choice.</summary>
[JsonConverter(typeof(NamesOnlyEnumConverter<ActivationSmoothingChoice>))]
public enum ActivationSmoothingChoice
{
    [JsonStringEnumMemberName("on")] On,
    [JsonStringEnumMemberName("off")] Off,
}

/// <summary>
/// How the loss network's input is normalised, overriding the network's own: <c>caffe</c> (BGR minus the ImageNet mean,
/// as Keras) or <c>torch</c> (RGB scaled to 0..1, minus the mean, over the std, as the ONNX model zoo).
/// </summary>
[JsonConverter(typeof(NamesOnlyEnumConverter<PreprocessChoice>))]
public enum PreprocessChoice
{
    [JsonStringEnumMemberName("caffe")] Caffe,
    [JsonStringEnumMemberName("torch")] Torch,
}

/// <summary>A style image and its weight in a blend.</summary>
public sealed record StyleInput(string Blob, double Weight = 1.0);

/// <summary>The optimiser section of a request (the engine's own settings are <see cref="Optimization.OptimizerSettings"/>).</summary>
public sealed record OptimizerRequest
{
    public OptimizerChoice Kind { get; init; } = OptimizerChoice.Lbfgs;

    public int History { get; init; } = 10;

    /// <summary>True reproduces the Keras example, which throws the L-BFGS memory away after every iteration.</summary>
    public bool RestartEachIteration { get; init; }
}

/// <summary>The job request, JSON version 1 (docs/contracts.md). Weights left null take the network's defaults.</summary>
public sealed record JobRequest
{
    public int Version { get; init; } = 1;

    /// <summary>Content blobs; JSON accepts one name or a list.</summary>
    [JsonConverter(typeof(OneOrManyStringsConverter))]
    public IReadOnlyList<string> Content { get; init; } = [];

    public IReadOnlyList<StyleInput> Styles { get; init; } = [];

    public StyleMode StyleMode { get; init; } = StyleMode.Each;

    public int Height { get; init; } = 224;

    public int Iterations { get; init; } = 10;

    public int EvaluationsPerIteration { get; init; } = 20;

    public double? ContentWeight { get; init; }

    public double? StyleWeight { get; init; }

    public double? TvWeight { get; init; }

    /// <summary>auto | vgg19 | resnet18 | random-vgg19 | a model file where the deployment allows it.</summary>
    public NetworkSpec Network { get; init; } = NetworkSpec.Auto;

    /// <summary>
    /// caffe | torch: the input normalisation of a network file (an ONNX VGG19 needs one), a local VGG19 or resnet18;
    /// omitted: the worker's configured one, else the network's own. A network from the models container keeps the
    /// one recorded with it.
    /// </summary>
    public PreprocessChoice? Preprocess { get; init; }

    public OptimizerRequest Optimizer { get; init; } = new();

    /// <summary>content | noise | style | a blob name (uploads/..., styles/..., inbox/...) resized to the output size.</summary>
    public string Init { get; init; } = InitChoices.Content;

    /// <summary>Makes every random choice (the noise start point) reproducible.</summary>
    public int Seed { get; init; }

    /// <summary>Saved images keep the content's colours: the result's luminance with the content's chroma (YCbCr).</summary>
    public bool PreserveColors { get; init; }

    /// <summary>The style image's size relative to the output size before its Grams are taken (1: exactly the output size).</summary>
    public double StyleScale { get; init; } = 1.0;

    /// <summary>
    /// Coarse-to-fine heights, ascending (e.g. 128, 256, 512); each stage starts from the previous stage's result
    /// upscaled. When set, the last scale is the output height and <see cref="Height"/> is not used.
    /// </summary>
    public IReadOnlyList<int>? Scales { get; init; }

    /// <summary>Style taps and their weights, replacing the network's own (names are the network's tensor names).</summary>
    public IReadOnlyList<LayerWeight>? StyleLayers { get; init; }

    /// <summary>The content tap, replacing the network's own: one entry, its weight multiplies contentWeight.</summary>
    public IReadOnlyList<LayerWeight>? ContentLayers { get; init; }

    /// <summary>max (the network's own) or avg: every MaxPool of a VGG19 loss network becomes an AveragePool.</summary>
    public PoolingChoice Pooling { get; init; } = PoolingChoice.Max;

    /// <summary>on | off: SWAG's softmax smoothing of the style and content taps; omitted: on for resnet18, off for vgg19.</summary>
    public ActivationSmoothingChoice? ActivationSmoothing { get; init; }

    /// <summary>Iterations of each stage of <see cref="Scales"/>, one per scale; omitted, every stage runs <see cref="Iterations"/>.</summary>
    public IReadOnlyList<int>? StageIterations { get; init; }

    /// <summary>
    /// Tile size in px (0: no tiling): the largest stage, and any stage larger than this, is optimised as overlapping
    /// tiles of at most this size, one activity each, blended after every iteration (docs/artistic-controls.md).
    /// </summary>
    public int Tile { get; init; }

    /// <summary>Overlap of neighbouring tiles in px, less than half the tile; omitted: an eighth of the tile.</summary>
    public int? TileOverlap { get; init; }
}

/// <summary>Reads a string or an array of strings as a list, so <c>"content": "a.jpg"</c> and <c>["a.jpg"]</c> both work.</summary>
public sealed class OneOrManyStringsConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return [reader.GetString()!];
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected a blob name or a list of blob names");
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException("expected a blob name or a list of blob names");
            }

            list.Add(reader.GetString()!);
        }

        return list;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var s in value)
        {
            writer.WriteStringValue(s);
        }

        writer.WriteEndArray();
    }
}
