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

            throw new InvalidOperationException(
                $"No storage configured: set {StorageOptions.SectionName.Replace(":", "__")}__ConnectionString " +
                "(locally 'UseDevelopmentStorage=true' with Azurite running).");
        });
        services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>()));
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName);
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.SectionName);
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName);
        services.AddSingleton<JobIntake>();
        // StyleActivities needs an IStyleWork; the engine-backed one is registered next to the engine (phase 2).
        services.AddSingleton<StyleActivities>();
        return services;
    }
}
