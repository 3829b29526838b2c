namespace ServerlessStyle.Core.Storage;

/// <summary>Where the blobs live: the connection and the container names of docs/contracts.md.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "ServerlessStyle:Storage";

    /// <summary>A connection string (local: <c>UseDevelopmentStorage=true</c>); empty means <see cref="ServiceUri"/> with managed identity.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob endpoint used with managed identity in Azure, when no connection string is set.</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>Prepended to every container name, so several deployments can share one account.</summary>
    public string ContainerPrefix { get; set; } = "";

    public string Inbox { get; set; } = "inbox";
    public string Styles { get; set; } = "styles";
    public string Uploads { get; set; } = "uploads";
    public string Results { get; set; } = "results";
    public string Work { get; set; } = "work";
    public string Models { get; set; } = "models";

    /// <summary>The full name of a container, prefix included.</summary>
    public string Container(string name) => (ContainerPrefix + name).ToLowerInvariant();
}
