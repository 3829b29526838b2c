using System.ComponentModel;
using System.Globalization;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.CommandLine;

/// <summary>One of the three loss terms whose weight an option sets.</summary>
public enum LossTerm
{
    Content,
    Style,
    TotalVariation,
}

/// <summary>
/// An option description that ends with each network's default weight for one loss term, read from the networks
/// themselves: the defaults differ by orders of magnitude between vgg19 and resnet18, and a number typed into a
/// description string would drift from the code.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LossWeightDescriptionAttribute(string text, LossTerm term) : DescriptionAttribute
{
    public override string Description =>
        $"{text} Default: the network's own, vgg19 {Format(Vgg19.DefaultWeights)} and resnet18 {Format(ResNet18.DefaultWeights)} ({Format(ResNet18.UnsmoothedWeights)} with --activation-smoothing off).";

    private string Format(LossWeights weights)
    {
        var value = term switch
        {
            LossTerm.Content => weights.Content,
            LossTerm.Style => weights.Style,
            _ => weights.TotalVariation,
        };

        // 1e6 reads better than 1000000, and is how the neural-style tools write their weights.
        return value.ToString(Math.Abs(value) >= 1e4 ? "0.###e0" : "G", CultureInfo.InvariantCulture);
    }
}
