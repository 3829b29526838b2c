using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary>Settings of <c>inbox drop</c>: the photo, the library styles it names, and request fields as blob metadata.</summary>
internal sealed class InboxDropSettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The photo to drop into inbox/{styles}/{file name}.")]
    public string File { get; init; } = "";

    [CommandOption("--styles <NAMES>")]
    [Description("Library styles (blobs of the styles container, without extension), one or several joined by '+': starry_night+the_scream.")]
    public string Styles { get; init; } = "";

    [CommandOption("--set <FIELD=VALUE>")]
    [Description("A request field as the drop's metadata (height=224, iterations=10, ...); repeat for more.")]
    public string[] Fields { get; init; } = [];

    [CommandOption("--storage <CONNECTION_STRING>")]
    [Description("Storage account of the inbox. Default: $ServerlessStyle__Storage__ConnectionString, $AZURITE_CONNECTION_STRING, else the runner's own Azurite.")]
    public string? Storage { get; init; }

    [CommandOption("--container-prefix <PREFIX>")]
    [Description("Prepended to the inbox container and queue names, as a deployment's containerPrefix (default: none).")]
    public string ContainerPrefix { get; init; } = "";

    public override ValidationResult Validate()
    {
        if (ContainerPrefix.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')) || ContainerPrefix.Length > 44)
        {
            return ValidationResult.Error($"--container-prefix '{ContainerPrefix}': use at most 44 lowercase letters, digits and hyphens.");
        }

        if (!System.IO.File.Exists(File))
        {
            return ValidationResult.Error($"<FILE> '{File}' does not exist.");
        }

        if (Styles.Length == 0 || Styles.Contains('/', StringComparison.Ordinal))
        {
            return ValidationResult.Error($"--styles '{Styles}': name one or more library styles joined by '+', without folders.");
        }

        var bad = Fields.FirstOrDefault(f => f.IndexOf('=', StringComparison.Ordinal) <= 0);
        return bad is null ? ValidationResult.Success() : ValidationResult.Error($"--set '{bad}': use FIELD=VALUE, for example height=224.");
    }
}

/// <summary>
/// <c>inbox drop FILE --styles NAMES</c>: what an upload to the inbox container does in Azure, where Event Grid queues the
/// upload's BlobCreated event: uploads the photo and puts the same event on the inbox queue, for a worker (or the
/// Functions app under func start) to start the job.
/// </summary>
internal sealed class InboxDropCommand : AsyncCommand<InboxDropSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, InboxDropSettings settings, CancellationToken cancellationToken)
    {
        using var storage = await StorageChoice.ResolveAsync(settings.Storage, Console.Error, cancellationToken).ConfigureAwait(false);
        await using var services = new ServiceCollection().AddServerlessStyle(storage.ConnectionString, settings.ContainerPrefix).BuildServiceProvider();
        var blobs = services.GetRequiredService<JobStorage>();
        var options = blobs.Options;
        var inbox = new InboxQueue(storage.ConnectionString, blobs);
        var name = $"{settings.Styles}/{Path.GetFileName(settings.File)}";
        var metadata = settings.Fields.ToDictionary(f => f[..f.IndexOf('=', StringComparison.Ordinal)], f => f[(f.IndexOf('=', StringComparison.Ordinal) + 1)..]);

        var etag = await inbox.DropAsync(name, BinaryData.FromBytes(await System.IO.File.ReadAllBytesAsync(settings.File, cancellationToken).ConfigureAwait(false)), metadata, cancellationToken).ConfigureAwait(false);

        Console.Out.WriteLine($"inbox/{name}: queued on {inbox.Name}; a worker starts it (jobs show JOB follows it)");
        Console.Out.WriteLine($"job: {JobIds.FromBlob(options.Container(options.Inbox), name, etag)}");
        return 0;
    }
}
