using System.Text.Json;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Networks;

/// <summary>
/// The loader on a file written the way Keras 1 wrote the notop VGG19 file (h5py, fixed-length byte-string layer_names
/// and weight_names, weights named block1_conv1_W_1:0 directly under each layer's group): a tiny network made by
/// Fixtures/make_keras1_tiny_vgg19.py, which also computed, with numpy in float64, what its layers give on a fixed input.
/// </summary>
public sealed class KerasFileFixtureTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Networks", "Fixtures");
    private static readonly string H5 = Path.Combine(Folder, "tiny_vgg19_keras1_notop.h5");

    private static JsonElement Expected()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "tiny_vgg19_keras1_notop.expected.json")));
        return json.RootElement.Clone();
    }

    /// <summary>The script's input: x[c, y, x] = ((37 c + 11 y + 5 x) mod 64 - 32) * 3, NCHW.</summary>
    private static float[] Input(int height, int width)
    {
        var image = new float[3 * height * width];
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    image[(c * height + y) * width + x] = (((c * 37) + (y * 11) + (x * 5)) % 64 - 32) * 3f;
                }
            }
        }

        return image;
    }

    [Fact]
    public void Load_Keras1FixedLengthNames_ForwardEqualsWhatTheScriptComputed()
    {
        var expected = Expected();
        var (height, width) = (expected.GetProperty("height").GetInt32(), expected.GetProperty("width").GetInt32());

        var network = NetworkCatalog.LoadFile(H5);
        var outputs = OrtForward.Run(network, Input(height, width), height, width);

        foreach (var tap in new[] { "block1_conv1", "block5_conv2" })
        {
            var reference = expected.GetProperty(tap);
            var values = reference.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var (actual, shape) = outputs[tap];
            Assert.Equal([1L, .. reference.GetProperty("shape").EnumerateArray().Select(d => (long)d.GetInt32())], shape);
            Assert.Contains(values, v => v > 0);
            // float32 convolutions in ONNX Runtime against float64 numpy on the same float32 weights: 1e-4 of the largest
            // activation is ~100x the float32 rounding through 14 layers and far below a kernel read in the wrong order.
            Assert.True(OrtForward.RelativeError(values, actual) < 1e-4, $"{tap}: relative error {OrtForward.RelativeError(values, actual)}");
        }
    }

    [Fact]
    public void Load_Keras1Kernel_LandsTransposedToOihw()
    {
        var expected = Expected().GetProperty("block3_conv2_W_1:0[1, 2, 3, 0]").GetDouble();

        var network = NetworkCatalog.LoadFile(H5);

        // Keras HWIO [y=1, x=2, in=3, out=0] is ONNX OIHW [out=0, in=3, y=1, x=2]; block3_conv2 takes 4 channels.
        var kernel = OnnxProtos.ReadFloats(network.Graph.Initializer.Single(t => t.Name == "block3_conv2_W"));
        Assert.Equal((float)expected, kernel[((0 * 4 + 3) * 3 + 1) * 3 + 2]);
    }
}
