using Google.Protobuf;
using PureHDF;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Tests.Networks;

public sealed class Vgg19LoadTests : IDisposable
{
    private const int Height = 32;
    private const int Width = 48;

    // Tiny widths keep the files small; the loader reads shapes from the file, so only the topology is VGG19's.
    private static readonly int[] Widths = [4, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8];

    private readonly string _folder = Directory.CreateTempSubdirectory("vgg19-tests-").FullName;
    private readonly List<(float[] Hwio, float[] Bias, int Cin, int Cout)> _layers;
    private readonly float[] _image;

    public Vgg19LoadTests()
    {
        var random = new Random(1234);
        _layers = [];
        var cin = 3;
        foreach (var cout in Widths)
        {
            // He-like scale keeps activations of order 1 through 14 layers, so relative errors mean something.
            var scale = (float)Math.Sqrt(2.0 / (9 * cin));
            var hwio = Enumerable.Range(0, 9 * cin * cout).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale * 1.7f).ToArray();
            var bias = Enumerable.Range(0, cout).Select(_ => (float)(random.NextDouble() * 0.2 - 0.1)).ToArray();
            _layers.Add((hwio, bias, cin, cout));
            cin = cout;
        }

        _image = Enumerable.Range(0, 3 * Height * Width).Select(_ => (float)(random.NextDouble() * 255 - 120)).ToArray();
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Load_KerasH5_ForwardEqualsSameWeightsWrittenAsOnnx()
    {
        var h5 = WriteKerasFile();
        var (onnxModel, tapNames) = HandWrittenOnnxStack();

        var network = NetworkCatalog.LoadFile(h5);
        var fromH5 = OrtForward.Run(network, _image, Height, Width);
        var reference = OrtForward.Run(onnxModel, "data", _image, Height, Width, [.. tapNames.Values]);

        foreach (var (layer, tensor) in tapNames)
        {
            // 1e-6 relative: both graphs do the same float32 convolutions on the same weights; only the transpose
            // of the kernel differs, and a transpose is exact, so anything above rounding noise is a layout bug.
            Assert.True(OrtForward.RelativeError(reference[tensor].Data, fromH5[layer].Data) < 1e-6, layer);
        }
    }

    [Fact]
    public void Load_KerasH5_HasTheKerasTapsWeightsAndCaffeInput()
    {
        var network = NetworkCatalog.LoadFile(WriteKerasFile());

        Assert.Equal(["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"], network.StyleLayers.Select(s => s.Tensor));
        Assert.All(network.StyleLayers, s => Assert.Equal(0.2, s.Weight));
        Assert.Equal("block5_conv2", network.ContentLayer);
        Assert.Equal(new LossWeights(0.025, 1.0, 1.0), network.DefaultWeights);
        Assert.Equal(ChannelOrder.Bgr, network.Input.Order);
        Assert.Equal([103.939f, 116.779f, 123.68f], network.Input.Mean);
        Assert.False(network.NormalizeStyleLayersAtStart);
        Assert.DoesNotContain(network.Graph.Node, n => n.Name.StartsWith("block5_conv3", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_KerasH5_FirstConvMatchesHandComputedHwioConvolutionAtOnePixel()
    {
        var network = NetworkCatalog.LoadFile(WriteKerasFile());
        var outputs = OrtForward.Run(network, _image, Height, Width);
        var (hwio, bias, cin, cout) = _layers[0];
        const int y = 5, x = 7;

        for (var o = 0; o < cout; o++)
        {
            double sum = bias[o];
            for (var ky = 0; ky < 3; ky++)
            {
                for (var kx = 0; kx < 3; kx++)
                {
                    for (var i = 0; i < cin; i++)
                    {
                        // Keras kernel index [ky, kx, in, out]; image NCHW.
                        sum += hwio[((ky * 3 + kx) * cin + i) * cout + o] * _image[(i * Height + y + ky - 1) * Width + x + kx - 1];
                    }
                }
            }

            var expected = Math.Max(0, sum);
            var actual = outputs["block1_conv1"].Data[(o * Height + y) * Width + x];
            // 27 products of magnitude ~100 summed in float32 by ORT versus double here: 1e-4 relative is ~100x the
            // float32 rounding of such a sum and far below the error of any wrong index.
            Assert.True(Math.Abs(expected - actual) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"channel {o}: {expected} vs {actual}");
        }
    }

    [Fact]
    public void Load_OnnxVggStack_ForwardEqualsTheFile()
    {
        var (model, tapNames) = HandWrittenOnnxStack();
        var path = Path.Combine(_folder, "vgg19.onnx");
        File.WriteAllBytes(path, model.ToByteArray());

        var network = NetworkCatalog.LoadFile(path, InputNormalization.Torch);
        var loaded = OrtForward.Run(network, _image, Height, Width);
        var reference = OrtForward.Run(model, "data", _image, Height, Width, [.. tapNames.Values]);

        Assert.Same(InputNormalization.Torch, network.Input);
        foreach (var (layer, tensor) in tapNames)
        {
            // Same weights and ops, copied not transformed: equal to float32 rounding (1e-6 relative).
            Assert.True(OrtForward.RelativeError(reference[tensor].Data, loaded[layer].Data) < 1e-6, layer);
        }
    }

    [Fact]
    public void Load_OnnxVggStackWithoutNormalization_ThrowsNamingTheParameter()
    {
        var path = Path.Combine(_folder, "vgg19.onnx");
        File.WriteAllBytes(path, HandWrittenOnnxStack().Model.ToByteArray());

        var e = Assert.Throws<ArgumentException>(() => NetworkCatalog.LoadFile(path));

        Assert.Equal("preprocess", e.ParamName);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        var path = Path.Combine(_folder, "absent.h5");

        var e = Assert.Throws<NetworkLoadException>(() => NetworkCatalog.LoadFile(path));

        Assert.Equal(NetworkLoadFailure.FileNotFound, e.Failure);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_TextFileNamedH5_ThrowsNotHdf5()
    {
        var path = Path.Combine(_folder, "weights.h5");
        File.WriteAllText(path, "these are not weights\n");

        var e = Assert.Throws<NetworkLoadException>(() => NetworkCatalog.LoadFile(path));

        Assert.Equal(NetworkLoadFailure.NotHdf5, e.Failure);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_TextFileNamedOnnx_ThrowsNotOnnx()
    {
        var path = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(path, "this is not a model\n");

        var e = Assert.Throws<NetworkLoadException>(() => NetworkCatalog.LoadFile(path, InputNormalization.Torch));

        Assert.Equal(NetworkLoadFailure.NotOnnx, e.Failure);
    }

    [Fact]
    public void Load_OnnxOfAnotherKind_ThrowsWrongArchitectureNamingTheOperator()
    {
        var graph = new GraphProto { Name = "adder" };
        graph.Input.Add(OnnxProtos.ImageInput("x"));
        graph.Node.Add(Node("Add", ["x", "x"], ["y"], "add"));
        graph.Output.Add(OnnxProtos.FloatValue("y"));
        var path = Path.Combine(_folder, "adder.onnx");
        File.WriteAllBytes(path, OnnxProtos.Model(graph).ToByteArray());

        var e = Assert.Throws<NetworkLoadException>(() => NetworkCatalog.LoadFile(path, InputNormalization.Torch));

        Assert.Equal(NetworkLoadFailure.WrongArchitecture, e.Failure);
        Assert.Contains("Add", e.Message);
    }

    [Fact]
    public void LoadFile_NotAModelFile_ThrowsUnknownSpec()
    {
        var e = Assert.Throws<NetworkLoadException>(() => NetworkCatalog.LoadFile("alexnet"));

        Assert.Equal(NetworkLoadFailure.UnknownSpec, e.Failure);
        Assert.Contains("alexnet", e.Message);
    }

    /// <summary>Writes the weights in Keras' layout: Keras 1 names for block1_conv1, Keras 2 nested names elsewhere.</summary>
    private string WriteKerasFile()
    {
        var layerNames = new List<string> { "input_1" };
        var file = new H5File();
        file["input_1"] = new H5Group { Attributes = new() { ["weight_names"] = Array.Empty<string>() } };
        var names = Vgg19.ConvNames.Append("block5_conv3").ToList();
        for (var l = 0; l < names.Count; l++)
        {
            var name = names[l];
            var (hwio, bias, cin, cout) = _layers[Math.Min(l, _layers.Count - 1)];
            if (name == "block5_conv3")
            {
                (hwio, bias, cin, cout) = (_layers[^1].Hwio, _layers[^1].Bias, _layers[^1].Cout, _layers[^1].Cout);
            }

            var kernel = new H5Dataset(hwio, fileDims: [3, 3, (ulong)cin, (ulong)cout]);
            var biasSet = new H5Dataset(bias, fileDims: [(ulong)cout]);
            layerNames.Add(name);
            if (l == 0)
            {
                file[name] = new H5Group
                {
                    Attributes = new() { ["weight_names"] = new[] { name + "_W_1:0", name + "_b_1:0" } },
                    [name + "_W_1:0"] = kernel,
                    [name + "_b_1:0"] = biasSet,
                };
            }
            else
            {
                file[name] = new H5Group
                {
                    Attributes = new() { ["weight_names"] = new[] { name + "/kernel:0", name + "/bias:0" } },
                    [name] = new H5Group { ["kernel:0"] = kernel, ["bias:0"] = biasSet },
                };
            }

            if (name is "block1_conv2" or "block2_conv2" or "block3_conv4" or "block4_conv4")
            {
                var pool = name[..6] + "_pool";
                layerNames.Add(pool);
                file[pool] = new H5Group { Attributes = new() { ["weight_names"] = Array.Empty<string>() } };
            }
        }

        file.Attributes["layer_names"] = layerNames.ToArray();
        var path = Path.Combine(_folder, "weights.h5");
        file.Write(path);
        return path;
    }

    /// <summary>
    /// The same weights as an ONNX model written here by hand in the model zoo's style (its own node and tensor names,
    /// input "data", a classifier-like tail after block5_conv2 that the loader must ignore).
    /// </summary>
    private (ModelProto Model, Dictionary<string, string> Taps) HandWrittenOnnxStack()
    {
        var graph = new GraphProto { Name = "zoo_vgg19" };
        graph.Input.Add(OnnxProtos.ImageInput("data"));
        var taps = new Dictionary<string, string>();
        var current = "data";
        for (var l = 0; l < _layers.Count; l++)
        {
            var (hwio, bias, cin, cout) = _layers[l];
            var oihw = new float[hwio.Length];
            for (var o = 0; o < cout; o++)
            {
                for (var i = 0; i < cin; i++)
                {
                    for (var k = 0; k < 9; k++)
                    {
                        oihw[(o * cin + i) * 9 + k] = hwio[(k * cin + i) * cout + o];
                    }
                }
            }

            graph.Initializer.Add(Tensor($"w{l}", oihw, cout, cin, 3, 3));
            graph.Initializer.Add(Tensor($"b{l}", bias, cout));
            graph.Node.Add(Node("Conv", [current, $"w{l}", $"b{l}"], [$"c{l}"], $"conv{l}", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)));
            graph.Node.Add(Node("Relu", [$"c{l}"], [$"r{l}"], $"relu{l}"));
            current = $"r{l}";
            taps[Vgg19.ConvNames[l]] = current;
            if (l is 1 or 3 or 7 or 11 or 13)
            {
                graph.Node.Add(Node("MaxPool", [current], [$"p{l}"], $"pool{l}", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
                current = $"p{l}";
            }
        }

        graph.Node.Add(Node("Flatten", [current], ["flat"], "flatten"));
        graph.Output.Add(OnnxProtos.FloatValue("flat"));
        foreach (var tensor in taps.Values)
        {
            graph.Output.Add(OnnxProtos.FloatValue(tensor));
        }

        var kept = new[] { "block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1", "block5_conv2" };
        return (OnnxProtos.Model(graph), taps.Where(t => kept.Contains(t.Key)).ToDictionary());
    }

    private static TensorProto Tensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }
}
