using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;

namespace ServerlessStyle.Core.Tests.Networks;

/// <summary>Runs an ONNX model as a plain forward model in ONNX Runtime (CPU) and returns the named outputs.</summary>
internal static class OrtForward
{
    public static Dictionary<string, (float[] Data, long[] Shape)> Run(LossNetwork network, float[] image, int height, int width)
    {
        var outputs = network.StyleLayers.Select(s => s.Tensor).Append(network.ContentLayer).Distinct().ToArray();
        return Run(OnnxProtos.Model(network.Graph), network.InputName, image, height, width, outputs);
    }

    public static Dictionary<string, (float[] Data, long[] Shape)> Run(ModelProto model, string input, float[] image, int height, int width, IReadOnlyList<string> outputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using var value = OrtValue.CreateTensorValueFromMemory(image, [1, 3, height, width]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [.. outputs]);
        var map = new Dictionary<string, (float[], long[])>();
        for (var i = 0; i < outputs.Count; i++)
        {
            map[outputs[i]] = (results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
        }

        return map;
    }

    /// <summary>Largest absolute difference, relative to the largest magnitude in <paramref name="expected"/>.</summary>
    public static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, error = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            error = Math.Max(error, Math.Abs(expected[i] - actual[i]));
        }

        return error / Math.Max(scale, 1e-30);
    }
}
