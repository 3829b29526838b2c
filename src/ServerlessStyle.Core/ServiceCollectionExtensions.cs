using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core;

/// <summary>The one place that registers ServerlessStyle's services, for the Functions app and the local runner alike.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddServerlessStyle(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return BlobClients.FromConnectionString(options.ConnectionString);
            }

            throw new InvalidOperationException(
                $"No storage configured: set {StorageOptions.SectionName.Replace(":", "__")}__ConnectionString " +
                "(locally 'UseDevelopmentStorage=true' with Azurite running).");
        });
        services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>()));
        return services;
    }
}
