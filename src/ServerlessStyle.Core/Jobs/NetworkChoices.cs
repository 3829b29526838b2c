namespace ServerlessStyle.Core.Jobs;

/// <summary>The names of <see cref="NetworkChoice"/> as requests, command lines and configuration spell them.</summary>
public static class NetworkChoices
{
    /// <summary>The accepted names, comma-separated, for messages and help.</summary>
    public const string Names = "auto, vgg19, resnet18, random-vgg19";

    /// <summary>The choice a name means (the request's JSON spelling); null for anything else, a file path included.</summary>
    public static NetworkChoice? TryParse(string? name) => name switch
    {
        "auto" => NetworkChoice.Auto,
        "vgg19" => NetworkChoice.Vgg19,
        "resnet18" => NetworkChoice.ResNet18,
        "random-vgg19" => NetworkChoice.RandomVgg19,
        _ => null,
    };

    /// <summary>The name of a choice, the same as its JSON spelling and the engine's network spec.</summary>
    public static string Name(NetworkChoice choice) => choice switch
    {
        NetworkChoice.Auto => "auto",
        NetworkChoice.Vgg19 => "vgg19",
        NetworkChoice.ResNet18 => "resnet18",
        NetworkChoice.RandomVgg19 => "random-vgg19",
        _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, "not a network choice"),
    };
}
