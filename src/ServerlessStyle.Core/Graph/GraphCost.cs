using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Graph;

/// <summary>Counts the multiply-adds of an evaluation graph, the work that GFLOP/s figures are measured against.</summary>
public static class GraphCost
{
    /// <summary>
    /// Multiply-adds of one evaluation (forward + gradient) at height x width: every Conv and ConvTranspose (forward and
    /// input gradients) and every MatMul (Grams and their gradients). Element-wise ops are left out: they are memory-bound
    /// and a rounding error next to these.
    /// </summary>
    public static long MultiplyAdds(LossNetwork network, int height, int width, ConvInputGradient convGradient = ConvInputGradient.FlippedConv)
    {
        var ctx = StyleGraphBuilder.EvaluationContext(network, height, width, convGradient);
        long total = 0;
        foreach (var node in ctx.Nodes)
        {
            switch (node.OpType)
            {
                case "Conv":
                {
                    // Each output element is a dot product over Cin/group * kh * kw inputs.
                    var w = ctx.Shape(node.Input[1]);
                    total += Count(ctx.Shape(node.Output[0])) * w[1] * w[2] * w[3];
                    break;
                }

                case "ConvTranspose":
                {
                    // Each input element is scattered into Cout/group * kh * kw outputs; the weight is [Cin, Cout/group, kh, kw].
                    var w = ctx.Shape(node.Input[1]);
                    total += Count(ctx.Shape(node.Input[0])) * w[1] * w[2] * w[3];
                    break;
                }

                case "MatMul":
                {
                    var a = ctx.Shape(node.Input[0]);
                    var b = ctx.Shape(node.Input[1]);
                    total += Count(a) * b[^1];
                    break;
                }
            }
        }

        return total;
    }

    private static long Count(long[] shape) => shape.Aggregate(1L, (p, d) => p * d);
}
