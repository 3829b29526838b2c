using System.Globalization;
using ServerlessStyle.Core.Networks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.CommandLine;

/// <summary>
/// The options of the engine tools that evaluate the loss with weights of their own (<c>eval</c>, the judge and loss
/// benchmarks): <see cref="EvaluatorSettings"/> plus the three loss weights, each the network's own when left out.
/// </summary>
public class LossWeightSettings : EvaluatorSettings
{
    [CommandOption("--content-weight <W>")]
    [LossWeightDescription("The content loss's weight.", LossTerm.Content)]
    public double? ContentWeight { get; init; }

    [CommandOption("--style-weight <W>")]
    [LossWeightDescription("The style loss's weight.", LossTerm.Style)]
    public double? StyleWeight { get; init; }

    [CommandOption("--tv-weight <W>")]
    [LossWeightDescription("The total variation loss's weight.", LossTerm.TotalVariation)]
    public double? TvWeight { get; init; }

    public override ValidationResult Validate()
    {
        if (base.Validate() is { Successful: false } failed)
        {
            return failed;
        }

        foreach (var (option, value) in new[] { ("--content-weight", ContentWeight), ("--style-weight", StyleWeight), ("--tv-weight", TvWeight) })
        {
            if (value is { } v && (!double.IsFinite(v) || v < 0))
            {
                return ValidationResult.Error(string.Create(CultureInfo.InvariantCulture, $"{option} {v} must be a finite non-negative number."));
            }
        }

        return ValidationResult.Success();
    }

    /// <summary>The weights given, each left out taken from <paramref name="defaults"/> (the network's own).</summary>
    public LossWeights Weights(LossWeights defaults) =>
        new(ContentWeight ?? defaults.Content, StyleWeight ?? defaults.Style, TvWeight ?? defaults.TotalVariation);
}
