namespace ServerlessStyle.Core.Workflow;

/// <summary>Which loss network runs and where: read by the activities' engine, never by orchestrators.</summary>
public sealed class EngineOptions
{
    public const string SectionName = "ServerlessStyle:Engine";

    /// <summary>auto | vgg19 | resnet18: the network a request with <c>"network": "auto"</c> gets.</summary>
    public string Network { get; set; } = "auto";

    /// <summary>Where a VGG19 ONNX file lives: a local path or a blob name in the models container; empty = not deployed.</summary>
    public string? ModelLocation { get; set; }

    /// <summary>auto | cpu | cuda: cuda fails when CUDA cannot load, auto falls back to CPU with one log line.</summary>
    public string Provider { get; set; } = "auto";
}
