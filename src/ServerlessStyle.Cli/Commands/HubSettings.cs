using System.ComponentModel;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>The storage account and durable task hub of <c>jobs</c>: it must name the same pair as <c>run</c> and <c>worker</c> to meet them.</summary>
internal class HubSettings : CommandSettings
{
    [CommandOption("--storage <CONNECTION_STRING>")]
    [Description(StorageDescription)]
    public string? Storage { get; init; }

    [CommandOption("--task-hub <NAME>")]
    [Description(TaskHubDescription)]
    public string? TaskHub { get; init; }

    public const string StorageDescription = "Storage account (blob, queue, table) of the task hub. Default: $ServerlessStyle__Storage__ConnectionString, $AZURITE_CONNECTION_STRING, else the runner's own Azurite.";

    public const string TaskHubDescription = "The durable task hub: 3 to 45 letters and digits (default: $ServerlessStyle__Durable__TaskHub, else serverlessstyleworkers).";

    public override ValidationResult Validate() => ValidateTaskHub(TaskHub);

    public static ValidationResult ValidateTaskHub(string? taskHub) =>
        taskHub is not null && !DurableHubOptions.IsValidTaskHub(taskHub)
            ? ValidationResult.Error($"--task-hub '{taskHub}': use 3 to 45 letters and digits, starting with a letter.")
            : ValidationResult.Success();
}

/// <summary>The task hub of <see cref="HubSettings"/> with the engine options: <c>run</c> and <c>worker</c>, which host the engine.</summary>
internal class EngineHubSettings : EngineSettings
{
    [CommandOption("--storage <CONNECTION_STRING>")]
    [Description(HubSettings.StorageDescription)]
    public string? Storage { get; init; }

    [CommandOption("--task-hub <NAME>")]
    [Description(HubSettings.TaskHubDescription)]
    public string? TaskHub { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } failed ? failed : HubSettings.ValidateTaskHub(TaskHub);
}
