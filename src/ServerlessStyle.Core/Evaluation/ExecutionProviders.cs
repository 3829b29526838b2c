namespace ServerlessStyle.Core.Evaluation;

/// <summary>The names of <see cref="ExecutionProvider"/> as configuration and command lines spell them: auto, cpu, cuda.</summary>
public static class ExecutionProviders
{
    /// <summary>The accepted names, for messages and help.</summary>
    public const string Names = "auto, cpu or cuda";

    /// <summary>The provider a name means (any case); null for anything else.</summary>
    public static ExecutionProvider? TryParse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "auto" => ExecutionProvider.Auto,
        "cpu" => ExecutionProvider.Cpu,
        "cuda" => ExecutionProvider.Cuda,
        _ => null,
    };

    /// <summary>The provider a name means; <paramref name="setting"/> names where it came from in the error.</summary>
    public static ExecutionProvider Parse(string? name, string setting) =>
        TryParse(name) ?? throw new FormatException($"{setting} '{name}' is not {Names}.");
}
