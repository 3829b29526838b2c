using Azure;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>A scratch hub works in containers of its own and leaves none behind.</summary>
[Trait("Category", "Storage")]
public sealed class ScratchHubTests
{
    [Fact]
    public async Task DisposeAsync_AfterAnUploadAndAResult_DeletesItsContainers()
    {
        var connection = ScratchHub.AzuriteConnectionString();
        StorageOptions options;
        await using (var scratch = ScratchHub.Create(connection, "test"))
        {
            options = scratch.Storage.Options;
            await scratch.Storage.Inputs.UploadAsync("uploads/j/a.png", BinaryData.FromString("a"));
            await scratch.Storage.Results.EnsureContainerAsync();
            await scratch.Storage.Results.WriteAsync("j/final.png", BinaryData.FromString("b"));

            Assert.StartsWith("test", options.ContainerPrefix, StringComparison.Ordinal);
            Assert.Equal(options.ContainerPrefix.TrimEnd('-'), DurableHubOptions.From(scratch.Configuration).TaskHub);
            Assert.NotNull(await scratch.Storage.Results.TryReadAsync("j/final.png"));
        }

        // Writing into a deleted container fails with ContainerNotFound, where an existing one would take the blob.
        await using var services = new ServiceCollection().AddServerlessStyle(connection, options.ContainerPrefix).BuildServiceProvider();
        var store = services.GetRequiredService<BlobStore>();
        foreach (var container in new[] { options.Uploads, options.Results })
        {
            var e = await Assert.ThrowsAsync<RequestFailedException>(() => store.TryCreateAsync(options.Container(container), "probe", BinaryData.FromString("c")));
            Assert.Equal("ContainerNotFound", e.ErrorCode);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("Sheet")]
    [InlineData("toolongname")]
    public void Create_NameNotOneToEightLowercaseLetters_ThrowsNamingIt(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => ScratchHub.Create("UseDevelopmentStorage=true", name));

        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
    }
}
