using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>
/// The evaluator against an independent double-precision reference written with plain loops: conv, relu, max-pool,
/// Gram, the three loss terms and their backward pass.
/// </summary>
public sealed class ReferenceLossTests
{
    // float32 sums over a few thousand terms are accurate to ~1e-6 relative; 1e-4 leaves room for that while any
    // formula difference (a missing factor, a wrong denominator) is off by far more.
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData(ConvInputGradient.ConvTranspose)]
    [InlineData(ConvInputGradient.FlippedConv)]
    public void Evaluate_TinyVggStyleNetwork_MatchesLoopReference(ConvInputGradient convGradient)
    {
        const int height = 12, width = 10;
        var network = RandomVgg19.CreateVggStyle($"tiny_reference_{convGradient}", [4, 4, RandomVgg19.Pool, 6, RandomVgg19.Pool, 5], seed: 7);
        var content = GradientChecks.PatternImage(height, width, 1);
        var style = GradientChecks.PatternImage(height, width, 2);
        var x = GradientChecks.RandomImage(height, width, 3).Data;
        var weights = new LossWeights(0.025, 1.0, 1.0);

        using var evaluator = new StyleEvaluator(new EvaluatorOptions { ConvGradient = convGradient });
        var targets = evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var gradient = new float[x.Length];
        var terms = evaluator.Evaluate(network, targets, weights, x, gradient);

        var reference = new LoopReference(network);
        var (expected, expectedGradient) = reference.LossAndGradient(content, style, x, height, width, weights);
        Assert.True(Math.Abs(terms.Content - expected[0]) <= Tolerance * Math.Abs(expected[0]), $"content {terms.Content} vs {expected[0]}");
        Assert.True(Math.Abs(terms.Style - expected[1]) <= Tolerance * Math.Abs(expected[1]), $"style {terms.Style} vs {expected[1]}");
        Assert.True(Math.Abs(terms.TotalVariation - expected[2]) <= Tolerance * Math.Abs(expected[2]), $"tv {terms.TotalVariation} vs {expected[2]}");
        var total = expected.Sum();
        Assert.True(Math.Abs(terms.Total - total) <= Tolerance * Math.Abs(total), $"total {terms.Total} vs {total}");
        var error = GradientChecks.RelativeError(expectedGradient, gradient);
        Assert.True(error < Tolerance, $"relative gradient error {error:g3}");
    }

    /// <summary>Interprets a VGG-style graph (3x3 pad-1 convs with bias, Relu, 2x2 max-pools) in double.</summary>
    private sealed class LoopReference(LossNetwork network)
    {
        private sealed record Map(int C, int H, int W, double[] D)
        {
            public double this[int c, int i, int j]
            {
                get => D[(((c * H) + i) * W) + j];
                set => D[(((c * H) + i) * W) + j] = value;
            }
        }

        public (double[] Terms, double[] Gradient) LossAndGradient(ImageTensor content, ImageTensor style, float[] x, int height, int width, LossWeights weights)
        {
            var contentMaps = Forward(content.Data, height, width).Maps;
            var styleMaps = Forward(style.Data, height, width).Maps;
            var (maps, argmax) = Forward(x, height, width);
            var grads = new Dictionary<string, Map>();

            var f = maps[network.ContentLayer];
            var target = contentMaps[network.ContentLayer];
            double contentLoss = 0;
            var dContent = new Map(f.C, f.H, f.W, new double[f.D.Length]);
            for (var i = 0; i < f.D.Length; i++)
            {
                var d = f.D[i] - target.D[i];
                contentLoss += d * d;
                dContent.D[i] = 2 * weights.Content * d;
            }

            Accumulate(grads, network.ContentLayer, dContent);
            double styleLoss = 0;
            var denominator = 4.0 * 9.0 * Math.Pow(height * width, 2);
            foreach (var layer in network.StyleLayers)
            {
                var a = maps[layer.Tensor];
                var gx = Gram(a);
                var gs = Gram(styleMaps[layer.Tensor]);
                var n = a.H * a.W;
                var c = weights.Style * layer.Weight / denominator;
                var dA = new Map(a.C, a.H, a.W, new double[a.D.Length]);
                for (var p = 0; p < a.C; p++)
                {
                    for (var q = 0; q < a.C; q++)
                    {
                        var diff = gx[p, q] - gs[p, q];
                        styleLoss += c * diff * diff;
                        for (var k = 0; k < n; k++)
                        {
                            // d/dA[p,k] of (G[p,q] - S[p,q])^2 summed over p, q: G is symmetric, so 4 (G - S)[p,q] A[q,k].
                            dA.D[(p * n) + k] += 4 * c * diff * a.D[(q * n) + k];
                        }
                    }
                }

                Accumulate(grads, layer.Tensor, dA);
            }

            var gradient = Backward(maps, argmax, grads, x.Length);
            var tv = TotalVariation(x, height, width, weights.TotalVariation, gradient);
            return ([weights.Content * contentLoss, styleLoss, tv], gradient);
        }

        private static double[,] Gram(Map a)
        {
            var n = a.H * a.W;
            var g = new double[a.C, a.C];
            for (var p = 0; p < a.C; p++)
            {
                for (var q = 0; q < a.C; q++)
                {
                    for (var k = 0; k < n; k++)
                    {
                        g[p, q] += a.D[(p * n) + k] * a.D[(q * n) + k];
                    }
                }
            }

            return g;
        }

        private static double TotalVariation(float[] x, int height, int width, double weight, double[] gradient)
        {
            double loss = 0;
            for (var c = 0; c < 3; c++)
            {
                for (var i = 0; i < height - 1; i++)
                {
                    for (var j = 0; j < width - 1; j++)
                    {
                        var at = (((c * height) + i) * width) + j;
                        double down = x[at] - x[at + width], right = x[at] - x[at + 1];
                        var s = (down * down) + (right * right);
                        loss += weight * Math.Pow(s, 1.25);
                        var ds = weight * 1.25 * Math.Pow(s, 0.25);
                        gradient[at] += ds * 2 * (down + right);
                        gradient[at + width] -= ds * 2 * down;
                        gradient[at + 1] -= ds * 2 * right;
                    }
                }
            }

            return loss;
        }

        private static void Accumulate(Dictionary<string, Map> grads, string name, Map g)
        {
            if (grads.TryGetValue(name, out var existing))
            {
                for (var i = 0; i < g.D.Length; i++)
                {
                    existing.D[i] += g.D[i];
                }
            }
            else
            {
                grads[name] = g;
            }
        }

        private (Dictionary<string, Map> Maps, Dictionary<string, int[]> Argmax) Forward(float[] image, int height, int width)
        {
            var maps = new Dictionary<string, Map> { [network.InputName] = new Map(3, height, width, image.Select(v => (double)v).ToArray()) };
            var argmax = new Dictionary<string, int[]>();
            foreach (var node in network.Graph.Node)
            {
                var input = maps[node.Input[0]];
                switch (node.OpType)
                {
                    case "Conv":
                        var w = Weights(node.Input[1]);
                        var b = Weights(node.Input[2]);
                        var outC = b.Length;
                        var y = new Map(outC, input.H, input.W, new double[outC * input.H * input.W]);
                        for (var o = 0; o < outC; o++)
                        {
                            for (var i = 0; i < input.H; i++)
                            {
                                for (var j = 0; j < input.W; j++)
                                {
                                    double sum = b[o];
                                    for (var c = 0; c < input.C; c++)
                                    {
                                        for (var ki = 0; ki < 3; ki++)
                                        {
                                            for (var kj = 0; kj < 3; kj++)
                                            {
                                                int si = i + ki - 1, sj = j + kj - 1;
                                                if (si >= 0 && si < input.H && sj >= 0 && sj < input.W)
                                                {
                                                    sum += w[(((((o * input.C) + c) * 3) + ki) * 3) + kj] * input[c, si, sj];
                                                }
                                            }
                                        }
                                    }

                                    y[o, i, j] = sum;
                                }
                            }
                        }

                        maps[node.Output[0]] = y;
                        break;
                    case "Relu":
                        maps[node.Output[0]] = input with { D = input.D.Select(v => Math.Max(0, v)).ToArray() };
                        break;
                    case "MaxPool":
                        var pooled = new Map(input.C, input.H / 2, input.W / 2, new double[input.C * (input.H / 2) * (input.W / 2)]);
                        var arg = new int[pooled.D.Length];
                        for (var c = 0; c < input.C; c++)
                        {
                            for (var i = 0; i < pooled.H; i++)
                            {
                                for (var j = 0; j < pooled.W; j++)
                                {
                                    var best = double.NegativeInfinity;
                                    var at = -1;
                                    for (var di = 0; di < 2; di++)
                                    {
                                        for (var dj = 0; dj < 2; dj++)
                                        {
                                            var v = input[c, (2 * i) + di, (2 * j) + dj];
                                            if (v > best)
                                            {
                                                best = v;
                                                at = (((c * input.H) + (2 * i) + di) * input.W) + (2 * j) + dj;
                                            }
                                        }
                                    }

                                    pooled[c, i, j] = best;
                                    arg[(((c * pooled.H) + i) * pooled.W) + j] = at;
                                }
                            }
                        }

                        maps[node.Output[0]] = pooled;
                        argmax[node.Output[0]] = arg;
                        break;
                    default:
                        throw new InvalidOperationException($"The reference does not know {node.OpType}.");
                }
            }

            return (maps, argmax);
        }

        private double[] Backward(Dictionary<string, Map> maps, Dictionary<string, int[]> argmax, Dictionary<string, Map> grads, int length)
        {
            foreach (var node in network.Graph.Node.Reverse())
            {
                if (!grads.TryGetValue(node.Output[0], out var dy))
                {
                    continue;
                }

                var input = maps[node.Input[0]];
                var dx = new Map(input.C, input.H, input.W, new double[input.D.Length]);
                switch (node.OpType)
                {
                    case "Relu":
                        for (var i = 0; i < dx.D.Length; i++)
                        {
                            dx.D[i] = maps[node.Output[0]].D[i] > 0 ? dy.D[i] : 0;
                        }

                        break;
                    case "MaxPool":
                        var arg = argmax[node.Output[0]];
                        for (var i = 0; i < dy.D.Length; i++)
                        {
                            dx.D[arg[i]] += dy.D[i];
                        }

                        break;
                    case "Conv":
                        var w = Weights(node.Input[1]);
                        for (var o = 0; o < dy.C; o++)
                        {
                            for (var i = 0; i < dy.H; i++)
                            {
                                for (var j = 0; j < dy.W; j++)
                                {
                                    for (var c = 0; c < input.C; c++)
                                    {
                                        for (var ki = 0; ki < 3; ki++)
                                        {
                                            for (var kj = 0; kj < 3; kj++)
                                            {
                                                int si = i + ki - 1, sj = j + kj - 1;
                                                if (si >= 0 && si < input.H && sj >= 0 && sj < input.W)
                                                {
                                                    dx[c, si, sj] += w[(((((o * input.C) + c) * 3) + ki) * 3) + kj] * dy[o, i, j];
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }

                        break;
                }

                Accumulate(grads, node.Input[0], dx);
            }

            return grads.TryGetValue(network.InputName, out var g) ? g.D : new double[length];
        }

        private float[] Weights(string name) => OnnxProtos.ReadFloats(network.Graph.Initializer.Single(t => t.Name == name));
    }
}
