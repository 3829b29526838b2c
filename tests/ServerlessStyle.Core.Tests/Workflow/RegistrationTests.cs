using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>AddServerlessStyle is what the Functions app and the local runner register: its graph must resolve to the real work.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void AddServerlessStyle_WithConnectionString_ResolvesRealWorkActivitiesAndIntake()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ServerlessStyle:Storage:ConnectionString"] = Azurite.ConnectionString })
            .Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddServerlessStyle()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // The real work behind the attempt guard (GuardedStyleWork), behind the decorator that turns a canceled job's stop
        // into JobCanceledException, behind the one that frees each activity's memory for the next (StyleWorkStack).
        Assert.IsType<MemoryTrimmingStyleWork>(services.GetRequiredService<IStyleWork>());
        Assert.NotNull(services.GetRequiredService<StyleWork>());
        Assert.NotNull(services.GetRequiredService<StyleActivities>());
        Assert.NotNull(services.GetRequiredService<JobIntake>());
        Assert.Same(services.GetRequiredService<StyleEngine>(), services.GetRequiredService<StyleEngine>());
    }

    [Fact]
    public void AddServerlessStyle_ConnectionStringAndPrefixWithoutConfigurationOrLogging_ResolvesOnThatStorage()
    {
        using var services = new ServiceCollection()
            .AddServerlessStyle(Azurite.ConnectionString, "tool-")
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var storage = services.GetRequiredService<JobStorage>().Options;
        Assert.Equal((Azurite.ConnectionString, "tool-"), (storage.ConnectionString, storage.ContainerPrefix));
        Assert.Equal("tool-models", services.GetRequiredService<ModelContainer>().ContainerName);
        Assert.NotNull(services.GetRequiredService<NetworkResolver>());
        Assert.IsType<MemoryTrimmingStyleWork>(services.GetRequiredService<IStyleWork>());
    }

    [Fact]
    public void AddServerlessStyle_ConnectionStringAndPrefix_WinsOverTheHostsStorageSettingsAndKeepsTheOthers()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["ServerlessStyle:Storage:ContainerPrefix"] = "other-",
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        }).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddServerlessStyle(Azurite.ConnectionString, "tool-")
            .BuildServiceProvider();

        Assert.Equal("tool-", services.GetRequiredService<JobStorage>().Options.ContainerPrefix);
        Assert.True(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LimitsOptions>>().Value.AllowTestNetworks);
    }

    [Theory]
    [InlineData(null, 128)]
    [InlineData("false", null)]
    public void AddServerlessStyle_EngineWinogradSetting_ReachesTheEvaluatorOnCpu(string? setting, int? expectedMinChannels)
    {
        var values = new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = Azurite.ConnectionString,
            ["ServerlessStyle:Engine:Provider"] = "cpu",
        };
        if (setting is not null)
        {
            values["ServerlessStyle:Engine:Winograd"] = setting;
        }

        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build())
            .AddLogging()
            .AddServerlessStyle()
            .BuildServiceProvider();

        var evaluator = services.GetRequiredService<StyleEngine>().Evaluator;
        Assert.Equal(expectedMinChannels, evaluator.WinogradMinChannels(Core.Evaluation.ExecutionProvider.Cpu, 224, 224));
    }
}
