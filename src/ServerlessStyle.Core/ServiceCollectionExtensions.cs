using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core;

/// <summary>The one place that registers ServerlessStyle's services, for the Functions app and the local runner alike.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddServerlessStyle(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);
        services.AddSingleton(sp => BlobStore.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName);
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.SectionName);
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName);
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName)
            .Validate(o => o.InputDays >= 0 && o.ResultDays >= 0, $"{RetentionOptions.SectionName}: InputDays and ResultDays are days, 0 (keep) or more.");
        services.AddSingleton<JobStorage>();
        services.AddSingleton<IInputImageSource, StorageInputImageSource>();
        services.AddSingleton<InputImages>();
        services.AddSingleton(sp =>
        {
            var engine = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new ModelContainer(
                sp.GetRequiredService<BlobStore>(),
                sp.GetRequiredService<IOptions<StorageOptions>>().Value,
                string.IsNullOrWhiteSpace(engine.ModelCacheFolder) ? ModelContainer.DefaultCacheFolder : engine.ModelCacheFolder);
        });
        services.AddSingleton(sp =>
        {
            var engine = sp.GetRequiredService<IOptions<EngineOptions>>().Value;
            return new NetworkResolver(new Networks.ModelStore(engine.ModelFolder ?? Networks.ModelStore.DefaultFolder), sp.GetRequiredService<ModelContainer>());
        });
        services.AddSingleton<JobIntake>();
        services.AddSingleton<InboxStarter>();
        services.AddSingleton<StyleEngine>();
        services.AddSingleton<StyleWork>();
        services.AddSingleton<IStyleWork>(StyleWorkStack.Create);
        services.AddSingleton<StyleActivities>();
        return services;
    }

    /// <summary>
    /// The same services for a host with no configuration of its own (the CLI's run, jobs, models and controls-sheet
    /// commands, the scratch hubs): one account by connection string, its containers under <paramref name="containerPrefix"/>,
    /// every other option at its default.
    /// </summary>
    public static IServiceCollection AddServerlessStyle(this IServiceCollection services, string connectionString, string containerPrefix = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return services.AddServerlessStyle(storage =>
        {
            storage.ConnectionString = connectionString;
            storage.ContainerPrefix = containerPrefix;
        });
    }

    /// <summary>The same services with the storage set in code (an account endpoint, a prefix) rather than read from configuration.</summary>
    public static IServiceCollection AddServerlessStyle(this IServiceCollection services, Action<StorageOptions> configureStorage)
    {
        // A host that registers configuration or logging of its own keeps them; these only fill what is missing.
        services.TryAddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ILogger<>), typeof(NullLogger<>)));
        services.AddServerlessStyle();
        services.PostConfigure(configureStorage);
        return services;
    }
}
