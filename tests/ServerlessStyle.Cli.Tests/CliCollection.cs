namespace ServerlessStyle.Cli.Tests;

/// <summary>The CLI tests swap the process-wide console and share two CPU cores: they run one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection
{
    public const string Name = "cli";
}
