using Azure.Storage.Queues;
using ServerlessStyle.Cli.Tests.Commands;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// <c>inbox drop</c> against the test run's Azurite: the photo lands in inbox/{styles}/ with its fields as metadata, and
/// the inbox queue holds the Event Grid event a worker (or the Functions queue trigger) reads for it.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class InboxDropCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-inbox-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Drop_UploadsThePhotoWithItsFields_AndQueuesItsBlobCreatedEvent()
    {
        var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING");
        Assert.False(connection is null, "AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh.");
        var photo = Path.Combine(_folder, $"cat-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(photo, [137, 80, 78, 71]);

        // A prefix of its own, so that no worker of another test consumes the message first.
        var prefix = $"drop{Guid.NewGuid():N}"[..12] + "-";
        var (code, output, error) = CliRunner.Run(
            "inbox", "drop", photo, "--styles", "starry_night+the_scream", "--set", "height=64", "--set", "iterations=2", "--storage", connection, "--container-prefix", prefix);

        Assert.True(code == 0, error);
        var name = $"starry_night+the_scream/{Path.GetFileName(photo)}";
        var store = BlobStore.FromConnectionString(connection);
        var blob = await store.TryGetPropertiesAsync(prefix + "inbox", name);
        Assert.NotNull(blob);
        Assert.Equal(("64", "2"), (blob.Value.Metadata["height"], blob.Value.Metadata["iterations"]));
        Assert.Contains($"job: {JobIds.FromBlob(prefix + "inbox", name, blob.Value.ETag.ToString())}", output);

        var queue = new QueueClient(connection, prefix + InboxEvent.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var ours = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        Assert.Equal(new InboxEvent(InboxEvent.BlobCreated, prefix + "inbox", name, blob.Value.ETag.ToString().Trim('"')), InboxEvent.Parse(ours.Body.ToString()));
        await queue.DeleteAsync();
        await store.DeleteContainerAsync(prefix + "inbox");
    }

    [Theory]
    [InlineData("--styles", "a/b", "--styles 'a/b'")]
    [InlineData("--set", "height", "--set 'height'")]
    [InlineData("--container-prefix", "Upper_", "--container-prefix 'Upper_'")]
    public void Drop_BadOption_IsRefusedNamingIt(string option, string value, string named)
    {
        var photo = Path.Combine(_folder, "cat.png");
        File.WriteAllBytes(photo, [1]);
        var args = option == "--styles" ? new[] { "inbox", "drop", photo, "--styles", value } : ["inbox", "drop", photo, "--styles", "s", option, value];

        var (code, output, error) = CliRunner.Run(args);

        Assert.NotEqual(0, code);
        Assert.Contains(named, output + error);
    }
}
