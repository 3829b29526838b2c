using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>A constant fed to the session on every run as a graph input, from an array that must outlive the session.</summary>
/// <param name="Name">The graph input's name.</param>
/// <param name="Values">The values, row-major.</param>
/// <param name="Dims">The shape.</param>
public sealed record FedTensor(string Name, float[] Values, long[] Dims);

/// <summary>
/// The graph under construction: nodes in topological order, initializers, the static shape of every tensor
/// (the image size is fixed per graph, so every shape is known when the graph is built) and which tensors
/// depend on the image and so carry a gradient.
/// </summary>
internal sealed class GraphContext(ConvInputGradient convGradient)
{
    private readonly Dictionary<string, (long[] Dims, Func<float[]> Data)> _deferred = new(StringComparer.Ordinal);
    private int _counter;

    public ConvInputGradient ConvGradient { get; } = convGradient;

    public List<NodeProto> Nodes { get; } = [];

    public Dictionary<string, TensorProto> Constants { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long[]> Shapes { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Differentiable { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Large constants the session is fed on every run as graph inputs instead of holding them as initializers: ONNX
    /// Runtime kept about three copies of each large initializer, while a fed tensor is the caller's one pinned array.
    /// </summary>
    public Dictionary<string, FedTensor> Fed { get; } = new(StringComparer.Ordinal);

    /// <summary>The forward Conv weight each flipped input-gradient weight was made from (see <see cref="ConvInputGradient.FlippedConv"/>).</summary>
    public Dictionary<string, string> FlippedFrom { get; } = new(StringComparer.Ordinal);

    public long[] Shape(string tensor) =>
        Shapes.TryGetValue(tensor, out var shape) ? shape : throw new GraphBuildException($"The shape of tensor '{tensor}' is unknown.");

    public bool IsDifferentiable(string tensor) => Differentiable.Contains(tensor);

    public bool IsConstant(string tensor) => Constants.ContainsKey(tensor) || _deferred.ContainsKey(tensor);

    public string Fresh(string hint) => $"ss/{hint}_{_counter++}";

    /// <summary>Appends a node with one output and records the output's shape.</summary>
    public string Emit(string opType, string[] inputs, long[] shape, string hint, params AttributeProto[] attributes)
    {
        var output = Fresh(hint);
        Nodes.Add(Node(opType, inputs, [output], output, attributes));
        Shapes[output] = shape;
        return output;
    }

    public string ConstFloats(long[] dims, float[] data, string hint)
    {
        var name = Fresh(hint);
        Constants[name] = FloatTensor(name, dims, data);
        Shapes[name] = dims;
        return name;
    }

    public string ConstInt64s(long[] dims, long[] data, string hint)
    {
        var name = Fresh(hint);
        Constants[name] = Int64Tensor(name, dims, data);
        Shapes[name] = dims;
        return name;
    }

    /// <summary>
    /// A constant whose values are computed only if the finished graph uses it (or a rule reads it): the flipped
    /// input-gradient weights that the Winograd rewrite replaces would otherwise be built and copied for nothing.
    /// </summary>
    public string DeferredFloats(long[] dims, Func<float[]> data, string hint)
    {
        var name = Fresh(hint);
        _deferred[name] = (dims, data);
        Shapes[name] = dims;
        return name;
    }

    /// <summary>A constant fed as a graph input on every run (see <see cref="Fed"/>); <paramref name="data"/> is kept, not copied.</summary>
    public string FedFloats(long[] dims, float[] data, string hint)
    {
        var name = Fresh(hint);
        Fed[name] = new FedTensor(name, data, dims);
        Shapes[name] = dims;
        return name;
    }

    public string Scalar(float value, string hint) => ConstFloats([], [value], hint);

    public float[] ConstantFloats(string tensor, string usedBy) =>
        Constants.TryGetValue(tensor, out var t) ? ReadFloats(t)
        : _deferred.TryGetValue(tensor, out var deferred) ? deferred.Data()
        : throw new GraphBuildException($"{usedBy}: input '{tensor}' must be a constant (initializer or Constant node).");

    public long[] ConstantInt64s(string tensor, string usedBy) =>
        Constants.TryGetValue(tensor, out var t)
            ? ReadInt64s(t)
            : throw new GraphBuildException($"{usedBy}: input '{tensor}' must be a constant (initializer or Constant node).");

    /// <summary>The graph of <see cref="Nodes"/> with the constants they use; <see cref="UsedFed"/> become inputs after <paramref name="inputs"/>.</summary>
    public GraphProto ToGraph(string name, IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs)
    {
        var graph = new GraphProto { Name = name };
        graph.Node.AddRange(Nodes);
        var used = Used();
        graph.Initializer.AddRange(Constants.Where(c => used.Contains(c.Key)).Select(c => c.Value));
        graph.Initializer.AddRange(_deferred.Where(d => used.Contains(d.Key)).Select(d => FloatTensor(d.Key, d.Value.Dims, d.Value.Data())));
        graph.Input.AddRange(inputs);
        graph.Input.AddRange(UsedFed().Select(f => FloatValue(f.Name, f.Dims)));
        graph.Output.AddRange(outputs);
        return graph;
    }

    /// <summary>The fed tensors some node uses, in the order <see cref="ToGraph"/> declares them as the last inputs.</summary>
    public IReadOnlyList<FedTensor> UsedFed()
    {
        var used = Used();
        return Fed.Values.Where(f => used.Contains(f.Name)).ToList();
    }

    private HashSet<string> Used() => new(Nodes.SelectMany(n => n.Input), StringComparer.Ordinal);
}
