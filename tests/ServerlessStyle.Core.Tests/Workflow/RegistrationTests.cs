using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
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
        // into JobCanceledException.
        Assert.IsType<CancelAwareStyleWork>(services.GetRequiredService<IStyleWork>());
        Assert.NotNull(services.GetRequiredService<StyleWork>());
        Assert.NotNull(services.GetRequiredService<StyleActivities>());
        Assert.NotNull(services.GetRequiredService<JobIntake>());
        Assert.Same(services.GetRequiredService<StyleEngine>(), services.GetRequiredService<StyleEngine>());
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
