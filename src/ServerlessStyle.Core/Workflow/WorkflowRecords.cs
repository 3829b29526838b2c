namespace ServerlessStyle.Core.Workflow;

// The records the orchestrations pass around: names and numbers only, never pixels (images, targets and optimiser
// state live in blobs; see BlobLayout). They are serialised into Durable history, so they stay small.

/// <summary>Orchestration settings carried in the input, so orchestrators never read configuration.</summary>
public sealed record WorkflowSettings(
    int ChunksPerGeneration = 20, int RetryAttempts = 3, double RetryFirstIntervalSeconds = 5, double RetryBackoffCoefficient = 2);

/// <summary>The StyleJob orchestration's input.</summary>
public sealed record JobInput(string JobId, JobRequest Request, WorkflowSettings Settings);

/// <summary>
/// One (content, styles) combination that becomes one result image and one StylePair orchestration;
/// <see cref="Start"/> is set only on a later stage of a coarse-to-fine pair: where that stage begins.
/// </summary>
public sealed record PairPlan(int Index, string PairId, string Content, IReadOnlyList<StyleInput> Styles, StageStart? Start = null);

/// <summary>What ValidateJob found: the pairs to run.</summary>
public sealed record JobPlan(string JobId, IReadOnlyList<PairPlan> Pairs)
{
    /// <summary>Expands a valid request into pairs: content x style for "each", one per content for "blend".</summary>
    public static JobPlan Create(string jobId, JobRequest request)
    {
        var pairs = new List<PairPlan>();
        foreach (var content in request.Content)
        {
            if (request.StyleMode == StyleMode.Blend)
            {
                var index = pairs.Count;
                pairs.Add(new PairPlan(index, BlobLayout.PairId(index, BlobLayout.Stem(content)), content, request.Styles));
                continue;
            }

            foreach (var style in request.Styles)
            {
                var index = pairs.Count;
                var label = request.Content.Count == 1
                    ? BlobLayout.Stem(style.Blob)
                    : $"{BlobLayout.Stem(content)}-{BlobLayout.Stem(style.Blob)}";
                pairs.Add(new PairPlan(index, BlobLayout.PairId(index, label), content, [style]));
            }
        }

        return new JobPlan(jobId, pairs);
    }
}

/// <summary>
/// The StylePair orchestration's input. <see cref="NextChunk"/> and <see cref="Generation"/> advance across
/// ContinueAsNew; <see cref="LastOutcome"/> carries the latest progress into the next generation's status;
/// <see cref="Stage"/> and <see cref="StageStart"/> say which coarse-to-fine stage the pair is in and where it began.
/// </summary>
public sealed record PairInput(
    string JobId, PairPlan Pair, JobRequest Request, WorkflowSettings Settings,
    int NextChunk = 0, int Generation = 0, ChunkOutcome? LastOutcome = null, int Stage = 0, StageStart? StageStart = null);

/// <summary>PrepareTargets' answer: whether the targets were computed now or found from an earlier attempt.</summary>
public sealed record PairPrepared(string PairId, bool AlreadyPresent);

/// <summary>RunChunk's input: chunk <see cref="Iteration"/> reads state-i and writes state-(i+1).</summary>
public sealed record ChunkInput(string JobId, PairPlan Pair, JobRequest Request, int Iteration);

/// <summary>
/// One chunk's result. <see cref="Evaluations"/> counts all evaluations of the pair so far;
/// <see cref="Seconds"/> is the compute time the activity measured (0 when <see cref="Reused"/>).
/// </summary>
public sealed record ChunkOutcome(
    int Iteration, int Evaluations, double Loss, string Image, double Seconds, double SecondsPerEvaluation,
    bool Converged, bool Reused);

/// <summary>A finished pair: where its final image and loss log are.</summary>
public sealed record PairResult(string PairId, string FinalImage, string LossLog, int Iterations, int Evaluations, double Loss);

/// <summary>How a job ended.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<JobState>))]
public enum JobState
{
    Running,
    Completed,
    Failed,
}

/// <summary>One pair in the summary: its result, or why it failed.</summary>
public sealed record PairSummary(string PairId, JobState State, PairResult? Result, string? Error);

/// <summary>The StyleJob orchestration's output and the content of job.json when it ends.</summary>
public sealed record JobSummary(string JobId, JobState State, string? Reason, IReadOnlyList<PairSummary> Pairs);

/// <summary>The StylePair custom status: small on purpose (Durable caps custom status at 16 KB).</summary>
public sealed record PairStatus(
    string PairId, int Iteration, int Total, double? Loss, string? LatestImage, double? SecondsPerEvaluation, int Generation);

/// <summary>The StyleJob custom status: the phase and the pair instance ids, so a status query can find the pairs.</summary>
public sealed record JobStatus(string Phase, IReadOnlyList<string> PairInstanceIds);
