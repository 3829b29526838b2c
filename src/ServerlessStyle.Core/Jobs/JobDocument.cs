using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Jobs;

/// <summary>Where a job stands; job.json, the status API and the viewer use these names.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobState>))]
public enum JobState
{
    /// <summary>Recorded, not yet validated by the StyleJob orchestration.</summary>
    Submitted,
    Running,
    Completed,
    Failed,
    Canceled,
}

/// <summary>
/// One chunk's result. <see cref="Evaluations"/> counts all evaluations of the pair so far;
/// <see cref="Seconds"/> is the compute time the activity measured (0 when <see cref="Reused"/>). Stored beside the
/// checkpoints and read back by re-runs, possibly by another version of the app after a deploy: read with
/// <see cref="JobDocument.JsonOptions"/>, which ignores fields it does not know and leaves missing ones at their defaults.
/// </summary>
public sealed record ChunkOutcome(
    int Iteration, int Evaluations, double Loss, string Image, double Seconds, double SecondsPerEvaluation,
    bool Converged, bool Reused)
{
    /// <summary>The stored form's version.</summary>
    public int Version { get; init; } = 1;
}

/// <summary>A finished pair: where its final image and loss log are.</summary>
public sealed record PairResult(string PairId, string FinalImage, string LossLog, int Iterations, int Evaluations, double Loss);

/// <summary>One pair in the summary: its result, or why it failed.</summary>
public sealed record PairSummary(string PairId, JobState State, PairResult? Result, string? Error);

/// <summary>How a job ended: the StyleJob orchestration's output.</summary>
public sealed record JobSummary(string JobId, JobState State, string? Reason, IReadOnlyList<PairSummary> Pairs);

/// <summary>One pair of a job as job.json records it: its inputs, and once it ended its result or error.</summary>
public sealed record PairDocument(
    string PairId, string? Content, IReadOnlyList<StyleInput> Styles, JobState State, PairResult? Result = null, string? Error = null);

/// <summary>
/// The typed <c>results/{job}/job.json</c>: the request, the state, and each pair. Every writer builds it through the
/// methods here and stores it with <see cref="Storage.JobDocumentStore"/>; every reader reads it back as this record.
/// </summary>
public sealed record JobDocument
{
    /// <summary>camelCase, enums by name, NaN allowed (a diverged loss), unknown fields ignored (written by another version).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    public int Version { get; init; } = 1;

    public required string JobId { get; init; }

    public JobState State { get; init; }

    /// <summary>Why the job failed or was canceled.</summary>
    public string? Reason { get; init; }

    /// <summary>What started the job when it is not the request itself, e.g. the inbox blob of a rejected drop.</summary>
    public string? Source { get; init; }

    /// <summary>The request as sent (null for a drop rejected before it became a request).</summary>
    public JobRequest? Request { get; init; }

    /// <summary>The loss network that ran the job, with the SHA-256 of its model blob or file (set at validation).</summary>
    public NetworkIdentity? Network { get; init; }

    public IReadOnlyList<PairDocument> Pairs { get; init; } = [];

    /// <summary>When the job was recorded (by its starter or the runner).</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>When it ended (Completed, Failed or Canceled): what retention counts from.</summary>
    public DateTimeOffset? Ended { get; init; }

    /// <summary>When its inputs, internal state and Durable history were deleted (retention, purge): retention skips it after.</summary>
    public DateTimeOffset? InputsDeleted { get; init; }

    /// <summary>When its results were deleted, leaving this record (retention, purge).</summary>
    public DateTimeOffset? ResultsDeleted { get; init; }

    /// <summary>True once the job is Completed, Failed or Canceled.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasEnded => State is JobState.Completed or JobState.Failed or JobState.Canceled;

    /// <summary>A job recorded before its orchestration validated it; its pairs are planned from the request.</summary>
    public static JobDocument Submitted(string jobId, JobRequest request) =>
        new()
        {
            JobId = jobId, State = JobState.Submitted, Request = request, Pairs = Planned(JobPlan.Create(jobId, request), JobState.Submitted),
            Created = DateTimeOffset.UtcNow,
        };

    /// <summary>A job that validation refused, as recorded before its summary: what was asked and when; no pairs, none was planned.</summary>
    public static JobDocument Refused(string jobId, JobRequest request) =>
        new() { JobId = jobId, State = JobState.Submitted, Request = request, Created = DateTimeOffset.UtcNow };

    /// <summary>A request that never became a job (a bad inbox drop): Failed with the reason, so its id still says why.</summary>
    public static JobDocument Rejected(string jobId, string source, string reason) =>
        new() { JobId = jobId, State = JobState.Failed, Reason = reason, Source = source, Created = DateTimeOffset.UtcNow, Ended = DateTimeOffset.UtcNow };

    /// <summary>The job validated: Running, with the pairs of <paramref name="plan"/> and the network that runs them.</summary>
    public JobDocument Running(JobRequest request, JobPlan plan, NetworkIdentity? network = null) =>
        this with { State = JobState.Running, Reason = null, Request = request, Pairs = Planned(plan, JobState.Running), Network = network };

    /// <summary>
    /// The job ended: its state and reason, and each pair's result or error next to its inputs. A job canceled by its
    /// user stays Canceled whatever its orchestration still wrote.
    /// </summary>
    public JobDocument WithSummary(JobSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        if (State == JobState.Canceled)
        {
            return this;
        }

        var planned = Pairs.ToDictionary(p => p.PairId, StringComparer.Ordinal);
        var pairs = summary.Pairs.Select(s => planned.TryGetValue(s.PairId, out var p)
            ? p with { State = s.State, Result = s.Result, Error = s.Error }
            : new PairDocument(s.PairId, null, [], s.State, s.Result, s.Error)).ToList();

        // A pair the summary does not name (the job failed before it started) keeps its inputs, as not run.
        pairs.AddRange(Pairs.Where(p => summary.Pairs.All(s => s.PairId != p.PairId)).Select(p => p with { State = summary.State }));
        return this with { State = summary.State, Reason = summary.Reason, Pairs = pairs, Ended = DateTimeOffset.UtcNow };
    }

    /// <summary>
    /// Canceled by its user (DELETE /api/jobs/{id}, <c>jobs cancel</c>), unless it had ended already: every pair Canceled
    /// too, except those <paramref name="finished"/> names by pair id, which keep their result as Completed.
    /// </summary>
    public JobDocument Canceled(string reason, IReadOnlyDictionary<string, PairResult>? finished = null) =>
        HasEnded
            ? this
            : this with
            {
                State = JobState.Canceled,
                Reason = reason,
                Ended = DateTimeOffset.UtcNow,
                Pairs = [.. Pairs.Select(p => finished is not null && finished.TryGetValue(p.PairId, out var result)
                    ? p with { State = JobState.Completed, Result = result }
                    : p with { State = JobState.Canceled })],
            };

    /// <summary>
    /// What stays of a job whose blobs were purged: its id, Canceled if it was still running (else its end state), and
    /// that it was purged; no request or pairs, whose blobs are gone.
    /// </summary>
    public static JobDocument Purged(JobDocument job) => new()
    {
        JobId = job.JobId,
        State = job.HasEnded ? job.State : JobState.Canceled,
        Reason = (job.Reason is null ? "" : job.Reason + "; ") + "its files were deleted (purged)",
        Created = job.Created,
        Ended = job.Ended ?? DateTimeOffset.UtcNow,
        InputsDeleted = job.InputsDeleted ?? DateTimeOffset.UtcNow,
        ResultsDeleted = DateTimeOffset.UtcNow,
    };

    /// <summary>job.json's text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads job.json; throws <see cref="JsonException"/> when it is not a job document.</summary>
    public static JobDocument Parse(string json)
    {
        var job = JsonSerializer.Deserialize<JobDocument>(json, JsonOptions) ?? throw new JsonException("job.json holds null, not a job document.");

        // A document written by an older version may leave lists out: read them as empty, never null.
        return job with { Pairs = [.. (job.Pairs ?? []).Select(p => p with { Styles = p.Styles ?? [] })] };
    }

    private static IReadOnlyList<PairDocument> Planned(JobPlan plan, JobState state) =>
        [.. plan.Pairs.Select(p => new PairDocument(p.PairId, p.Content, p.Styles, state))];
}
