using ServerlessStyle.Functions.Triggers;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Functions.Tests;

/// <summary>The Functions app holds triggers only: no blob service or container client of its own (docs/architecture.md).</summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void BlobServiceAndContainerClients_AreNotUsed() =>
        Assert.Empty(ArchitectureRules.TypesOutsideUsing(
            typeof(StylesFunctions).Assembly, "ServerlessStyle.Core.Storage",
            "Azure.Storage.Blobs.BlobServiceClient", "Azure.Storage.Blobs.BlobContainerClient"));
}
