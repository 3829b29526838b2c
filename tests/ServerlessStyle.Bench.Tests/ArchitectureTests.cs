using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary>The benchmarks reach storage only through Core's storage layer, as every host does (docs/architecture.md).</summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void BlobClients_AreNotUsed() =>
        Assert.Empty(ArchitectureRules.TypesOutsideUsing(typeof(Program).Assembly, "ServerlessStyle.Core.Storage", "Azure.Storage.Blobs"));

    [Fact]
    public void StorageAndEngineServices_ComeOnlyFromAddServerlessStyle() =>
        Assert.Empty(ArchitectureRules.ServicesBuiltByHand(typeof(Program).Assembly));
}
