using System.ComponentModel;
using Microsoft.ML.OnnxRuntime;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Workflow;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.CommandLine;

/// <summary>
/// The engine options of every command that runs the engine (<c>run</c>, <c>worker</c>, <c>eval</c>, the benchmarks):
/// which network, how its input is normalised, and on which provider. Defaults are <c>run</c>'s and <c>worker</c>'s;
/// <see cref="EvaluatorSettings"/> changes them for the engine tools.
/// </summary>
public class EngineSettings : CommandSettings
{
    [CommandOption("--network <NET>")]
    [Description("auto, vgg19, resnet18, random-vgg19, or a path to a .onnx or Keras .h5 file (default auto; random-vgg19 for eval and the benchmarks).")]
    public string Network { get; init; } = "auto";

    [CommandOption("--preprocess <KIND>")]
    [Description("Override the network's input normalisation: caffe or torch (needed for an ONNX VGG19 file).")]
    public string? Preprocess { get; init; }

    [CommandOption("--provider <PROVIDER>")]
    [Description("cpu, cuda or auto (CUDA when its libraries load, else CPU; default auto, cpu for eval and the benchmarks).")]
    public string Provider { get; init; } = "auto";

    [CommandOption("--verbose")]
    [Description("Print details on standard error, such as why CUDA could not be used.")]
    public bool Verbose { get; init; }

    /// <summary>The network <see cref="Network"/> spells, parsed once (after <see cref="Validate"/>).</summary>
    public NetworkSpec ParsedNetwork => NetworkSpec.Parse(Network, "--network");

    /// <summary>The input normalisation <see cref="Preprocess"/> names; null for the network's own.</summary>
    public InputNormalization? InputNormalization => Preprocess is null ? null : Preprocessing.Parse(Preprocess);

    public override ValidationResult Validate()
    {
        if (NetworkSpec.TryParse(Network) is not { } spec)
        {
            return ValidationResult.Error($"--network '{Network}' is not {NetworkSpec.Spellings}.");
        }

        if (spec.FilePath is { } path && !File.Exists(path))
        {
            return ValidationResult.Error($"--network {Network}: file not found.");
        }

        if (Preprocess is not (null or "caffe" or "torch"))
        {
            return ValidationResult.Error($"--preprocess '{Preprocess}' is not caffe or torch.");
        }

        return ExecutionProviders.TryParse(Provider) is null
            ? ValidationResult.Error($"--provider '{Provider}' is not {ExecutionProviders.Names}.")
            : ValidationResult.Success();
    }

    /// <summary>
    /// Checks an <c>--activation-smoothing</c> value (on, off, or left out for the network's own) and gives its meaning,
    /// for <c>run</c> and the judge benchmark alike.
    /// </summary>
    public static ValidationResult ValidateActivationSmoothing(string? value) =>
        value is null || ActivationSmoothingChoices.TryParse(value) is not null
            ? ValidationResult.Success()
            : ValidationResult.Error($"--activation-smoothing '{value}' is not on or off.");
}

/// <summary>
/// The options of the engine tools (<c>eval</c>, the benchmarks): the network and provider of <see cref="EngineSettings"/>
/// (default the seeded random-vgg19 on the CPU) and ONNX Runtime's knobs.
/// </summary>
public class EvaluatorSettings : EngineSettings
{
    public EvaluatorSettings()
    {
        Network = "random-vgg19";
        Provider = "cpu";
    }

    [CommandOption("--threads <N>")]
    [Description("ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.")]
    public int Threads { get; init; }

    [CommandOption("--conv-gradient <KIND>")]
    [Description("How Conv input gradients are built: flipped-conv (default) or conv-transpose.")]
    public string ConvGradient { get; init; } = "flipped-conv";

    [CommandOption("--winograd <MODE>")]
    [Description("auto (default: up to 768x768 pixels), on (any size) or off: 3x3 convs with >= 128 channels both sides as Winograd F(4x4,3x3) on the CPU provider.")]
    public string Winograd { get; init; } = "auto";

    [CommandOption("--opt-level <LEVEL>")]
    [Description("ONNX Runtime graph optimisation: all (default), extended, basic or none.")]
    public string OptLevel { get; init; } = "all";

    [CommandOption("--no-arena")]
    [Description("Disable ONNX Runtime's CPU memory arena.")]
    public bool NoArena { get; init; }

    [CommandOption("--mem-pattern")]
    [Description("Enable ONNX Runtime's memory pattern planning (off by default on the CPU: it kept a second copy of the activations for no measurable speed).")]
    public bool MemPattern { get; init; }

    [CommandOption("--no-spin")]
    [Description("Let idle ONNX Runtime threads sleep instead of spin-waiting.")]
    public bool NoSpin { get; init; }

    [CommandOption("--models <DIR>")]
    [Description("Where imported networks live (default: $SERVERLESS_STYLE_MODELS or ~/.serverless-style/models).")]
    public string? Models { get; init; }

    public override ValidationResult Validate()
    {
        if (base.Validate() is { Successful: false } failed)
        {
            return failed;
        }

        if (ConvGradient is not ("flipped-conv" or "conv-transpose"))
        {
            return ValidationResult.Error($"--conv-gradient '{ConvGradient}' is not flipped-conv or conv-transpose.");
        }

        if (Winograd is not ("auto" or "on" or "off"))
        {
            return ValidationResult.Error($"--winograd '{Winograd}' is not auto, on or off.");
        }

        if (OptLevel is not ("all" or "extended" or "basic" or "none"))
        {
            return ValidationResult.Error($"--opt-level '{OptLevel}' is not all, extended, basic or none.");
        }

        return Threads < 0 ? ValidationResult.Error($"--threads {Threads} is negative.") : ValidationResult.Success();
    }

    private ExecutionProvider? _provider;

    /// <summary>The network of <see cref="EngineSettings.Network"/>, resolved as the workers resolve it (without a storage account: this machine's store, then ResNet18).</summary>
    public async Task<LossNetwork> LoadNetworkAsync(CancellationToken cancellationToken = default) =>
        (await NetworkResolver.LoadOfflineAsync(ParsedNetwork, new ModelStore(Models ?? ModelStore.DefaultFolder), InputNormalization, cancellationToken).ConfigureAwait(false)).Network;

    /// <summary>The evaluator's options; the provider is resolved on the first call (standard output is the JSON result, so notes go to standard error).</summary>
    public EvaluatorOptions EvaluatorOptions() => new()
    {
        Provider = _provider ??= ProviderChoice.Resolve(Provider, Verbose, Console.Error),
        IntraOpThreads = Threads,
        ConvGradient = ConvGradient == "conv-transpose" ? ConvInputGradient.ConvTranspose : ConvInputGradient.FlippedConv,
        Winograd = Winograd != "off",
        WinogradMaxPixels = Winograd == "on" ? long.MaxValue : Core.Evaluation.EvaluatorOptions.DefaultWinogradMaxPixels,
        OptimizationLevel = OptLevel switch
        {
            "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
            _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
        },
        MemoryArena = !NoArena,
        MemoryPattern = MemPattern ? true : null,
        Spinning = !NoSpin,
    };
}
