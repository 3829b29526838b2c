using System.Text.Json;

namespace ServerlessStyle.Core.Storage;

/// <summary>How often one activity of a job was started and how often it ended (returned or threw) in any worker.</summary>
public sealed record AttemptCount(int Started, int Ended)
{
    /// <summary>Starts that never ended: the worker running them died (killed, out of memory, a native crash).</summary>
    public int Unended => Started - Ended;
}

/// <summary>
/// Counts the starts and ends of activities durably, in the work container beside the job's checkpoints, so that an
/// input that kills its worker is noticed across processes and machines: the Azure Storage backend redelivers a dead
/// worker's activity without limit, and the retry policy never sees that failure. Updates are conditioned on the
/// blob's ETag and retried, so concurrent attempts count right.
/// </summary>
public sealed class ActivityAttempts(BlobStore store, StorageOptions storage)
{
    private string Container => storage.Container(storage.Work);

    /// <summary>Records a start and returns the counts before it.</summary>
    public Task<AttemptCount> StartAsync(string jobId, string activity, CancellationToken cancellationToken = default) =>
        UpdateAsync(jobId, activity, c => c with { Started = c.Started + 1 }, cancellationToken);

    /// <summary>
    /// Records that an attempt ended, whether it returned or threw (its process is alive to say so); a counter that is
    /// gone (the job was purged meanwhile) is not made again.
    /// </summary>
    public Task EndAsync(string jobId, string activity, CancellationToken cancellationToken = default) =>
        UpdateAsync(jobId, activity, c => c.Started == 0 ? null : c with { Ended = c.Ended + 1 }, cancellationToken);

    /// <summary>The counts, or zeros when the activity never started.</summary>
    public async Task<AttemptCount> ReadAsync(string jobId, string activity, CancellationToken cancellationToken = default) =>
        Parse((await store.TryDownloadAsync(Container, BlobLayout.Attempts(jobId, activity), cancellationToken).ConfigureAwait(false))?.Content);

    private async Task<AttemptCount> UpdateAsync(string jobId, string activity, Func<AttemptCount, AttemptCount?> change, CancellationToken cancellationToken)
    {
        await store.EnsureContainerAsync(Container, cancellationToken).ConfigureAwait(false);
        var before = new AttemptCount(0, 0);
        await store.UpdateAsync(
            Container, BlobLayout.Attempts(jobId, activity),
            current => change(before = Parse(current)) is { } next ? BinaryData.FromString(JsonSerializer.Serialize(next, JsonSerializerOptions.Web)) : null,
            cancellationToken).ConfigureAwait(false);
        return before;
    }

    /// <summary>The counts in a counter blob; a missing or damaged one counts as none (it must never stop a job by itself).</summary>
    private static AttemptCount Parse(BinaryData? content)
    {
        if (content is null)
        {
            return new AttemptCount(0, 0);
        }

        try
        {
            return JsonSerializer.Deserialize<AttemptCount>(content.ToString(), JsonSerializerOptions.Web) ?? new AttemptCount(0, 0);
        }
        catch (JsonException)
        {
            return new AttemptCount(0, 0);
        }
    }
}
