using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Networks;

/// <summary>
/// The ImageNet ResNet18 shipped in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (CNTK export, opset 8,
/// fixed 224x224), rewritten into a loss network that runs at any size inside an opset-17 graph.
/// </summary>
public static class ResNet18
{
    /// <summary>Where the model lands next to the assembly (copied by ServerlessStyle.Core.csproj from the package).</summary>
    public const string RelativePath = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>
    /// Taps chosen by looking at results (docs/networks-and-imaging.md): style on the stem and stages 1-2, content on stage 3. Each is the
    /// output of a Relu node; style layers weigh 1/3 each since NormalizeStyleLayersAtStart makes each start at 1.
    /// </summary>
    public static IReadOnlyList<StyleLayer> StyleLayers { get; } =
        [new("ReLU253_Output_0", 1.0 / 3), new("ReLU283_Output_0", 1.0 / 3), new("ReLU315_Output_0", 1.0 / 3)];

    public const string ContentLayer = "ReLU347_Output_0";

    /// <summary>
    /// Content 1, style 1e9, TV 1e-3, with activation smoothing at <see cref="SmoothingTemperature"/> (docs/networks-and-imaging.md).
    /// Smoothing divides the taps' changes by about the temperature, so the style term's pull on the image is weaker
    /// than without it: on chelsea.png with starry_night.jpg at 256 px, 5 iterations of 20 evaluations, style 1e6 left
    /// the photo nearly unchanged (content SSIM 0.97), 1e8 and 1e10 both painted it (colour distance 20.3 and 17.6,
    /// SSIM 0.86 and 0.81); 1e9 sits between them.
    /// </summary>
    public static LossWeights DefaultWeights { get; } = new(1.0, 1e9, 1e-3);

    /// <summary>
    /// The weights without smoothing (run --activation-smoothing off), tuned before it. Content 1, style 1e6, TV 1e-3.
    /// Each style layer is normalised to 1 at the start, so the style term starts at 1e6;
    /// content (a raw sum over ~50k stage-3 activations at 224 px) and TV (a raw sum over every pixel) are not, so their
    /// weights must be small beside it to leave style in charge. Measured on chelsea.png with starry_night.jpg at 224 px:
    /// with content 1, style 10, TV 1e-4 the TV term started at 18233 against a style term of 10, the style term never
    /// fell and the result was only blurred; the ratios 1e-5 : 10 : 1e-8 end with all three terms of the same order and
    /// the picture takes the painting's strokes and colours while the cat stays recognisable. The whole set is scaled
    /// by 1e5 because L-BFGS stops when every gradient component is below 1e-5 (scipy's pgtol): at the small scale it
    /// stopped after 3 of 10 iterations; the ratios, and so the picture, are unchanged by the scale.
    /// </summary>
    public static LossWeights UnsmoothedWeights { get; } = new(1.0, 1e6, 1e-3);

    /// <summary>
    /// The taps' largest activations reach about 14 (stage 3 at 256 px): at the paper's temperature of 1, 1% of the
    /// elements held 90% of the softmax's mass (sharper, not smoother, than the raw 9%); at 10 they hold 1.6%, and the
    /// picture took the painting's colours and strokes where 4 left the photo's colours (measured, see the docs).
    /// </summary>
    public const double SmoothingTemperature = 10;

    /// <summary>
    /// CNTK's caffe-style input: BGR 0..255 minus a per-channel mean (the package's ResNetPreprocess.onnx subtracts a
    /// mean image whose channel averages, measured, are these). The graph itself subtracts nothing.
    /// </summary>
    public static InputNormalization Input { get; } = InputNormalization.Caffe([103.06f, 115.90f, 123.15f]);

    // The only operators left once everything past the content tap is pruned; anything else means a different file.
    private static readonly HashSet<string> KnownOps = ["Conv", "BatchNormalization", "Relu", "MaxPool", "Add"];

    /// <summary>The packaged model, next to the running assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, RelativePath);

    public static LossNetwork Load(string? path = null, InputNormalization? input = null)
    {
        path ??= DefaultPath;
        return Load(OnnxFiles.ReadModel(path), path, input);
    }

    internal static LossNetwork Load(ModelProto model, string path, InputNormalization? input)
    {
        var source = model.Graph;
        var producers = new Dictionary<string, NodeProto>();
        foreach (var node in source.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        var taps = StyleLayers.Select(s => s.Tensor).Append(ContentLayer).ToList();
        foreach (var tap in taps)
        {
            if (!producers.TryGetValue(tap, out var producer) || producer.OpType != "Relu")
            {
                throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path} is not the CNTK ResNet18: it has no Relu output named {tap}.");
            }
        }

        var graph = source.Clone();
        graph.Name = "resnet18";
        graph.ValueInfo.Clear();
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet();
        // IR version 3 lists every initializer among the inputs; the loss graph has the image as its single input.
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path} has {inputs.Count} non-constant inputs; ResNet18 has one image input.");
        }

        var inputName = inputs[0].Name;
        graph.Input.Clear();
        graph.Input.Add(OnnxProtos.ImageInput(inputName));
        OnnxProtos.PruneTo(graph, taps);
        foreach (var node in graph.Node)
        {
            if (!KnownOps.Contains(node.OpType))
            {
                throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path}: unexpected operator {node.OpType} ({node.Name}) before the taps.");
            }

            Upgrade(node);
        }

        return new LossNetwork
        {
            Name = "resnet18",
            Graph = graph,
            InputName = inputName,
            Input = input ?? Input,
            StyleLayers = StyleLayers,
            ContentLayer = ContentLayer,
            DefaultWeights = DefaultWeights,
            NormalizeStyleLayersAtStart = true,
            ActivationSmoothing = true,
            SmoothingTemperature = SmoothingTemperature,
            OtherSmoothingWeights = UnsmoothedWeights,
        };
    }

    private static void Upgrade(NodeProto node)
    {
        // Attributes that later opsets removed: BatchNormalization's spatial (gone in opset 9) and the
        // consumed_inputs/is_test of opset 1-6; ONNX Runtime rejects them in an opset-17 graph.
        foreach (var stale in node.Attribute.Where(a => a.Name is "spatial" or "consumed_inputs" or "is_test").ToList())
        {
            node.Attribute.Remove(stale);
        }

        if (node.OpType is "Conv" or "MaxPool")
        {
            // The stored pads fit 224x224 only; at other sizes a downsampling block's two branches differ by a
            // pixel and the Add fails. CNTK pads "same" with the odd pixel at the start, which is SAME_LOWER.
            foreach (var pad in node.Attribute.Where(a => a.Name is "pads" or "auto_pad").ToList())
            {
                node.Attribute.Remove(pad);
            }

            node.Attribute.Add(String("auto_pad", "SAME_LOWER"));
        }
    }
}
