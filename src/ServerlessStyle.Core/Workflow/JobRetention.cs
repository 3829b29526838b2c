using Microsoft.DurableTask.Client;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>What retention deleted in one run: the jobs whose inputs, state and history went, and those whose results went.</summary>
public sealed record RetentionRun(IReadOnlyList<string> InputsDeleted, IReadOnlyList<string> ResultsDeleted);

/// <summary>What a job leaves behind and when it goes: one job's blobs and history on request, ended jobs by age.</summary>
public static class JobRetention
{
    /// <summary>
    /// Deletes a job's blobs: its uploads, its inbox drop, its internal state and, with <paramref name="results"/>, its
    /// results, job.json last (so a failure part way leaves the job findable) and replaced by a small record that the
    /// job was purged: the id then still says what happened, and a late activity finds it and does nothing. And its
    /// Durable history when <paramref name="client"/> is given. Returns the bytes deleted.
    /// </summary>
    public static async Task<long> DeleteJobAsync(
        JobStorage storage, DurableTaskClient? client, JobDocument job, bool results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(job);
        var bytes = await storage.Inputs.DeleteUploadsAsync(job.JobId, cancellationToken).ConfigureAwait(false);
        foreach (var drop in (job.Request?.Content ?? []).Append(job.Source).OfType<string>().Where(b => b.StartsWith("inbox/", StringComparison.Ordinal)).Distinct())
        {
            await storage.Inputs.DeleteAsync(drop, cancellationToken).ConfigureAwait(false);
        }

        bytes += await storage.Work.DeleteJobAsync(job.JobId, cancellationToken).ConfigureAwait(false);
        if (client is not null)
        {
            // The pairs by their derived ids: a backend may not purge sub-orchestrations with their parent.
            foreach (var id in job.Pairs.Select((_, k) => JobIds.Pair(job.JobId, k)).Append(job.JobId))
            {
                await client.PurgeInstanceAsync(id, cancellationToken).ConfigureAwait(false);
            }
        }

        if (results)
        {
            bytes += await storage.Results.DeleteJobAsync(job.JobId, keepJobJson: true, cancellationToken).ConfigureAwait(false);
            await storage.Documents.UpdateAsync(job.JobId, d => JobDocument.Purged(d ?? job), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Recorded, so that the daily retention run passes over this job from now on instead of deleting nothing again.
            await storage.Documents.UpdateAsync(
                job.JobId, d => (d ?? job) with { InputsDeleted = (d ?? job).InputsDeleted ?? DateTimeOffset.UtcNow }, cancellationToken).ConfigureAwait(false);
        }

        return bytes;
    }

    /// <summary>
    /// Deletes what jobs that ended before <paramref name="endedBefore"/> left (<see cref="DeleteJobAsync"/>), keyed on
    /// the job's end, not its start, so a long job keeps its inputs and state while it runs. A job whose files that
    /// pass would delete are recorded as deleted already is passed over. Returns the jobs purged.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PurgeAsync(
        JobStorage storage, DurableTaskClient? client, DateTimeOffset endedBefore, bool results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var purged = new List<string>();
        foreach (var jobId in await storage.Results.ListJobIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            JobDocument? job;
            try
            {
                job = await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
            }
            catch (JobDocumentException)
            {
                // Not a document this version can read: left for its user, never deleted on a guess.
                continue;
            }

            var done = results ? job?.ResultsDeleted : job?.InputsDeleted;
            if (job is { HasEnded: true, Ended: { } ended } && ended < endedBefore && done is null)
            {
                await DeleteJobAsync(storage, client, job, results, cancellationToken).ConfigureAwait(false);
                purged.Add(jobId);
            }
        }

        return purged;
    }

    /// <summary>
    /// One retention run at <paramref name="now"/> (the Functions app's daily timer): the results of jobs that ended
    /// <see cref="RetentionOptions.ResultDays"/> ago, then the inputs, state and history of those that ended
    /// <see cref="RetentionOptions.InputDays"/> ago; a setting of 0 keeps that part.
    /// </summary>
    public static async Task<RetentionRun> ApplyAsync(
        JobStorage storage, DurableTaskClient? client, RetentionOptions options, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Results first: purging them deletes the inputs too and records both, so the second pass skips those jobs.
        IReadOnlyList<string> results = options.ResultDays > 0
            ? await PurgeAsync(storage, client, now.AddDays(-options.ResultDays), results: true, cancellationToken).ConfigureAwait(false)
            : [];
        IReadOnlyList<string> inputs = options.InputDays > 0
            ? await PurgeAsync(storage, client, now.AddDays(-options.InputDays), results: false, cancellationToken).ConfigureAwait(false)
            : [];
        return new RetentionRun(inputs, results);
    }
}
