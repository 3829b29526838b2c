using Microsoft.Extensions.Configuration;

namespace ServerlessStyle.Hosting.Tests;

/// <summary>The task hub's settings are checked before any storage call, with a message naming the setting and never a key.</summary>
public sealed class DurableHubOptionsTests
{
    private const string Key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWJlLXByaW50ZWQ=";

    private static DurableHubOptions From(params (string Key, string Value)[] settings) =>
        DurableHubOptions.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

    [Fact]
    public void From_StorageConnectionStringOnly_UsesItAndTheDefaults()
    {
        var options = From(("ServerlessStyle:Storage:ConnectionString", "UseDevelopmentStorage=true"));

        Assert.Equal((DurableHubOptions.DefaultTaskHub, "UseDevelopmentStorage=true"), (options.TaskHub, options.ConnectionString));
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", options.EffectiveWorkerId);
        Assert.Equal(TimeSpan.FromSeconds(15), options.WorkItemVisibilityTimeout);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("1hub")]
    [InlineData("my-hub")]
    public void From_BadTaskHubName_SaysWhatANameMayHold(string name)
    {
        var e = Assert.Throws<DurableHubException>(() => From(("ServerlessStyle:Storage:ConnectionString", "UseDevelopmentStorage=true"), ("ServerlessStyle:Durable:TaskHub", name)));

        Assert.Contains($"task hub '{name}'", e.Message);
        Assert.Contains("3 to 45 letters and digits", e.Message);
    }

    [Fact]
    public void From_BlobOnlyConnectionString_AsksForQueueAndTableEndpointsWithoutPrintingTheKey()
    {
        var connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

        var e = Assert.Throws<DurableHubException>(() => From(("ServerlessStyle:Storage:ConnectionString", connection)));

        Assert.Contains("QueueEndpoint and TableEndpoint", e.Message);
        Assert.Contains("http://127.0.0.1:10000/devstoreaccount1", e.Message);
        Assert.DoesNotContain(Key, e.Message);
    }

    [Fact]
    public void From_LeaseRenewedNoSoonerThanItExpires_IsRefused()
    {
        var e = Assert.Throws<DurableHubException>(() => From(
            ("ServerlessStyle:Storage:ConnectionString", "UseDevelopmentStorage=true"),
            ("ServerlessStyle:Durable:LeaseInterval", "00:00:05"),
            ("ServerlessStyle:Durable:LeaseRenewInterval", "00:00:05")));

        Assert.Contains("LeaseRenewInterval", e.Message);
    }

    [Fact]
    public void SubOrchestrationIds_HistoryAsTheBackendWritesIt_AreTheCreatedChildren()
    {
        // EventType 7 is SubOrchestrationInstanceCreated, 8 its completion (which names no new child), 4 TaskScheduled.
        const string history = """
            [{"EventType":0,"Name":"StyleJob"},{"EventType":4,"Name":"ValidateJob"},
             {"EventType":7,"InstanceId":"job-p0","Name":"StylePair"},{"EventType":7,"InstanceId":"job-p1","Name":"StylePair"},
             {"EventType":"SubOrchestrationInstanceCreated","InstanceId":"job-p2"},{"EventType":7,"InstanceId":"job-p0"},
             {"EventType":8,"InstanceId":"job-p9"}]
            """;

        Assert.Equal(["job-p0", "job-p1", "job-p2"], AzureStorageDurableTaskClient.SubOrchestrationIds(history));
    }
}
