using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ServerlessStyle.Core.Jobs;

/// <summary>Parses and validates job requests from JSON (HTTP) or blob metadata (inbox), against <see cref="LimitsOptions"/>.</summary>
public static partial class JobRequestParser
{
    /// <summary>The containers a request may name: inputs only, never results or internal state.</summary>
    public static readonly IReadOnlyList<string> InputContainers = ["uploads", "styles", "inbox"];

    /// <summary>camelCase, unknown fields and nulls for required fields rejected, comments allowed (docs/contracts.md's sample has them).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

    /// <summary>Parses a JSON request v1 and validates it; throws <see cref="JobRequestException"/> naming the field.</summary>
    public static JobRequest Parse(string json, LimitsOptions limits)
    {
        JobRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<JobRequest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }

        if (request is null)
        {
            throw new JobRequestException("$", "the request body must be a JSON object");
        }

        Validate(request, limits);
        return request;
    }

    /// <summary>
    /// Builds a request for an inbox blob: the content is that blob, the styles are the resolved style blobs (weight 1
    /// each), and the blob's metadata may set the other fields under their JSON names (values are strings; an
    /// <c>optimizer</c> value is a JSON object).
    /// </summary>
    public static JobRequest FromMetadata(
        IReadOnlyDictionary<string, string> metadata, string contentBlob, IReadOnlyList<string> styleBlobs, LimitsOptions limits)
    {
        var json = new JsonObject
        {
            ["content"] = contentBlob,
            ["styles"] = new JsonArray(styleBlobs.Select(s => (JsonNode)new JsonObject { ["blob"] = s }).ToArray()),
        };
        foreach (var (key, value) in metadata)
        {
            // Blob metadata keys come back lowercased from some tools; match the request's names case-insensitively.
            var name = MetadataFields.FirstOrDefault(f => string.Equals(f, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new JobRequestException(key, $"unknown metadata field; allowed: {string.Join(", ", MetadataFields)}");
            json[name] = MetadataValue(name, value);
        }

        return Parse(json.ToJsonString(), limits);
    }

    private static readonly string[] MetadataFields =
    [
        "version", "styleMode", "height", "iterations", "evaluationsPerIteration", "contentWeight", "styleWeight",
        "tvWeight", "network", "preprocess", "optimizer", "init", "seed", "preserveColors", "styleScale",
        "scales", "stageIterations", "styleLayers", "contentLayers", "pooling", "activationSmoothing", "tile", "tileOverlap",
    ];

    private static readonly string[] StringFields = ["styleMode", "network", "preprocess", "init", "pooling", "activationSmoothing"];

    private static JsonNode? MetadataValue(string name, string value)
    {
        if (StringFields.Contains(name))
        {
            return JsonValue.Create(value);
        }

        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException e)
        {
            throw new JobRequestException(name, $"'{value}' is not a valid value", e);
        }
    }

    /// <summary>Checks every field against the limits; throws <see cref="JobRequestException"/> for the first bad one.</summary>
    public static void Validate(JobRequest request, LimitsOptions limits)
    {
        if (request.Version != 1)
        {
            throw new JobRequestException("version", $"{request.Version} is not supported; allowed: 1");
        }

        if (request.Content.Count == 0)
        {
            throw new JobRequestException("content", "at least one content blob is required");
        }

        if (request.Content.Count > limits.MaxContents)
        {
            throw new JobRequestException("content", $"{request.Content.Count} content blobs; allowed: 1..{limits.MaxContents}");
        }

        for (var i = 0; i < request.Content.Count; i++)
        {
            ValidateBlobName(request.Content[i], request.Content.Count == 1 ? "content" : $"content[{i}]");
        }

        if (request.Styles.Count == 0 || request.Styles.Count > limits.MaxStyles)
        {
            throw new JobRequestException("styles", $"{request.Styles.Count} styles; allowed: 1..{limits.MaxStyles}");
        }

        for (var i = 0; i < request.Styles.Count; i++)
        {
            ValidateBlobName(request.Styles[i].Blob, $"styles[{i}].blob");
            var weight = request.Styles[i].Weight;
            if (!double.IsFinite(weight) || weight < 0)
            {
                throw new JobRequestException($"styles[{i}].weight", $"{Format(weight)} is out of range; allowed: a finite number >= 0");
            }

            // In "each" mode a style is a result of its own: at weight 0 it would have no style loss at all.
            if (weight == 0 && request.StyleMode == StyleMode.Each)
            {
                throw new JobRequestException($"styles[{i}].weight", "0 leaves this style's own result without style; allowed: > 0 in styleMode each (0 is for blend)");
            }
        }

        // A blend normalises the weights by their sum; a style of weight 0 simply contributes nothing.
        if (request.Styles.Sum(s => s.Weight) <= 0)
        {
            throw new JobRequestException("styles", "the style weights sum to 0; allowed: weights >= 0 with a positive sum");
        }

        var pairs = request.StyleMode == StyleMode.Each ? request.Content.Count * request.Styles.Count : request.Content.Count;
        if (pairs > limits.MaxPairs)
        {
            throw new JobRequestException("styles", $"{pairs} results (contents x styles) requested; allowed: 1..{limits.MaxPairs}");
        }

        ValidateTiles(request, limits);
        if (request.Tile == 0 && request.Height > limits.MaxHeight && request.Height <= limits.MaxTiledHeight)
        {
            throw new JobRequestException(
                "height", $"{request.Height} is out of range; allowed: {limits.MinHeight}..{limits.MaxHeight}, or up to {limits.MaxTiledHeight} with tile (the output optimised as tiles, e.g. tile 1024)");
        }

        Range("height", request.Height, limits.MinHeight, MaxHeight(request, limits));
        Range("iterations", request.Iterations, 1, limits.MaxIterations);
        Range("evaluationsPerIteration", request.EvaluationsPerIteration, 1, limits.MaxEvaluationsPerIteration);
        Weight("contentWeight", request.ContentWeight);
        Weight("styleWeight", request.StyleWeight);
        Weight("tvWeight", request.TvWeight);

        request.Network.CheckAllowed(limits);

        Range("optimizer.history", request.Optimizer.History, 1, limits.MaxOptimizerHistory);

        if (request.Init is not (InitChoices.Content or InitChoices.Noise or InitChoices.Style))
        {
            if (request.Init is null || !request.Init.Contains('/', StringComparison.Ordinal))
            {
                throw new JobRequestException("init", $"'{request.Init}' is not a start point; allowed: content, noise, style or a blob name such as uploads/job/start.png");
            }

            ValidateBlobName(request.Init, "init");
        }

        ValidateStages(request, limits);
        ValidateLayers(request.StyleLayers, "styleLayers", MaxStyleLayers);
        ValidateLayers(request.ContentLayers, "contentLayers", 1);
        if (request.Network.Kind == NetworkKind.ResNet18)
        {
            // Caught here so an HTTP caller hears it at once; auto and files are checked against the loaded network.
            CheckPooling(request.Pooling, "resnet18", hasMaxPool: false);
        }

        if (!double.IsFinite(request.StyleScale) || request.StyleScale < MinStyleScale || request.StyleScale > MaxStyleScale)
        {
            throw new JobRequestException("styleScale", $"{Format(request.StyleScale)} is out of range; allowed: {Format(MinStyleScale)}..{Format(MaxStyleScale)}");
        }
    }

    /// <summary>
    /// Average pooling replaces a VGG19's MaxPools (Gatys et al.); a network without them, and resnet18 (average pooling
    /// looked worse with it, docs/networks-and-imaging.md), keeps its own. Throws on the field <c>pooling</c>.
    /// </summary>
    public static void CheckPooling(PoolingChoice pooling, string network, bool hasMaxPool)
    {
        if (pooling == PoolingChoice.Avg && (network == "resnet18" || !hasMaxPool))
        {
            throw new JobRequestException("pooling", $"'avg' is for vgg19 networks; {network} keeps its own pooling");
        }
    }

    /// <summary>Most style layers a request may list.</summary>
    public const int MaxStyleLayers = 16;

    // Names are checked against the network's tensors when the job is validated with the engine (StyleWork).
    private static void ValidateLayers(IReadOnlyList<LayerWeight>? layers, string field, int max)
    {
        if (layers is null)
        {
            return;
        }

        if (layers.Count == 0 || layers.Count > max)
        {
            throw new JobRequestException(field, $"{layers.Count} layers; allowed: 1..{max} (the content loss taps one layer)");
        }

        for (var i = 0; i < layers.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(layers[i].Name))
            {
                throw new JobRequestException($"{field}[{i}].name", "a tensor name of the loss network is required");
            }

            if (!double.IsFinite(layers[i].Weight) || layers[i].Weight < 0)
            {
                throw new JobRequestException($"{field}[{i}].weight", $"{Format(layers[i].Weight)} is out of range; allowed: a finite number >= 0");
            }
        }

        if (layers.Sum(l => l.Weight) <= 0)
        {
            throw new JobRequestException(field, "the layer weights sum to 0; allowed: weights >= 0 with a positive sum");
        }
    }

    /// <summary>The tallest output a request may ask for: a tiled one goes up to <see cref="LimitsOptions.MaxTiledHeight"/>.</summary>
    private static int MaxHeight(JobRequest request, LimitsOptions limits) => request.Tile > 0 ? limits.MaxTiledHeight : limits.MaxHeight;

    private static void ValidateTiles(JobRequest request, LimitsOptions limits)
    {
        if (request.Tile != 0)
        {
            // A tile is optimised whole on one worker, so it is at most what an untiled output may be.
            Range("tile", request.Tile, limits.MinHeight, limits.MaxTile);
        }

        if (request.TileOverlap is { } overlap)
        {
            if (request.Tile == 0)
            {
                throw new JobRequestException("tileOverlap", "needs tile: the overlap of tiles when the output is split into tiles");
            }

            if (overlap < 0 || 2 * overlap >= request.Tile)
            {
                throw new JobRequestException("tileOverlap", $"{overlap} is out of range; allowed: 0..{(request.Tile - 1) / 2} (less than half the tile, {request.Tile})");
            }
        }
    }

    /// <summary>Most stages in <see cref="JobRequest.Scales"/>: each one recomputes the targets and adds its iterations.</summary>
    public const int MaxStages = 8;

    private static void ValidateStages(JobRequest request, LimitsOptions limits)
    {
        if (request.Scales is not { } scales)
        {
            if (request.StageIterations is not null)
            {
                throw new JobRequestException("stageIterations", "needs scales: one iteration count per scale");
            }

            return;
        }

        if (scales.Count is 0 or > MaxStages)
        {
            throw new JobRequestException("scales", $"{scales.Count} scales; allowed: 1..{MaxStages} heights, ascending");
        }

        for (var k = 0; k < scales.Count; k++)
        {
            Range($"scales[{k}]", scales[k], limits.MinHeight, MaxHeight(request, limits));
            if (k > 0 && scales[k] <= scales[k - 1])
            {
                throw new JobRequestException($"scales[{k}]", $"{scales[k]} is not above {scales[k - 1]}; allowed: heights in ascending order (coarse to fine)");
            }
        }

        if (request.StageIterations is { } iterations)
        {
            if (iterations.Count != scales.Count)
            {
                throw new JobRequestException("stageIterations", $"{iterations.Count} counts for {scales.Count} scales; allowed: one per scale");
            }

            for (var k = 0; k < iterations.Count; k++)
            {
                Range($"stageIterations[{k}]", iterations[k], 1, limits.MaxIterations);
            }
        }
    }

    /// <summary>Smallest <see cref="JobRequest.StyleScale"/>: below it a style image at small heights has too few positions for the deep layers.</summary>
    public const double MinStyleScale = 0.25;

    /// <summary>Largest <see cref="JobRequest.StyleScale"/>: the style image's pixels grow with its square.</summary>
    public const double MaxStyleScale = 4.0;

    /// <summary>
    /// A blob name inside this account's input containers (<c>uploads/...</c>, <c>styles/...</c>, <c>inbox/...</c>):
    /// no URL, no absolute path, no backslash, no <c>.</c> or <c>..</c> segment, no other container.
    /// </summary>
    public static void ValidateBlobName(string? name, string field)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new JobRequestException(field, "a blob name is required");
        }

        if (name.Length > 1024)
        {
            throw new JobRequestException(field, $"blob name of {name.Length} characters; allowed: up to 1024");
        }

        if (name.Contains("://", StringComparison.Ordinal) || UrlScheme().IsMatch(name))
        {
            throw new JobRequestException(field, $"'{name}' is a URL; only blob names in this storage account are accepted (e.g. uploads/job/photo.jpg)");
        }

        if (name.StartsWith('/') || name.Contains('\\') || name.Any(char.IsControl))
        {
            throw new JobRequestException(field, $"'{name}' is not a relative blob name (no leading '/', backslash or control character)");
        }

        var segments = name.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        {
            throw new JobRequestException(field, $"'{name}' has an empty, '.' or '..' path segment");
        }

        if (segments.Length < 2 || !InputContainers.Contains(segments[0]))
        {
            throw new JobRequestException(field, $"'{name}' is not in an input container; allowed: {string.Join(", ", InputContainers.Select(c => c + "/..."))}");
        }
    }

    private static void Range(string field, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw new JobRequestException(field, $"{value} is out of range; allowed: {min}..{max}");
        }
    }

    private static void Weight(string field, double? value)
    {
        if (value is { } v && (!double.IsFinite(v) || v < 0))
        {
            throw new JobRequestException(field, $"{Format(v)} is out of range; allowed: a finite number >= 0, or omit it for the network's default");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static JobRequestException FromJsonException(JsonException e)
    {
        var unknown = UnmappedProperty().Match(e.Message);
        if (unknown.Success)
        {
            // The path already ends at the unknown property in current System.Text.Json; older ones stop at its parent.
            var name = unknown.Groups[1].Value;
            var path = FieldOf(e.Path);
            var field = path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : path is "$" ? name : $"{path}.{name}";
            return new JobRequestException(field, "unknown field (names are camelCase, as in request version 1)", e);
        }

        // System.Text.Json reports syntax errors and type mismatches alike; its first sentence says which.
        return new JobRequestException(FieldOf(e.Path), "not valid JSON or a value of the wrong type: " + FirstSentence(e.Message), e);
    }

    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex UrlScheme();

    [GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedProperty();
}
