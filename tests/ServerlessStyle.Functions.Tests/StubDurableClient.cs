using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Moq;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// The Functions host's Durable client binding, which cannot run here: schedules record the instance id in
/// <paramref name="started"/>, and an instance exists once it has been scheduled.
/// </summary>
internal static class StubDurableClient
{
    public static Mock<DurableTaskClient> Create(ICollection<string> started)
    {
        var client = new Mock<DurableTaskClient>("test");
        client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, bool _, CancellationToken _) => started.Contains(id) ? new OrchestrationMetadata(StyleOrchestrationNames.StyleJob, id) : null);
        client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((TaskName _, object? _, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                started.Add(options!.InstanceId!);
                return options.InstanceId!;
            });
        return client;
    }
}
