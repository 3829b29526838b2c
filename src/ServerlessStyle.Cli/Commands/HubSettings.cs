using System.ComponentModel;
using ServerlessStyle.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>The storage account and durable task hub of <c>run</c>, <c>worker</c> and <c>jobs</c>: all of them must name the same pair to meet.</summary>
internal class HubSettings : CommandSettings
{
    [CommandOption("--storage <CONNECTION_STRING>")]
    [Description("Storage account (blob, queue, table) of the task hub. Default: $ServerlessStyle__Storage__ConnectionString, $AZURITE_CONNECTION_STRING, else the runner's own Azurite.")]
    public string? Storage { get; init; }

    [CommandOption("--task-hub <NAME>")]
    [Description("The durable task hub: 3 to 45 letters and digits (default: $ServerlessStyle__Durable__TaskHub, else serverlessstyleworkers).")]
    public string? TaskHub { get; init; }

    public override ValidationResult Validate() =>
        TaskHub is not null && !DurableHubOptions.IsValidTaskHub(TaskHub)
            ? ValidationResult.Error($"--task-hub '{TaskHub}': use 3 to 45 letters and digits, starting with a letter.")
            : ValidationResult.Success();
}
