using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Moq;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;

namespace ServerlessStyle.Functions.Tests;

public sealed class ModelsFunctionsTests : IDisposable
{
    private const string Vgg19Sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private readonly string _folder = Directory.CreateTempSubdirectory("models-functions-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A blob store whose models container (the SDK client, mocked) holds vgg19 with its digest and a blob without one.</summary>
    private static BlobStore ModelsService()
    {
        var vgg19Metadata = new Dictionary<string, string>
        {
            [ModelContainer.Sha256Key] = Vgg19Sha256,
            [ModelContainer.PreprocessKey] = "caffe",
            [ModelContainer.SourceKey] = "Keras vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, MD5 253f8cb515780f3b799900260a226db6 verified",
        };
        var container = new Mock<BlobContainerClient>();
        container.SetupGet(c => c.Name).Returns("models");
        container.Setup(c => c.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, null, It.IsAny<CancellationToken>()))
            .Returns(AsyncPageable<BlobItem>.FromPages([Page<BlobItem>.FromValues(
                [
                    BlobsModelFactory.BlobItem(name: "handmade.onnx", properties: BlobsModelFactory.BlobItemProperties(accessTierInferred: false, contentLength: 12), metadata: new Dictionary<string, string>()),
                    BlobsModelFactory.BlobItem(name: "vgg19.onnx", properties: BlobsModelFactory.BlobItemProperties(accessTierInferred: false, contentLength: 80_000_000), metadata: vgg19Metadata),
                ], null, Mock.Of<Response>())]));
        var vgg19 = new Mock<BlobClient>();
        vgg19.SetupGet(b => b.Name).Returns("vgg19.onnx");
        vgg19.Setup(b => b.GetPropertiesAsync(It.IsAny<BlobRequestConditions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(BlobsModelFactory.BlobProperties(contentLength: 80_000_000, metadata: vgg19Metadata, eTag: new ETag("0x1")), Mock.Of<Response>()));
        container.Setup(c => c.GetBlobClient("vgg19.onnx")).Returns(vgg19.Object);
        var service = new Mock<BlobServiceClient>();
        service.Setup(s => s.GetBlobContainerClient("models")).Returns(container.Object);
        return new BlobStore(service.Object);
    }

    /// <summary>GET /api/models over the mocked container and an empty local store, as JSON.</summary>
    private async Task<JsonDocument> ListAsync(string engineNetwork)
    {
        var resolver = new NetworkResolver(new ModelStore(_folder), new ModelContainer(ModelsService(), new StorageOptions(), Path.Combine(_folder, "cache")));
        var functions = new ModelsFunctions(resolver, Options.Create(new EngineOptions { Network = engineNetwork }));
        var result = Assert.IsType<OkObjectResult>(await functions.Models_List(new DefaultHttpContext().Request, CancellationToken.None));
        return JsonDocument.Parse(JsonSerializer.Serialize(result.Value));
    }

    [Fact]
    public async Task ModelsList_Vgg19InModelsContainer_ListsEveryNetworkWithItsDigestAndAutoResolvesToIt()
    {
        using var json = await ListAsync("auto");

        var networks = json.RootElement.GetProperty("networks").EnumerateArray().ToDictionary(n => n.GetProperty("location").GetString()!);
        var vgg19 = networks["models/vgg19.onnx"];
        Assert.Equal(("vgg19", Vgg19Sha256, "ModelsContainer", true), (vgg19.GetProperty("name").GetString(), vgg19.GetProperty("sha256").GetString(), vgg19.GetProperty("origin").GetString(), vgg19.GetProperty("usable").GetBoolean()));
        Assert.False(networks["models/handmade.onnx"].GetProperty("usable").GetBoolean());
        var resnet18 = Assert.Single(networks.Values, n => n.GetProperty("origin").GetString() == "Bundled");
        Assert.Equal(ModelDigest.OfFile(ResNet18.DefaultPath), resnet18.GetProperty("sha256").GetString());
        var auto = json.RootElement.GetProperty("auto");
        Assert.Equal(("vgg19", Vgg19Sha256, "models/vgg19.onnx"), (auto.GetProperty("network").GetString(), auto.GetProperty("sha256").GetString(), auto.GetProperty("location").GetString()));
    }

    [Fact]
    public async Task ModelsList_EngineConfiguredToResNet18_AutoIsResNet18()
    {
        using var json = await ListAsync("resnet18");

        Assert.Equal("resnet18", json.RootElement.GetProperty("auto").GetProperty("network").GetString());
    }
}
