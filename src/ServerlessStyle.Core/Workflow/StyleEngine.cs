using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The engine as the activities use it: one <see cref="StyleEvaluator"/> per process (its ONNX Runtime sessions are
/// cached per network and size) and each loss network resolved and loaded once, the first time a job asks for it,
/// through the <see cref="NetworkResolver"/> of <see cref="ServiceCollectionExtensions.AddServerlessStyle(Microsoft.Extensions.DependencyInjection.IServiceCollection)"/>
/// (models container, then local store, then the bundled ResNet18).
/// </summary>
public sealed class StyleEngine : IDisposable
{
    private readonly EngineOptions _options;
    private readonly LimitsOptions _limits;
    private readonly ILogger<StyleEngine> _logger;
    private readonly NetworkResolver _resolver;
    private readonly NetworkSpec _configured;
    private readonly ConcurrentDictionary<string, Lazy<Task<ResolvedNetwork>>> _networks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<LossNetwork>> _variants = new(StringComparer.Ordinal);

    /// <param name="resolver">Where networks come from (the registered one: the models container, then the local store).</param>
    public StyleEngine(
        IOptions<EngineOptions> options, IOptions<LimitsOptions> limits, ILogger<StyleEngine> logger, ILogger<StyleEvaluator> evaluatorLogger,
        NetworkResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _options = options.Value;
        _limits = limits.Value;
        _logger = logger;
        _resolver = resolver;
        _configured = NetworkSpec.TryParse(_options.Network) ?? throw new InvalidOperationException(
            $"{EngineOptions.SectionName}:Network '{_options.Network}' is not a network; allowed: {NetworkSpec.Spellings}.");
        Evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = ExecutionProviders.Parse(_options.Provider, "ServerlessStyle:Engine:Provider"), Winograd = _options.Winograd, WinogradMaxPixels = _options.WinogradMaxPixels }, evaluatorLogger);
    }

    public StyleEvaluator Evaluator { get; }

    /// <summary>
    /// The loss network a request names; <c>auto</c> takes the configured one (which may itself be auto or a file).
    /// <paramref name="preprocess"/> is the request's own input normalisation (<see cref="JobRequest.Preprocess"/>).
    /// </summary>
    public async Task<LossNetwork> GetNetworkAsync(NetworkSpec spec, PreprocessChoice? preprocess = null, CancellationToken cancellationToken = default) =>
        (await ResolveNetworkAsync(spec, preprocess, cancellationToken).ConfigureAwait(false)).Network;

    /// <summary>
    /// The loss network a request names with its identity: name, SHA-256 of the model blob or file, origin and location.
    /// This is what a job record should say ran it (its <c>Identity</c>). Resolved once
    /// per process; a failure is not kept, so a network uploaded after a failed request is found by the next one. A
    /// network that is missing or fails its digest check throws <see cref="JobRequestException"/> on the field
    /// <c>network</c>: the workflow fails the job with that reason instead of retrying something that cannot succeed.
    /// Whether the deployment allows the spec is the request's validation (<see cref="NetworkSpec.CheckAllowed"/>).
    /// A request's own <paramref name="preprocess"/> wins over the configured <see cref="EngineOptions.Preprocess"/>.
    /// </summary>
    public async Task<ResolvedNetwork> ResolveNetworkAsync(NetworkSpec spec, PreprocessChoice? preprocess = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var resolved = spec.Kind == NetworkKind.Auto ? _configured : spec;
        var key = preprocess is { } own ? $"{resolved.Name}+{PreprocessName(own)}" : resolved.Name;
        // One load per process and network, shared by concurrent activities: one caller's cancellation stops its own
        // wait, not the download the others wait for.
        var entry = _networks.GetOrAdd(key, _ => new Lazy<Task<ResolvedNetwork>>(() => LoadAsync(resolved, preprocess)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (entry.Value.IsFaulted)
        {
            // The task keeps its exception; dropping the entry lets a later request find a network added or fixed since.
            _networks.TryRemove(KeyValuePair.Create(key, entry));
            throw;
        }
    }

    /// <summary>
    /// The loss network of a request: the named network with the request's taps, pooling and activation smoothing; bad
    /// tap names and pooling a network cannot change throw <see cref="JobRequestException"/> naming the field.
    /// </summary>
    public async Task<LossNetwork> GetNetworkAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var resolved = await ResolveNetworkAsync(request.Network, request.Preprocess, cancellationToken).ConfigureAwait(false);
        var network = resolved.Network;
        var variant = new NetworkVariant(
            request.StyleLayers?.Select(l => new StyleLayer(l.Name, l.Weight)).ToArray(),
            request.ContentLayers?[0].Name,
            request.Pooling == PoolingChoice.Avg,
            request.ActivationSmoothing.AsSwitch());
        if (LossNetworkVariants.NameOf(network, variant) is not { } name)
        {
            return network;
        }

        var names = LossNetworkVariants.TensorNames(network);
        Check(request.StyleLayers, "styleLayers");
        Check(request.ContentLayers, "contentLayers");
        // The identity's name: the network's own may carry the request's normalisation (resnet18+torch).
        JobRequestParser.CheckPooling(request.Pooling, resolved.Identity.Name, network.Graph.Node.Any(n => n.OpType == "MaxPool"));
        return _variants.GetOrAdd(name, n => new Lazy<LossNetwork>(() => LossNetworkVariants.Apply(network, variant, n))).Value;

        void Check(IReadOnlyList<LayerWeight>? layers, string field)
        {
            for (var i = 0; i < (layers?.Count ?? 0); i++)
            {
                if (!names.Contains(layers![i].Name))
                {
                    var examples = string.Join(", ", network.StyleLayers.Select(s => s.Tensor).Append(network.ContentLayer));
                    throw new JobRequestException($"{field}[{i}].name", $"'{layers[i].Name}' is not a tensor of {network.Name}; its default taps are {examples}");
                }
            }
        }
    }

    private async Task<ResolvedNetwork> LoadAsync(NetworkSpec spec, PreprocessChoice? own)
    {
        var name = own is { } choice ? PreprocessName(choice) : _options.Preprocess;
        var preprocess = string.IsNullOrWhiteSpace(name) ? null : Preprocessing.Parse(name);
        ResolvedNetwork resolved;
        try
        {
            resolved = await _resolver.LoadAsync(spec, preprocess, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NetworkLoadException e)
        {
            throw new JobRequestException("network", e.Message, e);
        }

        if (own is not null)
        {
            // The normalisation is compiled into the evaluator's graphs, which it caches by network name; the configured
            // one keeps the plain name, as stored targets of jobs without their own record it.
            resolved = resolved with { Network = LossNetworkVariants.WithName(resolved.Network, $"{resolved.Network.Name}+{name}") };
        }

        var identity = resolved.Identity;
        _logger.LogInformation(
            "Loaded loss network {Network} ({Spec}) from {Origin} {Location}, sha256 {Sha256}",
            identity.Name, spec, identity.Origin, identity.Location, identity.Sha256 ?? "none (generated)");
        return resolved;
    }

    /// <summary>
    /// Refuses a request whose largest image (<paramref name="pixels"/>) would need more memory than a worker has, by
    /// the measured <see cref="MemoryEstimate"/> for its network and provider, plus what a worker holds of its largest
    /// tiled stage (<paramref name="tiledStagePixels"/>, <see cref="MemoryEstimate.WholeStageBytes"/>); the message says
    /// the size, the estimate and the limit.
    /// </summary>
    public async Task CheckMemoryAsync(JobRequest request, long pixels, long tiledStagePixels = 0, CancellationToken cancellationToken = default)
    {
        var network = await GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);

        // The Winograd rewrite runs on the CPU provider up to its pixel limit (EvaluatorOptions); its memory differs.
        var winograd = _options.Winograd && Evaluator.ActiveProvider == ExecutionProvider.Cpu && pixels <= _options.WinogradMaxPixels;
        var estimate = MemoryEstimate.PeakBytes(network.Name, pixels, winograd) + MemoryEstimate.WholeStageBytes(tiledStagePixels);
        var limit = _limits.WorkerMemoryBytes;
        if (estimate > limit)
        {
            // A tiled request's largest image is a tile (or a stage within one tile): a smaller tile fits.
            var (field, what) = request.Tile > 0 ? ("tile", "a tile") : ("height", "an output");
            throw new JobRequestException(
                field,
                $"{what} of {pixels} px{(tiledStagePixels > 0 ? $", with its {tiledStagePixels}-px stage held whole to blend," : "")} needs about {Gigabytes(estimate)} GB with {network.Name}{(winograd ? " (Winograd)" : "")}, over this worker's {Gigabytes(limit)} GB (ServerlessStyle:Limits:MaxWorkerMemoryBytes); lower the {field}");
        }
    }

    private static string Gigabytes(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The loss of a request as the optimiser sees it: its network and weights against <paramref name="targets"/>;
    /// <paramref name="evaluated"/> hears each evaluation's terms and seconds.
    /// </summary>
    public async Task<Objective> ObjectiveAsync(
        JobRequest request, StyleTargets targets, Action<LossTerms, double>? evaluated = null, CancellationToken cancellationToken = default)
    {
        var network = await GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        return StyleObjective.Create(Evaluator, network, targets, Weights(request, network), evaluated);
    }

    /// <summary>The request's loss weights; a weight left out takes the network's default.</summary>
    public static LossWeights Weights(JobRequest request, LossNetwork network)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(network);
        return new(
            (request.ContentWeight ?? network.DefaultWeights.Content) * (request.ContentLayers?[0].Weight ?? 1.0),
            request.StyleWeight ?? network.DefaultWeights.Style,
            request.TvWeight ?? network.DefaultWeights.TotalVariation);
    }

    /// <summary>The optimiser a request asks for, in the engine's terms.</summary>
    public static OptimizerSettings OptimizerSettings(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new(
            request.Optimizer.Kind == OptimizerChoice.Adam ? OptimizerKind.Adam : OptimizerKind.Lbfgs,
            request.Optimizer.History,
            request.Optimizer.RestartEachIteration);
    }

    public void Dispose() => Evaluator.Dispose();

    private static string PreprocessName(PreprocessChoice choice) => choice == PreprocessChoice.Torch ? "torch" : "caffe";
}
