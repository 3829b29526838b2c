using ServerlessStyle.Core.Onnx;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Graph;

/// <summary>
/// Rewrites eligible 3x3 convolutions of a built graph as Winograd F(4x4,3x3) (Lavin and Gray) in standard ONNX ops:
/// 36 multiplies per 4x4 output tile and channel pair instead of 144, so the GEMM work of such a conv drops to 1/4.
/// </summary>
/// <remarks>
/// Per conv, X [1,Cin,H,W] with weight g [Cout,Cin,3,3] (the layout and op choice measured fastest on ONNX Runtime's CPU
/// provider, see docs/performance.md):
/// <list type="number">
/// <item>input transform V = B^T d B of every 6x6 tile at stride 4: one depthwise Conv with 36 fixed 6x6 kernels per
/// channel, [1,Cin,H,W] -> [1,Cin*36,h,w], h = ceil(H/4), w = ceil(W/4);</item>
/// <item>Reshape [Cin,36,T] and Transpose [36,Cin,T] (T = h*w; ONNX Runtime fuses the Transpose into the MatMul);</item>
/// <item>36 GEMMs as one batched MatMul with U = G g G^T [36,Cout,Cin], computed here in double: [36,Cout,T];</item>
/// <item>output transform A^T M A as one MatMul [16,36] x [36,Cout*T] -> [16,Cout*T], which is DepthToSpace (DCR)'s
/// input layout [1,16*Cout,h,w] -> [1,Cout,4h,4w];</item>
/// <item>a Slice back to H x W when H or W is not a multiple of 4 (the input was padded with zeros at the bottom/right),
/// then the bias (if any) as an Add of [1,Cout,1,1].</item>
/// </list>
/// The rewrite keeps every tensor name the rest of the graph uses, so it can run after the gradient graph is built.
/// </remarks>
public static class WinogradConvolution
{
    /// <summary>
    /// Fewest input and output channels for a rewrite. Measured per conv on 2 cores: 0.51-0.61x of ORT's Conv time at
    /// 128-512 channels, but 0.96x at 64 channels (1.16x once the bias and ReLU that Conv fuses are separate ops).
    /// </summary>
    public const int DefaultMinChannels = 128;

    private const int Tile = 4;
    private const int Window = 6;
    private const int Products = Window * Window;

    // F(4x4,3x3): Y = A^T [(G g G^T) .* (B^T d B)] A.
    private static readonly double[,] BT =
    {
        { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
        { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
    };

    private static readonly double[,] G =
    {
        { 1.0 / 4, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 },
    };

    private static readonly double[,] AT = { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 1 } };

    /// <summary>The name hint of the transformed weights U, which are fed to the session rather than held as initializers.</summary>
    internal const string WeightsHint = "winograd_u";

    /// <summary>Replaces every eligible Conv of <paramref name="ctx"/> in place and returns how many were replaced.</summary>
    internal static int Rewrite(GraphContext ctx, int minChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minChannels, 1);
        var rewritten = new List<NodeProto>(ctx.Nodes.Count);
        var constants = new Transforms(ctx);
        var count = 0;
        foreach (var node in ctx.Nodes)
        {
            if (!IsEligible(ctx, node, minChannels))
            {
                rewritten.Add(node);
                continue;
            }

            rewritten.AddRange(Replace(ctx, node, constants));
            count++;
        }

        ctx.Nodes.Clear();
        ctx.Nodes.AddRange(rewritten);
        return count;
    }

    /// <summary>3x3, stride 1, dilation 1, group 1, pads 1 on every side, N = 1, constant weight and bias, enough channels.</summary>
    private static bool IsEligible(GraphContext ctx, NodeProto node, int minChannels)
    {
        if (node.OpType != "Conv" || node.Input.Count < 2 || !ctx.IsConstant(node.Input[1]))
        {
            return false;
        }

        var hasBias = node.Input.Count > 2 && node.Input[2].Length > 0;
        if (hasBias && !ctx.IsConstant(node.Input[2]))
        {
            return false;
        }

        var x = ctx.Shape(node.Input[0]);
        var w = ctx.Shape(node.Input[1]);
        return x.Length == 4 && x[0] == 1 && w.Length == 4 && w[2] == 3 && w[3] == 3
            && w[0] >= minChannels && w[1] >= minChannels
            && GetInt(node, "group", 1) == 1
            && GetString(node, "auto_pad", "NOTSET") == "NOTSET"
            && (GetInts(node, "kernel_shape") ?? [3, 3]).SequenceEqual([3L, 3L])
            && (GetInts(node, "strides") ?? [1, 1]).All(s => s == 1)
            && (GetInts(node, "dilations") ?? [1, 1]).All(d => d == 1)
            && (GetInts(node, "pads") ?? [0, 0, 0, 0]).SequenceEqual([1L, 1L, 1L, 1L]);
    }

    private static List<NodeProto> Replace(GraphContext ctx, NodeProto conv, Transforms constants)
    {
        var x = ctx.Shape(conv.Input[0]);
        var w = ctx.Shape(conv.Input[1]);
        long cout = w[0], cin = w[1], height = x[2], width = x[3];
        long tilesY = (height + Tile - 1) / Tile, tilesX = (width + Tile - 1) / Tile, tiles = tilesY * tilesX;
        long extraY = (tilesY * Tile) - height, extraX = (tilesX * Tile) - width;
        var hasBias = conv.Input.Count > 2 && conv.Input[2].Length > 0;
        var cropped = extraY != 0 || extraX != 0;
        var nodes = new List<NodeProto>();
        var output = conv.Output[0];

        string Emit(string op, string[] inputs, long[] shape, string hint, bool last, params AttributeProto[] attributes)
        {
            var name = last ? output : ctx.Fresh(hint);
            nodes.Add(Node(op, inputs, [name], last ? ctx.Fresh(hint) : name, attributes));
            ctx.Shapes[name] = shape;
            return name;
        }

        // An input-gradient conv's weight is its forward conv's, transposed to [Cin, Cout] and rotated by 180 degrees. A
        // correlation with a rotated kernel is the rotated correlation of the rotated input with the kernel itself, so
        // rotating the tiles instead (input transform B^T J d J B, output J A^T M A J, J reversing the 6 or 4 positions)
        // reuses the forward conv's U, transposed per product: U is stored once for both convs.
        var rotated = ctx.FlippedFrom.TryGetValue(conv.Input[1], out var forwardWeight) && constants.Weights.ContainsKey(forwardWeight);
        string weights;
        if (rotated)
        {
            weights = Emit("Transpose", [constants.Weights[forwardWeight!]], [Products, cout, cin], "winograd_ut", false, Ints("perm", 0, 2, 1));
        }
        else
        {
            weights = ctx.FedFloats([Products, cout, cin], TransformWeights(ctx.ConstantFloats(conv.Input[1], conv.Name), cout, cin), WeightsHint);
            constants.Weights[conv.Input[1]] = weights;
        }

        var kernels = constants.InputKernels(cin, rotated);
        var outputMatrix = constants.OutputMatrix(rotated);

        // The depthwise conv reads each 6x6 window at stride 4 starting one row/column before the tile (the conv's own
        // pad); extra zero rows/columns at the bottom/right make the tiles cover a size that is not a multiple of 4.
        var transformed = Emit(
            "Conv", [conv.Input[0], kernels], [1, cin * Products, tilesY, tilesX], "winograd_v", false,
            Ints("kernel_shape", Window, Window), Ints("strides", Tile, Tile), Ints("pads", 1, 1, 1 + extraY, 1 + extraX), Int("group", cin));
        var grouped = Emit("Reshape", [transformed, ctx.ConstInt64s([3], [cin, Products, tiles], "winograd_shape")], [cin, Products, tiles], "winograd_v", false);
        var v = Emit("Transpose", [grouped], [Products, cin, tiles], "winograd_v", false, Ints("perm", 1, 0, 2));
        var m = Emit("MatMul", [weights, v], [Products, cout, tiles], "winograd_m", false);
        var flat = Emit("Reshape", [m, ctx.ConstInt64s([2], [Products, cout * tiles], "winograd_shape")], [Products, cout * tiles], "winograd_m", false);
        var y = Emit("MatMul", [outputMatrix, flat], [Tile * Tile, cout * tiles], "winograd_y", false);
        var depth = Emit(
            "Reshape", [y, ctx.ConstInt64s([4], [1, Tile * Tile * cout, tilesY, tilesX], "winograd_shape")], [1, Tile * Tile * cout, tilesY, tilesX], "winograd_y", false);
        var spatial = Emit(
            "DepthToSpace", [depth], [1, cout, tilesY * Tile, tilesX * Tile], "winograd_y", !cropped && !hasBias, Int("blocksize", Tile), String("mode", "DCR"));
        if (cropped)
        {
            spatial = Emit(
                "Slice",
                [spatial, ctx.ConstInt64s([2], [0, 0], "starts"), ctx.ConstInt64s([2], [height, width], "ends"), ctx.ConstInt64s([2], [2, 3], "axes")],
                [1, cout, height, width], "winograd_crop", !hasBias);
        }

        if (hasBias)
        {
            var bias = ctx.ConstFloats([1, cout, 1, 1], ctx.ConstantFloats(conv.Input[2], conv.Name), "winograd_bias");
            Emit("Add", [spatial, bias], [1, cout, height, width], "winograd_bias", true);
        }

        return nodes;
    }

    /// <summary>U = G g G^T per (output, input) channel pair in double, stored [36, Cout, Cin] with index k*6+l.</summary>
    internal static float[] TransformWeights(float[] weight, long cout, long cin)
    {
        var u = new float[Products * cout * cin];
        Parallel.For(0, cout, o =>
        {
            Span<double> gg = stackalloc double[Window * 3];
            for (long i = 0; i < cin; i++)
            {
                var w = ((o * cin) + i) * 9;
                for (var k = 0; k < Window; k++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        gg[(k * 3) + c] = (G[k, 0] * weight[w + c]) + (G[k, 1] * weight[w + 3 + c]) + (G[k, 2] * weight[w + 6 + c]);
                    }
                }

                for (var k = 0; k < Window; k++)
                {
                    for (var l = 0; l < Window; l++)
                    {
                        var s = (gg[k * 3] * G[l, 0]) + (gg[(k * 3) + 1] * G[l, 1]) + (gg[(k * 3) + 2] * G[l, 2]);
                        u[((((k * Window) + l) * cout) + o) * cin + i] = (float)s;
                    }
                }
            }
        });
        return u;
    }

    /// <summary>
    /// The depthwise kernels of the input transform, [Cin*36, 1, 6, 6]: channel c*36 + k*6+l holds BT[k,i] * BT[l,j], or
    /// BT[k,5-i] * BT[l,5-j] for rotated tiles.
    /// </summary>
    private static float[] InputKernels(long cin, bool rotated)
    {
        var one = new float[Products * Products];
        for (var k = 0; k < Window; k++)
        {
            for (var l = 0; l < Window; l++)
            {
                for (var i = 0; i < Window; i++)
                {
                    for (var j = 0; j < Window; j++)
                    {
                        var (si, sj) = rotated ? (Window - 1 - i, Window - 1 - j) : (i, j);
                        one[(((((k * Window) + l) * Window) + i) * Window) + j] = (float)(BT[k, si] * BT[l, sj]);
                    }
                }
            }
        }

        var all = new float[cin * one.Length];
        for (long c = 0; c < cin; c++)
        {
            one.CopyTo(all, c * one.Length);
        }

        return all;
    }

    /// <summary>The output transform, [16, 36]: row a*4+b, column k*6+l holds AT[a,k] * AT[b,l], or AT[3-a,k] * AT[3-b,l] for rotated tiles.</summary>
    private static float[] OutputMatrix(bool rotated)
    {
        var a36 = new float[Tile * Tile * Products];
        for (var a = 0; a < Tile; a++)
        {
            for (var b = 0; b < Tile; b++)
            {
                for (var k = 0; k < Window; k++)
                {
                    for (var l = 0; l < Window; l++)
                    {
                        var (sa, sb) = rotated ? (Tile - 1 - a, Tile - 1 - b) : (a, b);
                        a36[(((a * Tile) + b) * Products) + (k * Window) + l] = (float)(AT[sa, k] * AT[sb, l]);
                    }
                }
            }
        }

        return a36;
    }

    /// <summary>The rewrite's shared constants: transform kernels per channel count and orientation, and each forward weight's U.</summary>
    private sealed class Transforms(GraphContext ctx)
    {
        private readonly Dictionary<(long, bool), string> _inputKernels = [];
        private readonly Dictionary<bool, string> _outputMatrices = [];

        /// <summary>The fed U of each rewritten forward conv, by the name of its weight.</summary>
        public Dictionary<string, string> Weights { get; } = new(StringComparer.Ordinal);

        public string InputKernels(long cin, bool rotated)
        {
            if (!_inputKernels.TryGetValue((cin, rotated), out var name))
            {
                _inputKernels[(cin, rotated)] = name = ctx.ConstFloats([cin * Products, 1, Window, Window], WinogradConvolution.InputKernels(cin, rotated), "winograd_b");
            }

            return name;
        }

        public string OutputMatrix(bool rotated)
        {
            if (!_outputMatrices.TryGetValue(rotated, out var name))
            {
                _outputMatrices[rotated] = name = ctx.ConstFloats([Tile * Tile, Products], WinogradConvolution.OutputMatrix(rotated), "winograd_a");
            }

            return name;
        }
    }
}
