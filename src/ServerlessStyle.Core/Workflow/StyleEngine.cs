using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The engine as the activities use it: one <see cref="StyleEvaluator"/> per process (its ONNX Runtime sessions are
/// cached per network and size) and each loss network loaded once, the first time a job asks for it.
/// </summary>
public sealed class StyleEngine : IDisposable
{
    private readonly EngineOptions _options;
    private readonly LimitsOptions _limits;
    private readonly ILogger<StyleEngine> _logger;
    private readonly ConcurrentDictionary<string, Lazy<LossNetwork>> _networks = new(StringComparer.Ordinal);

    public StyleEngine(IOptions<EngineOptions> options, IOptions<LimitsOptions> limits, ILogger<StyleEngine> logger, ILogger<StyleEvaluator> evaluatorLogger)
    {
        _options = options.Value;
        _limits = limits.Value;
        _logger = logger;
        Evaluator = new StyleEvaluator(new EvaluatorOptions { Provider = ParseProvider(_options.Provider) }, evaluatorLogger);
    }

    public StyleEvaluator Evaluator { get; }

    /// <summary>The loss network a request names; <c>auto</c> takes the configured one (which may itself be auto or a file).</summary>
    public LossNetwork GetNetwork(NetworkChoice choice)
    {
        var spec = choice switch
        {
            NetworkChoice.Auto => _options.Network,
            NetworkChoice.Vgg19 => string.IsNullOrWhiteSpace(_options.ModelLocation) ? "vgg19" : _options.ModelLocation,
            NetworkChoice.ResNet18 => "resnet18",
            NetworkChoice.RandomVgg19 when _limits.AllowTestNetworks => "random-vgg19",
            NetworkChoice.RandomVgg19 => throw new JobRequestException("network", "random-vgg19 is a test network; this deployment does not allow it."),
            _ => throw new JobRequestException("network", $"unknown network {choice}."),
        };
        return _networks.GetOrAdd(spec, s => new Lazy<LossNetwork>(() => Load(s))).Value;
    }

    private LossNetwork Load(string spec)
    {
        var store = new ModelStore(_options.ModelFolder ?? ModelStore.DefaultFolder);
        if (spec == "auto")
        {
            var (resolved, note) = NetworkCatalog.ResolveAuto(store);
            _logger.LogInformation("{Note}", note);
            spec = resolved;
        }

        var preprocess = string.IsNullOrWhiteSpace(_options.Preprocess) ? null : Preprocessing.Parse(_options.Preprocess);
        var network = NetworkCatalog.Load(spec, preprocess, store);
        _logger.LogInformation("Loaded loss network {Network} ({Spec})", network.Name, spec);
        return network;
    }

    private static ExecutionProvider ParseProvider(string provider) => provider.ToLowerInvariant() switch
    {
        "auto" => ExecutionProvider.Auto,
        "cpu" => ExecutionProvider.Cpu,
        "cuda" => ExecutionProvider.Cuda,
        _ => throw new InvalidOperationException($"ServerlessStyle:Engine:Provider '{provider}' is not auto, cpu or cuda."),
    };

    public void Dispose() => Evaluator.Dispose();
}
