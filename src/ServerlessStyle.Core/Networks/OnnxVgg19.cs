using Google.Protobuf;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Networks;

/// <summary>Reads a VGG19 from an ONNX file of the same Conv/Relu/MaxPool stack (e.g. the ONNX model zoo's), keeping block1_conv1 .. block5_conv2.</summary>
public static class OnnxVgg19
{
    // Ops that carry no computation at inference and may sit between the layers of exported models.
    private static readonly HashSet<string> Transparent = ["Identity", "Dropout"];

    public static LossNetwork Load(string path, InputNormalization input) => Load(OnnxFiles.ReadModel(path), path, input);

    internal static LossNetwork Load(ModelProto model, string path, InputNormalization input)
    {
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        var expected = ExpectedOps();
        var convs = new List<ConvWeights>();
        var position = 0;
        foreach (var node in model.Graph.Node)
        {
            if (position == expected.Count)
            {
                break;
            }

            if (Transparent.Contains(node.OpType))
            {
                continue;
            }

            if (node.OpType != expected[position])
            {
                throw new NetworkLoadException(
                    NetworkLoadFailure.WrongArchitecture,
                    $"{path} is not a VGG19 Conv/Relu/MaxPool stack: operator {position + 1} ({node.Name}) is {node.OpType} where VGG19 has {expected[position]}.");
            }

            if (node.OpType == "Conv")
            {
                convs.Add(ReadConv(node, initializers, Vgg19.ConvNames[convs.Count], path));
            }

            position++;
        }

        if (position < expected.Count)
        {
            throw new NetworkLoadException(
                NetworkLoadFailure.WrongArchitecture,
                $"{path} ends after {convs.Count} convolutions; a VGG19 stack has at least {Vgg19.ConvNames.Count} before block5_conv2's activation.");
        }

        return Vgg19.Build(Path.GetFileNameWithoutExtension(path), convs, input);
    }

    private static List<string> ExpectedOps()
    {
        var ops = new List<string>();
        foreach (var layer in Vgg19.ConvNames)
        {
            if (layer is "block2_conv1" or "block3_conv1" or "block4_conv1" or "block5_conv1")
            {
                ops.Add("MaxPool");
            }

            ops.Add("Conv");
            ops.Add("Relu");
        }

        return ops;
    }

    private static ConvWeights ReadConv(NodeProto node, Dictionary<string, TensorProto> initializers, string layer, string path)
    {
        var pads = node.Attribute.FirstOrDefault(a => a.Name == "pads")?.Ints.ToArray() ?? [0, 0, 0, 0];
        var strides = node.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints.ToArray() ?? [1, 1];
        var autoPad = node.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        var samePad = autoPad is "SAME_UPPER" or "SAME_LOWER" || pads.All(p => p == 1);
        if (!samePad || strides.Any(s => s != 1) || node.Input.Count < 2 || !initializers.TryGetValue(node.Input[1], out var kernel) || kernel.Dims.Count != 4)
        {
            throw new NetworkLoadException(
                NetworkLoadFailure.WrongArchitecture,
                $"{path}: convolution {node.Name} ({layer}) is not a stride-1, pad-1 convolution with a constant 4-d kernel.");
        }

        var dims = kernel.Dims.Select(d => (int)d).ToArray();
        var bias = node.Input.Count > 2 && initializers.TryGetValue(node.Input[2], out var b) ? ReadFloats(b) : new float[dims[0]];
        return new ConvWeights(layer, ReadFloats(kernel), bias, dims[0], dims[1], dims[2], dims[3]);
    }
}

/// <summary>Reading ONNX model files with typed errors.</summary>
internal static class OnnxFiles
{
    public static ModelProto ReadModel(string path)
    {
        if (!File.Exists(path))
        {
            throw new NetworkLoadException(NetworkLoadFailure.FileNotFound, $"The ONNX file {path} does not exist.");
        }

        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new NetworkLoadException(NetworkLoadFailure.NotOnnx, $"{path} is not an ONNX model: {e.Message}", e);
        }

        if (model.Graph is null || model.Graph.Node.Count == 0)
        {
            throw new NetworkLoadException(NetworkLoadFailure.NotOnnx, $"{path} is not an ONNX model: it holds no graph.");
        }

        return model;
    }
}
