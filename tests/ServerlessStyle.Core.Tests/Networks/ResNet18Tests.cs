using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Tests.Networks;

public sealed class ResNet18Tests
{
    private static readonly LossNetwork Network = ResNet18.Load();

    private static ModelProto Original() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(ResNet18.DefaultPath));

    [Fact]
    public void Load_PackagedModel_ForwardAt224EqualsUntouchedFile()
    {
        var image = ImageLoader.LoadExact(File.ReadAllBytes(TestPaths.Sample("content/chelsea.png")), 224, 224).Data;
        var taps = Network.StyleLayers.Select(s => s.Tensor).Append(Network.ContentLayer).ToList();
        var original = Original();
        foreach (var tap in taps)
        {
            original.Graph.Output.Add(OnnxProtos.FloatValue(tap));
        }

        var expected = OrtForward.Run(original, Network.InputName, image, 224, 224, taps);
        var actual = OrtForward.Run(Network, image, 224, 224);

        foreach (var tap in taps)
        {
            Assert.Equal(expected[tap].Shape, actual[tap].Shape);
            // Same weights and kernels; only opset and pad spelling differ. 1e-5 of the largest activation allows for
            // a different float32 summation order between ORT's opset-8 and opset-17 kernels, nothing more.
            Assert.True(OrtForward.RelativeError(expected[tap].Data, actual[tap].Data) < 1e-5, tap);
        }
    }

    [Fact]
    public void Load_PackagedModel_RunsAt160x240WithStridedTapSizes()
    {
        var image = ImageLoader.LoadExact(File.ReadAllBytes(TestPaths.Sample("content/chelsea.png")), 160, 240).Data;

        var outputs = OrtForward.Run(Network, image, 160, 240);

        // Stem stride 2; stage 1 after the stride-2 max-pool (4); stages 2 and 3 halve again (8, 16).
        Assert.Equal([1L, 64, 80, 120], outputs["ReLU253_Output_0"].Shape);
        Assert.Equal([1L, 64, 40, 60], outputs["ReLU283_Output_0"].Shape);
        Assert.Equal([1L, 128, 20, 30], outputs["ReLU315_Output_0"].Shape);
        Assert.Equal([1L, 256, 10, 15], outputs["ReLU347_Output_0"].Shape);
        Assert.All(outputs.Values, o => Assert.All(o.Data, v => Assert.True(float.IsFinite(v) && v >= 0)));
    }

    [Fact]
    public void SamePadding_At224_ReproducesEveryStoredPad()
    {
        var stored = Original().Graph.Node.ToDictionary(n => n.Name);

        var specialised = SamePadding.Specialize(Network.Graph, Network.InputName, 224, 224);

        var windows = specialised.Node.Where(n => n.OpType is "Conv" or "MaxPool").ToList();
        Assert.True(windows.Count >= 15, $"only {windows.Count} Conv/MaxPool nodes kept");
        foreach (var node in windows)
        {
            var original = stored[node.Name].Attribute.Single(a => a.Name == "pads").Ints;
            Assert.Equal(original, node.Attribute.Single(a => a.Name == "pads").Ints);
        }
    }

    [Fact]
    public void Load_PackagedModel_IsPrunedUpgradedAndDescribed()
    {
        Assert.Equal(["Input247"], Network.Graph.Input.Select(i => i.Name));
        Assert.Equal("height", Network.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimParam);
        Assert.Equal("width", Network.Graph.Input[0].Type.TensorType.Shape.Dim[3].DimParam);
        Assert.DoesNotContain(Network.Graph.Node, n => n.OpType is "AveragePool" or "Gemm" or "Reshape" or "Flatten");
        Assert.DoesNotContain(Network.Graph.Node, n => n.Name == "ReLU353");
        Assert.DoesNotContain(Network.Graph.Node.SelectMany(n => n.Attribute), a => a.Name is "spatial" or "consumed_inputs");
        Assert.Equal(["ReLU253_Output_0", "ReLU283_Output_0", "ReLU315_Output_0"], Network.StyleLayers.Select(s => s.Tensor));
        Assert.Equal("ReLU347_Output_0", Network.ContentLayer);
        Assert.True(Network.NormalizeStyleLayersAtStart);
        Assert.Equal([103.06f, 115.90f, 123.15f], Network.Input.Mean);
    }

    [Theory]
    // Expected by hand: output ceil(n/s), total = max(0, (out-1)*s + k - n), SAME_LOWER puts ceil(total/2) first.
    [InlineData(224, 7, 2, 3, 2)] // the stem: out 112, total 5
    [InlineData(112, 3, 2, 1, 0)] // the max-pool: out 56, total 1
    [InlineData(56, 3, 1, 1, 1)]  // a 3x3 stride-1 conv: total 2
    [InlineData(56, 1, 2, 0, 0)]  // a 1x1 stride-2 shortcut: total -1, clamped to 0
    [InlineData(15, 3, 2, 1, 1)]  // an odd size: out 8, total 2
    public void Pads_SameLower_PutsOddPixelAtStart(long size, long kernel, long stride, long begin, long end)
    {
        Assert.Equal((begin, end), SamePadding.Pads(size, kernel, stride, lower: true));
    }

    [Fact]
    public void Pads_SameUpper_PutsOddPixelAtEnd()
    {
        // 14, k=3, s=2: out 7, total 1, which SAME_UPPER puts at the end.
        Assert.Equal((0L, 1L), SamePadding.Pads(14, 3, 2, lower: false));
    }

    [Fact]
    public void Load_OnnxWithoutTheResNetTaps_ThrowsWrongArchitecture()
    {
        var graph = new GraphProto { Name = "adder" };
        graph.Input.Add(OnnxProtos.ImageInput("x"));
        graph.Node.Add(Node("Add", ["x", "x"], ["y"], "add"));
        var path = Path.Combine(Path.GetTempPath(), $"adder-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(OnnxProtos.Model(graph)));
        try
        {
            var e = Assert.Throws<NetworkLoadException>(() => ResNet18.Load(path));

            Assert.Equal(NetworkLoadFailure.WrongArchitecture, e.Failure);
            Assert.Contains("ReLU253_Output_0", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
