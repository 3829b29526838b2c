using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Viewer;

/// <summary>
/// One iteration's image: its 0-based index, its URL relative to the job's view page (the full image, for download) and,
/// for an image larger than <see cref="Imaging.ImagePreview.LongSide"/>, the URL of its downscaled preview, which the page shows instead.
/// </summary>
public sealed record IterationView(int I, string Url)
{
    // Left out when null, so a job without large images has the same view.json as before previews existed.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Preview { get; init; }
}

/// <summary>An input image of a pair: its blob name as the request wrote it and its URL.</summary>
public sealed record InputView(string Blob, string Url);

/// <summary>One tile of a tiled stage: where it lies in the stage's image (px) and whether the current iteration finished it.</summary>
public sealed record TileView(int Top, int Left, int Height, int Width, bool Done);

/// <summary>A tiled stage's progress: the iteration being computed, the stage's size and its tiles.</summary>
public sealed record TileProgressView(int Iteration, int Height, int Width, IReadOnlyList<TileView> Tiles);

/// <summary>
/// One pair as the viewer shows it. URLs are relative to the view page (<c>files/...</c>); the page adds the
/// Functions key when it has one.
/// </summary>
public sealed record PairView(
    string PairId, string State, string? Error, InputView? Content, IReadOnlyList<InputView> Styles,
    IReadOnlyList<IterationView> Iterations, IReadOnlyList<LossRow> Loss, double? SecondsPerEvaluation,
    string? Final, string? LossCsv)
{
    /// <summary>The final image's downscaled preview (an image larger than <see cref="Imaging.ImagePreview.LongSide"/>), shown instead of it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FinalPreview { get; init; }

    /// <summary>While a tiled stage runs: which tiles of its current iteration are done; null otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TileProgressView? Tiles { get; init; }
}

/// <summary>
/// The viewer's model of a job, read from its blobs (job.json, the iteration images, loss.csv); the same for the
/// Functions app and the local server.
/// </summary>
public sealed record JobView(
    string JobId, string State, string? Reason, int? IterationsPlanned, string JobJson, string? ContactSheet,
    IReadOnlyList<PairView> Pairs)
{
    /// <summary>The loss network that ran the job (name, SHA-256 of its model, where it came from), once validated.</summary>
    public NetworkIdentity? Network { get; init; }

    /// <summary>When the job was recorded (job.json's <c>created</c>).</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>What was asked, also for a job refused at validation, which has no pairs to show.</summary>
    public JobRequest? Request { get; init; }

    /// <summary>Web names; NaN and infinities (a diverged run) are written as strings rather than failing the page.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The job's view, or null when it has no job.json (no such job, or one that has not been recorded yet).</summary>
    public static async Task<JobView?> LoadAsync(JobStorage storage, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!JobIds.IsValid(jobId))
        {
            throw new InvalidJobPathException($"'{jobId}' is not a job id (lowercase letters, digits and '-', at most 64).");
        }

        JobDocument? job;
        try
        {
            job = await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false);
        }
        catch (JobDocumentException e)
        {
            throw new JobViewException(e.Message, e);
        }

        if (job is null)
        {
            return null;
        }

        var files = await storage.Results.ListFilesAsync(jobId, cancellationToken).ConfigureAwait(false);
        var pairs = new List<PairView>();
        foreach (var pair in job.Pairs.Where(p => IsSafeSegment(p.PairId)))
        {
            pairs.Add(await LoadPairAsync(storage, jobId, pair, files.Pair(pair.PairId), files, cancellationToken).ConfigureAwait(false));
        }

        return new JobView(
            jobId, job.State.ToString(), job.Reason, job.Request?.Iterations, JobFiles.Url(files.JobJson.PathInJob),
            files.ContactSheet is { } sheet ? JobFiles.Url(sheet.PathInJob) : null, pairs)
        {
            Network = job.Network,
            Created = job.Created,
            Request = job.Request,
        };
    }

    /// <summary>The view as JSON with <see cref="JsonOptions"/>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static async Task<PairView> LoadPairAsync(
        JobStorage storage, string jobId, PairDocument pair, PairResultFiles files, JobResultFiles all, CancellationToken cancellationToken)
    {
        // A coarse-to-fine pair keeps each stage in a folder of its own: the files are the latest stage's, the one being
        // painted (its final image is the pair's).
        // A poster's images are for download: the page shows their previews (an 8k PNG is 100-200 MB).
        var iterations = files.Iterations.Select(i => new IterationView(i.Iteration, JobFiles.Url(i.Image.PathInJob))
        {
            Preview = all.PreviewOf(i.Image) is { } preview ? JobFiles.Url(preview.PathInJob) : null,
        }).ToList();
        var loss = files.LossLog is { } lossLog && await storage.Results.TryReadAsync(lossLog, cancellationToken).ConfigureAwait(false) is { } csv
            ? ParseLoss(csv.ToString(), $"{storage.Options.Container(storage.Options.Results)}/{lossLog.Name}")
            : [];
        double? secondsPerEvaluation = null;
        if (iterations.Count > 0
            && await storage.Work.TryReadOutcomeAsync(jobId, files.Folder, iterations[^1].I, cancellationToken).ConfigureAwait(false) is { SecondsPerEvaluation: > 0 } outcome)
        {
            secondsPerEvaluation = outcome.SecondsPerEvaluation;
        }

        var final = files.FinalImage is { } image ? JobFiles.Url(image.PathInJob) : null;

        // A pair whose job has not ended yet shows Completed as soon as its final image is there.
        var state = pair.State is JobState.Completed or JobState.Failed or JobState.Canceled
            ? pair.State.ToString()
            : final is not null ? nameof(JobState.Completed) : nameof(JobState.Running);
        return new PairView(
            pair.PairId, state, pair.Error,
            pair.Content is null ? null : new InputView(pair.Content, JobFiles.InputUrl(pair.Content)),
            [.. pair.Styles.Select(s => new InputView(s.Blob, JobFiles.InputUrl(s.Blob)))],
            iterations, loss, secondsPerEvaluation, final,
            files.LossLog is null ? null : JobFiles.Url(files.LossLog.PathInJob))
        {
            FinalPreview = files.FinalImage is { } full && all.PreviewOf(full) is { } finalPreview ? JobFiles.Url(finalPreview.PathInJob) : null,
            Tiles = state == nameof(JobState.Running) ? await TileProgressAsync(storage, jobId, files.Folder, iterations.Count > 0 ? iterations[^1].I + 1 : 0, cancellationToken).ConfigureAwait(false) : null,
        };
    }

    /// <summary>The running stage's tiles and which of them finished the iteration after the last image; null for an untiled stage.</summary>
    private static async Task<TileProgressView?> TileProgressAsync(JobStorage storage, string jobId, string folder, int iteration, CancellationToken cancellationToken)
    {
        if (await storage.Work.TryReadTileGridAsync(jobId, folder, cancellationToken).ConfigureAwait(false) is not { } grid)
        {
            return null;
        }

        var done = await storage.Work.TilesDoneAsync(jobId, folder, iteration, cancellationToken).ConfigureAwait(false);
        return new TileProgressView(iteration, grid.Height, grid.Width, [.. grid.Tiles.Select((t, k) => new TileView(t.Top, t.Left, t.Height, t.Width, done.Contains(k)))]);
    }

    /// <summary>A pair's loss rows (<see cref="LossCsv"/>); a malformed file fails the view, naming it.</summary>
    private static IReadOnlyList<LossRow> ParseLoss(string text, string source)
    {
        try
        {
            return LossCsv.Parse(text, source);
        }
        catch (LossCsvException e)
        {
            throw new JobViewException(e.Message, e);
        }
    }

    internal static bool IsSafeSegment(string segment) =>
        segment.Length is > 0 and <= 128 && segment is not ("." or "..")
        && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>Thrown when a job's blobs cannot be read as the layout says (a malformed job.json or loss.csv).</summary>
public sealed class JobViewException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Thrown for a request the viewer refuses: a malformed job id, or a file path outside the job.</summary>
public sealed class InvalidJobPathException(string message) : Exception(message);
