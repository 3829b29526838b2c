using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Starts of one job id that race, such as simultaneous POSTs with one Idempotency-Key. Durable Task's Azure Storage
/// backend creates an instance by reading its row and then overwriting it, so every racer that read "none" also
/// "created" the job (measured: 8 of 8 simultaneous starts said so). Here the job's job.json is claimed first, with a
/// conditional write: the one caller that records it as Submitted starts the job and is told it created it; the others
/// wait for that instance and are told it existed.
/// </summary>
public static class JobStartClaim
{
    /// <summary>How long a caller that lost the claim waits for the winner's instance before it schedules the job itself.</summary>
    public static readonly TimeSpan WinnerWait = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<StartedJob> StartOnceAsync(
        DurableTaskClient client, JobStorage storage, JobInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(input);
        if (await storage.Documents.TryClaimAsync(JobDocument.Submitted(input.JobId, input.Request), cancellationToken).ConfigureAwait(false))
        {
            return await StyleJobClient.StartAsync(client, input, cancellationToken).ConfigureAwait(false);
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < WinnerWait)
        {
            if (await client.GetInstanceAsync(input.JobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null)
            {
                return new StartedJob(input.JobId, AlreadyExisted: true);
            }

            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }

        // The winner stopped between its claim and its start (a crash, a failed schedule): the job is started here, and
        // still reported as existing, because the winner's caller may have been told it was created.
        await StyleJobClient.StartAsync(client, input, cancellationToken).ConfigureAwait(false);
        return new StartedJob(input.JobId, AlreadyExisted: true);
    }
}
