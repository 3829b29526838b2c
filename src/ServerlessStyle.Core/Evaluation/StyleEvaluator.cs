using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>
/// Computes style targets and evaluates the Gatys loss and its gradient with ONNX Runtime. One evaluation session per
/// (network name, height, width, provider), built on first use and kept until <see cref="ReleaseSessions"/>; targets
/// sessions live for one <see cref="ComputeTargets"/> call. Safe for concurrent use. Network names must be unique per distinct network, since
/// they key the cache.
/// </summary>
public sealed partial class StyleEvaluator : IDisposable
{
    private readonly EvaluatorOptions _options;
    private readonly ILogger<StyleEvaluator> _logger;
    private readonly Lazy<ExecutionProvider> _provider;
    private readonly ConcurrentDictionary<SessionKey, Lazy<CompiledGraph>> _sessions = new();
    private bool _disposed;

    public StyleEvaluator(EvaluatorOptions options, ILogger<StyleEvaluator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger<StyleEvaluator>.Instance;
        _provider = new Lazy<ExecutionProvider>(ResolveProvider, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private enum GraphKind
    {
        Targets,
        Evaluation,
    }

    /// <summary>The provider sessions run on, once resolved (Auto becomes Cuda or Cpu).</summary>
    public ExecutionProvider ActiveProvider => _provider.Value;

    /// <summary>
    /// Content features of <paramref name="content"/>, the style Grams of <paramref name="styles"/> blended with their
    /// weights normalised to sum 1, and the style layer weights (divided by each layer's unweighted style loss at
    /// <paramref name="startPoint"/>, default the content, when the network asks for it).
    /// </summary>
    public StyleTargets ComputeTargets(LossNetwork network, ImageTensor content, IReadOnlyList<(ImageTensor Image, double Weight)> styles, ImageTensor? startPoint = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(styles);
        CheckImage(content, nameof(content));
        if (styles.Count == 0)
        {
            throw new ArgumentException("At least one style image is needed.", nameof(styles));
        }

        if (styles.Any(s => !double.IsFinite(s.Weight) || s.Weight < 0) || styles.Sum(s => s.Weight) <= 0)
        {
            throw new ArgumentException($"Style weights must be finite, non-negative and not all zero; got [{string.Join(", ", styles.Select(s => s.Weight))}].", nameof(styles));
        }

        // Targets are computed once per pair, so their sessions are not kept: a kept one held its weights and its arena
        // (0.25 GB at 224x224, 0.55 GB at 512x512) beside the evaluation session for the whole job.
        using var sessions = new TargetSessions(this, network);
        var (contentFeatures, contentGrams) = sessions.Run(content);
        var positions = sessions.Get(content.Height, content.Width).StylePositions;
        var total = styles.Sum(s => s.Weight);
        var grams = contentGrams.Select(g => new double[g.Length]).ToArray();
        foreach (var (image, weight) in styles)
        {
            CheckImage(image, nameof(styles));
            var (_, styleGrams) = sessions.Run(image);
            var stylePositions = sessions.Get(image.Height, image.Width).StylePositions;
            for (var l = 0; l < grams.Length; l++)
            {
                // A Gram sums over positions; rescaling by the position ratio makes a style image of another size
                // count as one of the content's size (a factor of exactly 1 when the sizes match, as in the Keras example).
                var scale = weight / total * positions[l] / stylePositions[l];
                for (var i = 0; i < grams[l].Length; i++)
                {
                    grams[l][i] += scale * styleGrams[l][i];
                }
            }
        }

        var blended = grams.Select(g => g.Select(v => (float)v).ToArray()).ToArray();
        var layerWeights = network.StyleLayers.Select(s => s.Weight).ToArray();
        if (network.NormalizeStyleLayersAtStart)
        {
            var startGrams = contentGrams;
            if (startPoint is not null)
            {
                if (startPoint.Height != content.Height || startPoint.Width != content.Width)
                {
                    throw new ArgumentException($"The start point is {startPoint.Height}x{startPoint.Width}; it must match the content's {content.Height}x{content.Width}.", nameof(startPoint));
                }

                CheckImage(startPoint, nameof(startPoint));
                startGrams = sessions.Run(startPoint).Grams;
            }

            var denominator = 4.0 * 9.0 * Math.Pow((double)content.Height * content.Width, 2);
            for (var l = 0; l < layerWeights.Length; l++)
            {
                var loss = 0.0;
                for (var i = 0; i < blended[l].Length; i++)
                {
                    var d = (double)blended[l][i] - startGrams[l][i];
                    loss += d * d;
                }

                // A layer whose loss is already zero at the start has nothing to normalise; it keeps its weight.
                if (loss > 0)
                {
                    layerWeights[l] /= loss / denominator;
                }
            }
        }

        return new StyleTargets
        {
            NetworkName = network.Name,
            Height = content.Height,
            Width = content.Width,
            ContentFeatures = contentFeatures,
            Grams = blended,
            StyleLayerWeights = layerWeights,
        };
    }

    /// <summary>The weighted loss terms at <paramref name="x"/> (optimisation space, [1,3,H,W]) and d loss / d x into <paramref name="gradient"/>.</summary>
    public LossTerms Evaluate(LossNetwork network, StyleTargets targets, LossWeights weights, ReadOnlySpan<float> x, Span<float> gradient)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(weights);
        if (targets.NetworkName != network.Name)
        {
            throw new ArgumentException($"The targets were computed for network '{targets.NetworkName}', not '{network.Name}'.", nameof(targets));
        }

        var length = 3 * targets.Height * targets.Width;
        if (x.Length != length || gradient.Length != length)
        {
            throw new ArgumentException($"x has {x.Length} and gradient {gradient.Length} elements; {targets.Height}x{targets.Width} needs {length}.", nameof(x));
        }

        var (key, entry, compiled) = EnterEvaluation(network, targets.Height, targets.Width);
        try
        {
            return Evaluate(compiled, targets, weights, x, gradient, length);
        }
        finally
        {
            compiled.Exit();

            // Released while it was still being built (ReleaseSessions retires only built sessions): nothing else will.
            if (!_sessions.TryGetValue(key, out var cached) || cached != entry)
            {
                compiled.Retire();
            }
        }
    }

    /// <summary>
    /// Drops the cached evaluation sessions (a session in use goes when its run ends), so that their weights and ONNX
    /// Runtime's arena, which holds an evaluation's activations and gradients between runs, are not kept beside work that
    /// needs no evaluation: a tiled stage's blend or its targets over whole-image pieces. The next evaluation builds its
    /// session again.
    /// </summary>
    public void ReleaseSessions()
    {
        foreach (var key in _sessions.Keys)
        {
            if (_sessions.TryRemove(key, out var lazy) && lazy.IsValueCreated)
            {
                lazy.Value.Retire();
            }
        }
    }

    /// <summary>How many evaluation sessions the cache holds (built or being built).</summary>
    internal int CachedSessions => _sessions.Count;

    private unsafe LossTerms Evaluate(CompiledGraph compiled, StyleTargets targets, LossWeights weights, ReadOnlySpan<float> x, Span<float> gradient, int length)
    {
        compiled.CheckTargets(targets);
        long[] imageShape = [1, 3, targets.Height, targets.Width];
        var layerWeights = targets.StyleLayerWeights.Select(w => (float)w).ToArray();
        var scalars = new float[4];
        var values = new List<OrtValue>(compiled.InputNames.Length + 5);
        try
        {
            fixed (float* px = x)
            fixed (float* pg = gradient)
            {
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, imageShape, (IntPtr)px, length * sizeof(float)));
                values.Add(OrtValue.CreateTensorValueFromMemory(targets.ContentFeatures, compiled.ContentShape));
                for (var l = 0; l < targets.Grams.Count; l++)
                {
                    values.Add(OrtValue.CreateTensorValueFromMemory(targets.Grams[l], [compiled.StyleChannels[l], compiled.StyleChannels[l]]));
                }

                values.Add(OrtValue.CreateTensorValueFromMemory(new[] { (float)weights.Content }, []));
                values.Add(OrtValue.CreateTensorValueFromMemory(new[] { (float)weights.Style }, []));
                values.Add(OrtValue.CreateTensorValueFromMemory(new[] { (float)weights.TotalVariation }, []));
                values.Add(OrtValue.CreateTensorValueFromMemory(layerWeights, [layerWeights.Length]));
                var inputCount = values.Count;
                for (var i = 0; i < 4; i++)
                {
                    values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(scalars, i, 1), []));
                }

                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, imageShape, (IntPtr)pg, length * sizeof(float)));
                using var runOptions = new RunOptions();
                // The session's inputs in graph order: this run's values, then the weights fed on every run (last).
                var inputs = values.GetRange(0, inputCount);
                inputs.AddRange(compiled.FedWeights);
                compiled.Session.Run(runOptions, compiled.InputNames, inputs, compiled.OutputNames, values.GetRange(inputCount, values.Count - inputCount));
            }
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }

        return new LossTerms(scalars[0], scalars[1], scalars[2], scalars[3]);
    }

    /// <summary>Ends profiling of the evaluation sessions (see <see cref="EvaluatorOptions.ProfilePrefix"/>) and returns the profile files.</summary>
    public IReadOnlyList<string> EndProfiling() =>
        _options.ProfilePrefix is null
            ? []
            : _sessions.Where(s => s.Value.IsValueCreated).Select(s => s.Value.Value.Session.EndProfiling()).ToList();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var lazy in _sessions.Values.Where(l => l.IsValueCreated))
        {
            lazy.Value.Dispose();
        }

        _sessions.Clear();
    }

    /// <summary>The cached evaluation session for the size, entered for one run; a retired one is left to its last user.</summary>
    private (SessionKey Key, Lazy<CompiledGraph> Entry, CompiledGraph Graph) EnterEvaluation(LossNetwork network, int height, int width)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = new SessionKey(network.Name, height, width, _provider.Value, GraphKind.Evaluation);
        while (true)
        {
            var entry = _sessions.GetOrAdd(key, k => new Lazy<CompiledGraph>(() => Compile(network, k), LazyThreadSafetyMode.ExecutionAndPublication));
            if (entry.Value.TryEnter())
            {
                return (key, entry, entry.Value);
            }
        }
    }

    private CompiledGraph Graph(LossNetwork network, int height, int width, GraphKind kind)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = new SessionKey(network.Name, height, width, _provider.Value, kind);
        return kind == GraphKind.Targets
            ? Compile(network, key)
            : _sessions.GetOrAdd(key, k => new Lazy<CompiledGraph>(() => Compile(network, k), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private CompiledGraph Compile(LossNetwork network, SessionKey key)
    {
        var graph = key.Kind == GraphKind.Targets
            ? StyleGraphBuilder.BuildTargets(network, key.Height, key.Width)
            : StyleGraphBuilder.BuildEvaluation(network, key.Height, key.Width, _options.ConvGradient, WinogradMinChannels(key.Provider, key.Height, key.Width));
        using var sessionOptions = CreateSessionOptions(key.Provider);
        if (_options.ProfilePrefix is { } prefix && key.Kind == GraphKind.Evaluation)
        {
            // The prefix must be set first: enabling profiling passes the current prefix to ONNX Runtime.
            sessionOptions.ProfileOutputPathPrefix = prefix;
            sessionOptions.EnableProfiling = true;
        }

        var session = new InferenceSession(graph.Model.ToByteArray(), sessionOptions);
        _logger.LogDebug("Built the {Kind} session of {Network} at {Height}x{Width} on {Provider}.", key.Kind, key.Network, key.Height, key.Width, key.Provider);

        // The large constants (the Winograd weights) are fed as inputs from managed arrays pinned for the session's life
        // rather than given to ONNX Runtime to copy.
        return new CompiledGraph(
            session, graph.ContentShape, graph.StyleChannels, graph.StylePositions, graph.Fed.Select(f => OrtValue.CreateTensorValueFromMemory(f.Values, f.Dims)).ToArray());
    }

    /// <summary>
    /// The Winograd rewrite's channel threshold for an evaluation session on <paramref name="provider"/>, or null for none.
    /// Only the evaluation graph is rewritten: the targets graph runs a few times per job, and its cached session would
    /// keep the 4x larger transformed weights resident for the whole job.
    /// </summary>
    public int? WinogradMinChannels(ExecutionProvider provider, int height, int width) =>
        _options.Winograd && provider == ExecutionProvider.Cpu && (long)height * width <= _options.WinogradMaxPixels ? _options.WinogradMinChannels : null;

    private SessionOptions CreateSessionOptions(ExecutionProvider provider)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = _options.OptimizationLevel,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            EnableMemoryPattern = _options.MemoryPattern ?? provider == ExecutionProvider.Cuda,
            EnableCpuMemArena = _options.MemoryArena,
            IntraOpNumThreads = _options.IntraOpThreads,
        };
        if (!_options.Spinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        if (provider == ExecutionProvider.Cuda)
        {
            options.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
        }

        return options;
    }

    private ExecutionProvider ResolveProvider()
    {
        var (provider, reason) = CudaProbe.Resolve(_options.Provider, _options.CudaDeviceId);
        if (reason is not null)
        {
            _logger.LogWarning("CUDA not available: using the CPU. {Reason}", reason);
        }

        return provider;
    }

    private static void CheckImage(ImageTensor image, string parameter)
    {
        if (image.Height < 2 || image.Width < 2 || image.Data.Length != image.Length)
        {
            throw new ArgumentException($"Image {image.Height}x{image.Width} holds {image.Data.Length} values; it needs at least 2x2 and 3*H*W = {image.Length} values.", parameter);
        }
    }

    /// <summary>The targets sessions of one <see cref="ComputeTargets"/> call, one per image size, disposed with it.</summary>
    private sealed class TargetSessions(StyleEvaluator evaluator, LossNetwork network) : IDisposable
    {
        private readonly Dictionary<(int, int), CompiledGraph> _sessions = [];

        public CompiledGraph Get(int height, int width)
        {
            if (!_sessions.TryGetValue((height, width), out var compiled))
            {
                _sessions[(height, width)] = compiled = evaluator.Graph(network, height, width, GraphKind.Targets);
            }

            return compiled;
        }

        public (float[] Content, float[][] Grams) Run(ImageTensor image)
        {
            var compiled = Get(image.Height, image.Width);
            using var input = OrtValue.CreateTensorValueFromMemory(image.Data, [1, 3, image.Height, image.Width]);
            using var runOptions = new RunOptions();
            using var outputs = compiled.Session.Run(runOptions, compiled.InputNames, [input], compiled.OutputNames);
            var content = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            var grams = outputs.Skip(1).Select(o => o.GetTensorDataAsSpan<float>().ToArray()).ToArray();
            return (content, grams);
        }

        public void Dispose()
        {
            foreach (var compiled in _sessions.Values)
            {
                compiled.Dispose();
            }
        }
    }

    private sealed record SessionKey(string Network, int Height, int Width, ExecutionProvider Provider, GraphKind Kind);

    /// <summary>A session, the shapes of its graph (not the model: ONNX Runtime has its own copy), and the weights it is fed on every run.</summary>
    private sealed class CompiledGraph(
        InferenceSession session, long[] contentShape, IReadOnlyList<long> styleChannels, IReadOnlyList<long> stylePositions, IReadOnlyList<OrtValue> fedWeights)
        : IDisposable
    {
        private readonly Lock _lock = new();
        private int _users;
        private bool _retired;
        private bool _disposed;

        public InferenceSession Session { get; } = session;

        /// <summary>Graph inputs after the per-run ones, over pinned arrays that live as long as the session.</summary>
        public IReadOnlyList<OrtValue> FedWeights { get; } = fedWeights;

        public long[] ContentShape { get; } = contentShape;

        public IReadOnlyList<long> StyleChannels { get; } = styleChannels;

        public IReadOnlyList<long> StylePositions { get; } = stylePositions;

        public string[] InputNames { get; } = session.InputNames.ToArray();

        public string[] OutputNames { get; } = session.OutputNames.ToArray();

        public void CheckTargets(StyleTargets targets)
        {
            var contentLength = ContentShape.Aggregate(1L, (p, d) => p * d);
            if (targets.ContentFeatures.Length != contentLength || targets.Grams.Count != StyleChannels.Count || targets.StyleLayerWeights.Length != StyleChannels.Count)
            {
                throw new ArgumentException($"The targets hold {targets.ContentFeatures.Length} content values and {targets.Grams.Count} Grams; the network needs {contentLength} and {StyleChannels.Count}.", nameof(targets));
            }

            for (var l = 0; l < targets.Grams.Count; l++)
            {
                if (targets.Grams[l].Length != StyleChannels[l] * StyleChannels[l])
                {
                    throw new ArgumentException($"Gram {l} holds {targets.Grams[l].Length} values; the network's layer has {StyleChannels[l]} channels.", nameof(targets));
                }
            }
        }

        /// <summary>Counts a run; false once the session is retired (the caller takes the cache's new one).</summary>
        public bool TryEnter()
        {
            lock (_lock)
            {
                if (_retired)
                {
                    return false;
                }

                _users++;
                return true;
            }
        }

        /// <summary>Ends a run; the last run of a retired session disposes it.</summary>
        public void Exit()
        {
            lock (_lock)
            {
                _users--;
                if (!_retired || _users > 0)
                {
                    return;
                }
            }

            Dispose();
        }

        /// <summary>Takes the session out of use: disposed now when no run is under way, else by the last one.</summary>
        public void Retire()
        {
            lock (_lock)
            {
                _retired = true;
                if (_users > 0)
                {
                    return;
                }
            }

            Dispose();
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            Session.Dispose();
            foreach (var value in FedWeights)
            {
                value.Dispose();
            }
        }
    }
}
