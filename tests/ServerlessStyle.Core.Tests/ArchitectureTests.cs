using System.Reflection;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Core.Tests;

/// <summary>
/// The layers of docs/architecture.md, checked on the built Core assembly: engine below jobs (which use only its image and
/// network value types), below storage, below the workflow and the viewer, neither of which uses the other; the viewer
/// only reads; only Storage holds blob clients.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Core = typeof(BlobStore).Assembly;

    public static TheoryData<string> EngineNamespaces => new()
    {
        "ServerlessStyle.Core.Evaluation", "ServerlessStyle.Core.Graph", "ServerlessStyle.Core.Imaging",
        "ServerlessStyle.Core.Networks", "ServerlessStyle.Core.Optimization", "ServerlessStyle.Core.Onnx",
    };

    [Theory]
    [MemberData(nameof(EngineNamespaces))]
    public void Engine_UsesNoJobStorageWorkflowViewerOrDurableTask(string engine) =>
        Assert.Empty(ArchitectureRules.TypesUsing(
            Core, engine,
            "ServerlessStyle.Core.Jobs", "ServerlessStyle.Core.Storage", "ServerlessStyle.Core.Workflow", "ServerlessStyle.Core.Viewer",
            "Microsoft.DurableTask", "Azure"));

    [Fact]
    public void Jobs_UseNoStorageWorkflowViewerOrDurableTask() =>
        Assert.Empty(ArchitectureRules.TypesUsing(
            Core, "ServerlessStyle.Core.Jobs",
            "ServerlessStyle.Core.Storage", "ServerlessStyle.Core.Workflow", "ServerlessStyle.Core.Viewer", "Microsoft.DurableTask", "Azure"));

    [Fact]
    public void Jobs_UseOfTheEngineOnlyItsImageAndNetworkValueTypes() =>
        Assert.Empty(ArchitectureRules.TypesUsing(
            Core, "ServerlessStyle.Core.Jobs",
            "ServerlessStyle.Core.Evaluation", "ServerlessStyle.Core.Graph", "ServerlessStyle.Core.Optimization", "ServerlessStyle.Core.Onnx"));

    [Fact]
    public void Storage_UsesNoWorkflowViewerOrDurableTask() =>
        Assert.Empty(ArchitectureRules.TypesUsing(
            Core, "ServerlessStyle.Core.Storage", "ServerlessStyle.Core.Workflow", "ServerlessStyle.Core.Viewer", "Microsoft.DurableTask"));

    [Fact]
    public void Workflow_UsesNoViewer() =>
        Assert.Empty(ArchitectureRules.TypesUsing(Core, "ServerlessStyle.Core.Workflow", "ServerlessStyle.Core.Viewer"));

    [Fact]
    public void Viewer_UsesNoWorkflowOrDurableTask() =>
        Assert.Empty(ArchitectureRules.TypesUsing(Core, "ServerlessStyle.Core.Viewer", "ServerlessStyle.Core.Workflow", "Microsoft.DurableTask"));

    [Fact]
    public void Viewer_CallsNoMethodThatWrites() =>
        Assert.Empty(ArchitectureRules.WritesIn(Core, "ServerlessStyle.Core.Viewer"));

    [Fact]
    public void BlobClients_AreUsedOnlyInStorage() =>
        Assert.Empty(ArchitectureRules.TypesOutsideUsing(Core, "ServerlessStyle.Core.Storage", "Azure.Storage.Blobs"));

    [Fact]
    public void WritesIn_AStorageWriter_FindsItsWrites()
    {
        // The rule itself: the storage layer's writers do write, so a scan that found nothing there would be blind.
        var writes = ArchitectureRules.WritesIn(Core, "ServerlessStyle.Core.Storage");

        Assert.Contains(writes, w => w.Contains("ResultStore", StringComparison.Ordinal) && w.Contains("UploadAsync", StringComparison.Ordinal));
    }
}
