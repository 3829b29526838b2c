using System.Reflection;
using ServerlessStyle.Hosting;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Cli.Tests;

/// <summary>The runner, its host and its command-line library reach storage only through Core's storage layer, composed by AddServerlessStyle (docs/architecture.md).</summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string> Assemblies => new()
    {
        typeof(Program).Assembly.GetName().Name!, typeof(LocalDurableHost).Assembly.GetName().Name!, typeof(CommandLine.EngineSettings).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void BlobClients_AreNotUsed(string assembly) =>
        Assert.Empty(ArchitectureRules.TypesOutsideUsing(Assembly.Load(assembly), "ServerlessStyle.Core.Storage", "Azure.Storage.Blobs"));

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void StorageAndEngineServices_ComeOnlyFromAddServerlessStyle(string assembly) =>
        Assert.Empty(ArchitectureRules.ServicesBuiltByHand(Assembly.Load(assembly)));
}
