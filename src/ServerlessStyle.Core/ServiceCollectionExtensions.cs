using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

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

            if (options.ServiceUri is not null)
            {
                // In Azure: the app's managed identity (AZURE_CLIENT_ID names the user-assigned one); no keys anywhere.
                return new Azure.Storage.Blobs.BlobServiceClient(
                    options.ServiceUri, new Azure.Identity.DefaultAzureCredential(), new Azure.Storage.Blobs.BlobClientOptions(BlobClients.PinnedServiceVersion));
            }

            throw new InvalidOperationException(
                $"No storage configured: set {StorageOptions.SectionName.Replace(":", "__")}__ConnectionString " +
                $"(locally 'UseDevelopmentStorage=true' with Azurite running) or {StorageOptions.SectionName.Replace(":", "__")}__ServiceUri (managed identity).");
        });
        services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>()));
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName);
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.SectionName);
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName);
        services.AddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var engine = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new ModelContainer(
                sp.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>().GetBlobContainerClient(storage.Container(storage.Models)),
                string.IsNullOrWhiteSpace(engine.ModelCacheFolder) ? ModelContainer.DefaultCacheFolder : engine.ModelCacheFolder);
        });
        services.AddSingleton(sp =>
        {
            var engine = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new NetworkResolver(new Networks.ModelStore(engine.ModelFolder ?? Networks.ModelStore.DefaultFolder), sp.GetRequiredService<ModelContainer>());
        });
        services.AddSingleton<JobIntake>();
        services.AddSingleton<StyleEngine>();
        services.AddSingleton<IStyleWork, StyleWork>();
        services.AddSingleton<StyleActivities>();
        return services;
    }
}
