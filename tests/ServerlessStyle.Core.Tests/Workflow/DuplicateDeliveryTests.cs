using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>A blob trigger may deliver the same inbox blob twice: through the real intake on Azurite it makes one job.</summary>
[Collection(EngineCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DuplicateDeliveryTests(EngineFixture fixture)
{
    [Fact]
    public async Task FromInboxBlob_SameBlobDeliveredTwice_StartsOneJobAndAReuploadStartsAnother()
    {
        var pipeline = new Pipeline(fixture.Engine);
        await pipeline.UploadSampleAsync("styles", "starry_night.jpg", "styles/starry_night.jpg");
        await pipeline.UploadSampleAsync("inbox", "starry_night/cat.png", "content/chelsea.png");
        var blob = pipeline.Store.Service.GetBlobContainerClient(pipeline.Storage.Container("inbox")).GetBlobClient("starry_night/cat.png");
        var intake = pipeline.CreateIntake();

        async Task<JobInput> DeliverAsync()
        {
            var properties = (await blob.GetPropertiesAsync()).Value;
            return await intake.FromInboxBlobAsync(blob.Name, properties.ETag.ToString(), properties.Metadata.AsReadOnly());
        }

        // The orchestrations are not under test here: arithmetic work keeps the host cheap.
        await using var host = await TestTaskHub.StartAsync(new RecordingStyleWork());

        var first = await StyleJobClient.StartAsync(host.Client, await DeliverAsync());
        var second = await StyleJobClient.StartAsync(host.Client, await DeliverAsync());
        await pipeline.UploadSampleAsync("inbox", "starry_night/cat.png", "content/chelsea.png");
        var third = await StyleJobClient.StartAsync(host.Client, await DeliverAsync());

        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal((false, true), (first.AlreadyExisted, second.AlreadyExisted));
        Assert.NotEqual(first.JobId, third.JobId);
        Assert.False(third.AlreadyExisted);
    }
}
