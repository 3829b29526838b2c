using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>
/// The inbox: Event Grid puts each BlobCreated event of the inbox container on the queue %INBOX_QUEUE% (infra/app/storage.bicep),
/// and this trigger starts the drop's job. The queue also wakes the app from zero (a KEDA rule), which a polling blob
/// trigger could not. Messages are read as they are (host.json queues.messageEncoding none); one that is not a storage
/// event throws <see cref="InboxEventException"/> and, after host.json's maxDequeueCount tries, lands in %INBOX_QUEUE%-poison.
/// </summary>
public sealed class InboxFunctions(InboxStarter inbox)
{
    [Function(nameof(StyleJob_InboxStart))]
    public async Task StyleJob_InboxStart(
        [QueueTrigger("%INBOX_QUEUE%")] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        // The outcome is logged by the starter; the message completes unless it throws.
        await inbox.StartAsync(message, client, cancellationToken);
}
