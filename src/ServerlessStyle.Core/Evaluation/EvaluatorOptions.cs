using Microsoft.ML.OnnxRuntime;
using ServerlessStyle.Core.Graph;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>Where ONNX Runtime runs the graphs.</summary>
public enum ExecutionProvider
{
    /// <summary>CUDA when its libraries load, else CPU (with one log line saying why).</summary>
    Auto,
    Cpu,

    /// <summary>CUDA or a <see cref="CudaUnavailableException"/>.</summary>
    Cuda,
}

/// <summary>Settings of the <see cref="StyleEvaluator"/>.</summary>
public sealed class EvaluatorOptions
{
    public ExecutionProvider Provider { get; set; } = ExecutionProvider.Cpu;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime pick (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    public int CudaDeviceId { get; set; }

    /// <summary>
    /// How Conv input gradients are computed; both are exact. FlippedConv measured faster on CPU (random VGG19 at
    /// 224x224 on 2 cores: median 540-565 ms against 619-635 ms with ConvTranspose).
    /// </summary>
    public ConvInputGradient ConvGradient { get; set; } = ConvInputGradient.FlippedConv;

    /// <summary>
    /// Whether the evaluation graph's 3x3 stride-1 convs with at least <see cref="WinogradMinChannels"/> channels on both
    /// sides run as Winograd F(4x4,3x3) (a quarter of the multiplies, relative error ~1e-5 per conv). CPU provider only:
    /// on CUDA, cuDNN picks its own convolution algorithms and the graph is left as is.
    /// </summary>
    public bool Winograd { get; set; } = true;

    /// <summary>Fewest input and output channels of a conv the Winograd rewrite takes (smaller convs were slower rewritten).</summary>
    public int WinogradMinChannels { get; set; } = WinogradConvolution.DefaultMinChannels;

    /// <summary>
    /// The largest image (height x width) the Winograd rewrite is used for; larger ones run direct convs. Its
    /// intermediate tensors grow with the image: random VGG19 peaked at 2.5 GB with it at 768x768, and at 3.8 GB
    /// against 2.9 GB without at 1024x1024 (docs/performance.md), where direct convs keep the peak well under 4 GB.
    /// </summary>
    public long WinogradMaxPixels { get; set; } = DefaultWinogradMaxPixels;

    /// <summary>768 x 768 pixels.</summary>
    public const long DefaultWinogradMaxPixels = 768L * 768;

    /// <summary>ONNX Runtime's graph optimisation level (ALL adds the NCHWc layout transformations on CPU).</summary>
    public GraphOptimizationLevel OptimizationLevel { get; set; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>ONNX Runtime's CPU memory arena (keeps freed buffers for the next run).</summary>
    public bool MemoryArena { get; set; } = true;

    /// <summary>
    /// ONNX Runtime's memory pattern: one block per run, planned from the first run's sizes. Null (the default) means off
    /// on the CPU provider, where the arena kept the first run's buffers beside that block, so random VGG19 peaked
    /// 0.2 GB higher at 224x224 and 0.8 GB at 512x512 while 30 alternating evaluations at 224x224 took the same time
    /// either way (docs/performance.md); and on for CUDA, as before, since it was not measured there.
    /// </summary>
    public bool? MemoryPattern { get; set; }

    /// <summary>Whether idle ONNX Runtime worker threads spin-wait for work (faster on an idle machine, wasteful on a busy one).</summary>
    public bool Spinning { get; set; } = true;

    /// <summary>When set, evaluation sessions write ONNX Runtime's per-node profile to files starting with this prefix.</summary>
    public string? ProfilePrefix { get; set; }
}

/// <summary>Thrown when CUDA was required but its execution provider cannot load.</summary>
public sealed class CudaUnavailableException(string message, Exception inner) : InvalidOperationException(message, inner);
