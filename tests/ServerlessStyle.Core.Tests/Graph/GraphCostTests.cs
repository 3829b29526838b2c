using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Graph;

public sealed class GraphCostTests
{
    [Theory]
    [InlineData(ConvInputGradient.FlippedConv)]
    [InlineData(ConvInputGradient.ConvTranspose)]
    public void MultiplyAdds_RandomVgg19_MatchesTheLayerFormula(ConvInputGradient convGradient)
    {
        const int Height = 32, Width = 48;

        // By hand: each 3x3 pad-1 conv costs Cout*Cin*9*h*w forward and the same again for its input gradient (the image
        // needs one, so every conv has one); each style layer's Gram costs C*C*h*w and its gradient C*C*h*w again.
        long expected = 0;
        long channels = 3, h = Height, w = Width;
        var firstInBlock = true;
        foreach (var entry in RandomVgg19.Vgg19Stack)
        {
            if (entry == RandomVgg19.Pool)
            {
                h /= 2;
                w /= 2;
                firstInBlock = true;
                continue;
            }

            expected += 2 * entry * channels * 9 * h * w;
            if (firstInBlock)
            {
                expected += 2 * entry * entry * h * w;
                firstInBlock = false;
            }

            channels = entry;
        }

        Assert.Equal(expected, GraphCost.MultiplyAdds(RandomVgg19.Create(), Height, Width, convGradient));
    }
}
