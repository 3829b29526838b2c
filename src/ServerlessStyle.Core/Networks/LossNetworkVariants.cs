using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// What a job or a benchmark changes about a loss network: other taps with their weights, average instead of max
/// pooling, activation smoothing on or off and its temperature; null or false keeps the network's own.
/// </summary>
public sealed record NetworkVariant(
    IReadOnlyList<StyleLayer>? StyleLayers = null, string? ContentLayer = null, bool AveragePooling = false, bool? ActivationSmoothing = null, double? Temperature = null);

/// <summary>Variants of a loss network: other style and content taps with their weights, average instead of max pooling, activation smoothing.</summary>
public static class LossNetworkVariants
{
    /// <summary>
    /// The name of <paramref name="network"/> changed by <paramref name="variant"/>, spelling out what differs (the
    /// evaluator caches compiled graphs by network name); null when the variant changes nothing.
    /// </summary>
    public static string? NameOf(LossNetwork network, NetworkVariant variant)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(variant);
        var smoothing = variant.ActivationSmoothing ?? network.ActivationSmoothing;
        if (variant.StyleLayers is null && variant.ContentLayer is null && !variant.AveragePooling && smoothing == network.ActivationSmoothing && variant.Temperature is null)
        {
            return null;
        }

        var style = variant.StyleLayers ?? network.StyleLayers;
        var temperature = variant.Temperature is { } t ? $";t={t:R}" : "";
        return $"{network.Name}[{(variant.AveragePooling ? "avg" : "max")};style={string.Join(',', style.Select(s => $"{s.Tensor}:{s.Weight:R}"))};" +
            $"content={variant.ContentLayer ?? network.ContentLayer};swag={(smoothing ? "on" : "off")}{temperature}]";
    }

    /// <summary>The network changed by <paramref name="variant"/> under <paramref name="name"/> (from <see cref="NameOf"/>).</summary>
    public static LossNetwork Apply(LossNetwork network, NetworkVariant variant, string name)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(variant);
        var changed = variant.AveragePooling ? WithAveragePooling(network, name) : network;
        changed = WithActivationSmoothing(changed, name, variant.ActivationSmoothing ?? network.ActivationSmoothing, variant.Temperature);
        return WithLayers(changed, name, variant.StyleLayers ?? network.StyleLayers, variant.ContentLayer ?? network.ContentLayer);
    }

    /// <summary>Every tensor a node of the network's forward graph produces: the names a style or content tap may use.</summary>
    public static IReadOnlySet<string> TensorNames(LossNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The network with other taps; <paramref name="name"/> must differ from every other variant's, since the
    /// evaluator caches its compiled graphs by network name.
    /// </summary>
    public static LossNetwork WithLayers(LossNetwork network, string name, IReadOnlyList<StyleLayer> styleLayers, string contentLayer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(styleLayers);
        var names = TensorNames(network);
        foreach (var tap in styleLayers.Select(s => s.Tensor).Append(contentLayer))
        {
            if (!names.Contains(tap))
            {
                throw new ArgumentException($"{network.Name} has no tensor '{tap}'.", nameof(styleLayers));
            }
        }

        return Copy(network, name, network.Graph, styleLayers, contentLayer);
    }

    /// <summary>
    /// The network with every MaxPool node replaced by an AveragePool of the same window, strides and pads (padding
    /// not counted, as in Gatys et al.); the gradient builder has a rule for AveragePool.
    /// </summary>
    public static LossNetwork WithAveragePooling(LossNetwork network, string name)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = network.Graph.Clone();
        foreach (var node in graph.Node.Where(n => n.OpType == "MaxPool"))
        {
            if (node.Attribute.FirstOrDefault(a => a.Name == "dilations") is { } dilations && dilations.Ints.Any(d => d != 1))
            {
                throw new ArgumentException($"{network.Name}: MaxPool '{node.Name}' is dilated; AveragePool has no dilations before opset 19.", nameof(network));
            }

            node.OpType = "AveragePool";
            // storage_order and dilations belong to MaxPool only; an Indices output has no AveragePool counterpart.
            var kept = node.Attribute.Where(a => a.Name is not ("storage_order" or "dilations")).ToList();
            node.Attribute.Clear();
            node.Attribute.AddRange(kept);
            while (node.Output.Count > 1)
            {
                node.Output.RemoveAt(node.Output.Count - 1);
            }
        }

        return Copy(network, name, graph, network.StyleLayers, network.ContentLayer);
    }

    /// <summary>
    /// The network with SWAG's activation smoothing on or off, at another temperature if given; the name must differ
    /// as for <see cref="WithLayers"/>. Turning the network's own choice the other way also swaps its default weights
    /// with <see cref="LossNetwork.OtherSmoothingWeights"/> where it has them.
    /// </summary>
    public static LossNetwork WithActivationSmoothing(LossNetwork network, string name, bool on, double? temperature = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (temperature is { } t && !(double.IsFinite(t) && t > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), t, "The smoothing temperature must be a finite number > 0.");
        }

        // A network tuned both ways keeps each way's weights: turning its own choice over swaps them.
        var flipped = on != network.ActivationSmoothing && network.OtherSmoothingWeights is not null;
        return Copy(
            network, name, network.Graph, network.StyleLayers, network.ContentLayer,
            new(on, temperature ?? network.SmoothingTemperature, flipped ? network.OtherSmoothingWeights! : network.DefaultWeights, flipped ? network.DefaultWeights : network.OtherSmoothingWeights));
    }

    /// <summary>
    /// The same network under another name, for a difference the name would not show otherwise (a request's own input
    /// normalisation): the evaluator caches compiled graphs, which hold the normalisation, by network name.
    /// </summary>
    public static LossNetwork WithName(LossNetwork network, string name)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Copy(network, name, network.Graph, network.StyleLayers, network.ContentLayer);
    }

    private sealed record Smoothing(bool On, double Temperature, LossWeights Weights, LossWeights? OtherWeights);

    private static LossNetwork Copy(LossNetwork network, string name, GraphProto graph, IReadOnlyList<StyleLayer> styleLayers, string contentLayer, Smoothing? smoothing = null) => new()
    {
        Name = name,
        Graph = graph,
        InputName = network.InputName,
        Input = network.Input,
        StyleLayers = styleLayers,
        ContentLayer = contentLayer,
        DefaultWeights = smoothing?.Weights ?? network.DefaultWeights,
        NormalizeStyleLayersAtStart = network.NormalizeStyleLayersAtStart,
        ActivationSmoothing = smoothing?.On ?? network.ActivationSmoothing,
        SmoothingTemperature = smoothing?.Temperature ?? network.SmoothingTemperature,
        OtherSmoothingWeights = smoothing is null ? network.OtherSmoothingWeights : smoothing.OtherWeights,
    };
}
