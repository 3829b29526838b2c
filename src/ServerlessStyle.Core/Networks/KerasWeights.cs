using PureHDF;

namespace ServerlessStyle.Core.Networks;

/// <summary>Reads VGG19 convolution weights from a Keras HDF5 weights file (the one the Keras example loads).</summary>
public static class KerasWeights
{
    /// <summary>
    /// Keras layout: a root attribute <c>layer_names</c>; one group per layer whose attribute <c>weight_names</c> lists
    /// datasets inside it ("block1_conv1/kernel:0" in Keras 2, "block1_conv1_W_1:0" in Keras 1). A whole saved model
    /// keeps the same layout under <c>model_weights</c>. Kernels are stored HWIO and converted here to ONNX's OIHW.
    /// </summary>
    public static IReadOnlyList<ConvWeights> ReadVgg19Convs(string path)
    {
        if (!File.Exists(path))
        {
            throw new NetworkLoadException(NetworkLoadFailure.FileNotFound, $"The Keras weights file {path} does not exist.");
        }

        IDisposable file;
        IH5Group root;
        try
        {
            var native = H5File.OpenRead(path);
            file = native;
            root = native;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new NetworkLoadException(NetworkLoadFailure.NotHdf5, $"{path} is not an HDF5 file: {e.Message}", e);
        }

        using (file)
        {
            if (root.LinkExists("model_weights"))
            {
                root = root.Group("model_weights");
            }

            if (!root.AttributeExists("layer_names"))
            {
                throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path} is HDF5 but has no 'layer_names' attribute: not a Keras weights file.");
            }

            var layers = root.Attribute("layer_names").Read<string[]>();
            var convs = new List<ConvWeights>();
            foreach (var layer in Vgg19.ConvNames)
            {
                if (!layers.Contains(layer))
                {
                    throw new NetworkLoadException(
                        NetworkLoadFailure.WrongArchitecture,
                        $"{path} has no layer {layer}; a VGG19 weights file names block1_conv1 .. block5_conv4 (found: {string.Join(", ", layers.Take(8))}...).");
                }

                convs.Add(ReadConv(root.Group(layer), layer, path));
            }

            return convs;
        }
    }

    private static ConvWeights ReadConv(IH5Group group, string layer, string path)
    {
        var names = group.Attribute("weight_names").Read<string[]>();
        float[]? hwio = null;
        float[]? bias = null;
        ulong[] dims = [];
        foreach (var name in names)
        {
            var dataset = group.Dataset(name);
            var shape = dataset.Space.Dimensions;
            // Kernel and bias are told apart by rank, not by name, since Keras 1 and 2 name them differently.
            if (shape.Length == 4)
            {
                hwio = dataset.Read<float[]>();
                dims = shape;
            }
            else if (shape.Length == 1)
            {
                bias = dataset.Read<float[]>();
            }
        }

        if (hwio is null || bias is null)
        {
            throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path}: layer {layer} lacks a 4-d kernel or a 1-d bias (weights: {string.Join(", ", names)}).");
        }

        int kh = (int)dims[0], kw = (int)dims[1], cin = (int)dims[2], cout = (int)dims[3];
        if (bias.Length != cout)
        {
            throw new NetworkLoadException(NetworkLoadFailure.WrongArchitecture, $"{path}: layer {layer} has {cout} filters but {bias.Length} biases.");
        }

        return new ConvWeights(layer, HwioToOihw(hwio, kh, kw, cin, cout), bias, cout, cin, kh, kw);
    }

    /// <summary>Keras (TensorFlow) stores kernels [H, W, in, out]; ONNX Conv wants [out, in, H, W].</summary>
    internal static float[] HwioToOihw(float[] hwio, int kh, int kw, int cin, int cout)
    {
        var oihw = new float[hwio.Length];
        for (var y = 0; y < kh; y++)
        {
            for (var x = 0; x < kw; x++)
            {
                for (var i = 0; i < cin; i++)
                {
                    for (var o = 0; o < cout; o++)
                    {
                        oihw[((o * cin + i) * kh + y) * kw + x] = hwio[((y * kw + x) * cin + i) * cout + o];
                    }
                }
            }
        }

        return oihw;
    }
}
