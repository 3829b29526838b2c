namespace ServerlessStyle.Core.Workflow;

/// <summary>Which loss network runs and where: read by the activities' engine, never by orchestrators.</summary>
public sealed class EngineOptions
{
    public const string SectionName = "ServerlessStyle:Engine";

    /// <summary>auto | vgg19 | resnet18 | random-vgg19 | a path to .onnx/.h5: the network a request with <c>"network": "auto"</c> gets. <c>auto</c> and <c>vgg19</c> look in the models container, then the local model store.</summary>
    public string Network { get; set; } = "auto";

    /// <summary>How an ONNX VGG19 file's input is normalised (caffe | torch); empty = the network's own.</summary>
    public string? Preprocess { get; set; }

    /// <summary>The folder of imported networks (<c>models import</c>); empty = <see cref="Networks.ModelStore.DefaultFolder"/>.</summary>
    public string? ModelFolder { get; set; }

    /// <summary>
    /// Where networks downloaded from the models container are kept, one folder per SHA-256; empty =
    /// <see cref="Storage.ModelContainer.DefaultCacheFolder"/>. Local to each process's machine or replica.
    /// </summary>
    public string? ModelCacheFolder { get; set; }

    /// <summary>auto | cpu | cuda: cuda fails when CUDA cannot load, auto falls back to CPU with one log line.</summary>
    public string Provider { get; set; } = "auto";

    /// <summary>
    /// Winograd F(4x4,3x3) for the large 3x3 convolutions on the CPU: about 0.6-0.7x the time per evaluation for
    /// 0.9-1.3 GB more memory at 224-512 px (docs/performance.md). Turn it off where memory is short.
    /// </summary>
    public bool Winograd { get; set; } = true;

    /// <summary>The largest image (height x width) that gets the Winograd rewrite; larger ones need too much memory with it.</summary>
    public long WinogradMaxPixels { get; set; } = Evaluation.EvaluatorOptions.DefaultWinogradMaxPixels;
}
