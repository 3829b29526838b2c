using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Core.Viewer;

/// <summary>One iteration's image: its 0-based index and its URL relative to the job's view page.</summary>
public sealed record IterationView(int I, string Url);

/// <summary>One row of loss.csv: the loss terms after one evaluation.</summary>
public sealed record LossRow(int Evaluation, int Iteration, double Content, double Style, double Tv, double Loss);

/// <summary>An input image of a pair: its blob name as the request wrote it and its URL.</summary>
public sealed record InputView(string Blob, string Url);

/// <summary>
/// One pair as the viewer shows it. URLs are relative to the view page (<c>files/...</c>); the page adds the
/// Functions key when it has one.
/// </summary>
public sealed record PairView(
    string PairId, string State, string? Error, InputView? Content, IReadOnlyList<InputView> Styles,
    IReadOnlyList<IterationView> Iterations, IReadOnlyList<LossRow> Loss, double? SecondsPerEvaluation,
    string? Final, string? LossCsv);

/// <summary>
/// The viewer's model of a job, read from its blobs (job.json, the iteration images, loss.csv); the same for the
/// Functions app and the local server.
/// </summary>
public sealed record JobView(
    string JobId, string State, string? Reason, int? IterationsPlanned, string JobJson, string? ContactSheet,
    IReadOnlyList<PairView> Pairs)
{
    /// <summary>The contact sheet's name inside the job's results folder.</summary>
    public const string ContactSheetFile = "contact-sheet.png";

    /// <summary>Web names; NaN and infinities (a diverged run) are written as strings rather than failing the page.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The job's view, or null when it has no job.json (no such job, or one that has not been validated yet).</summary>
    public static async Task<JobView?> LoadAsync(BlobStore store, StorageOptions storage, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(storage);
        if (!JobIds.IsValid(jobId))
        {
            throw new InvalidJobPathException($"'{jobId}' is not a job id (lowercase letters, digits and '-', at most 64).");
        }

        var results = storage.Container(storage.Results);
        var blob = await store.TryDownloadAsync(results, BlobLayout.JobJson(jobId), cancellationToken).ConfigureAwait(false);
        if (blob is null)
        {
            return null;
        }

        JsonObject job;
        try
        {
            job = JsonNode.Parse(blob.Value.Content.ToString())?.AsObject() ?? throw new JobViewException($"{results}/{BlobLayout.JobJson(jobId)} is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new JobViewException($"{results}/{BlobLayout.JobJson(jobId)} is not a JSON object: {e.Message}", e);
        }

        var request = ReadRequest(job);
        var names = await store.ListAsync(results, BlobLayout.ResultsPrefix(jobId), cancellationToken).ConfigureAwait(false);
        var pairs = new List<PairView>();
        foreach (var (pairId, content, styles) in PairsOf(jobId, job, request))
        {
            pairs.Add(await LoadPairAsync(store, storage, jobId, pairId, content, styles, SummaryOf(job, pairId), names, cancellationToken).ConfigureAwait(false));
        }

        return new JobView(
            jobId, (string?)job["state"] ?? "Pending", (string?)job["reason"], request?.Iterations, JobFiles.Url(BlobLayout.JobJson(jobId)[(jobId.Length + 1)..]),
            names.Contains($"{jobId}/{ContactSheetFile}") ? JobFiles.Url(ContactSheetFile) : null, pairs);
    }

    /// <summary>The view as JSON with <see cref="JsonOptions"/>.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static async Task<PairView> LoadPairAsync(
        BlobStore store, StorageOptions storage, string jobId, string pairId, string? content, IReadOnlyList<string> styles,
        (string? State, string? Error) summary, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        // A coarse-to-fine pair keeps each stage in results/{job}/{pair}/stage-{k}-{height}/: show the latest stage,
        // the one being painted (its final image is the pair's).
        var key = LatestStage(names, jobId, pairId) ?? pairId;
        var folder = $"{jobId}/{key}/";
        var iterations = new List<IterationView>();
        foreach (var name in names.Where(n => n.StartsWith(folder, StringComparison.Ordinal)))
        {
            var file = name[folder.Length..];
            if (file.StartsWith("res_at_iteration_", StringComparison.Ordinal) && file.EndsWith(".png", StringComparison.Ordinal)
                && int.TryParse(file["res_at_iteration_".Length..^".png".Length], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                iterations.Add(new IterationView(i, JobFiles.Url($"{key}/{file}")));
            }
        }

        // Blob listings sort by name, which puts 10 before 2.
        iterations.Sort((a, b) => a.I.CompareTo(b.I));

        var results = storage.Container(storage.Results);
        var lossName = BlobLayout.LossLog(jobId, key);
        var loss = names.Contains(lossName) && await store.TryDownloadAsync(results, lossName, cancellationToken).ConfigureAwait(false) is { } csv
            ? ParseLossCsv(csv.Content.ToString(), $"{results}/{lossName}")
            : [];
        double? secondsPerEvaluation = null;
        if (iterations.Count > 0)
        {
            secondsPerEvaluation = await ReadSecondsPerEvaluationAsync(store, storage, jobId, key, iterations[^1].I, cancellationToken).ConfigureAwait(false);
        }

        var final = names.Contains(BlobLayout.FinalImage(jobId, key)) ? JobFiles.Url($"{key}/final.png") : null;
        var state = summary.State ?? (final is not null ? nameof(JobState.Completed) : nameof(JobState.Running));
        return new PairView(
            pairId, state, summary.Error,
            content is null ? null : new InputView(content, JobFiles.InputUrl(content)),
            [.. styles.Select(s => new InputView(s, JobFiles.InputUrl(s)))],
            iterations, loss, secondsPerEvaluation, final,
            names.Contains(lossName) ? JobFiles.Url($"{key}/loss.csv") : null);
    }

    /// <summary>"{pair}/stage-{k}-{height}" of the highest stage k that has blobs, or null for a single-stage pair.</summary>
    private static string? LatestStage(IReadOnlyList<string> names, string jobId, string pairId)
    {
        var prefix = $"{jobId}/{pairId}/stage-";
        string? latest = null;
        var latestIndex = -1;
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var end = name.IndexOf('/', prefix.Length);
            if (end < 0)
            {
                continue;
            }

            var folder = name[(jobId.Length + 1)..end];
            var parts = folder[(pairId.Length + "/stage-".Length)..].Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index > latestIndex)
            {
                (latest, latestIndex) = (folder, index);
            }
        }

        return latest;
    }

    /// <summary>Parses loss.csv (<see cref="BlobLayout.LossCsvHeader"/>, then one row per evaluation).</summary>
    public static IReadOnlyList<LossRow> ParseLossCsv(string text, string source = "loss.csv")
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            return [];
        }

        if (lines[0] != BlobLayout.LossCsvHeader)
        {
            throw new JobViewException($"{source}: the header is '{lines[0]}', expected '{BlobLayout.LossCsvHeader}'.");
        }

        var rows = new List<LossRow>(lines.Length - 1);
        for (var n = 1; n < lines.Length; n++)
        {
            var cells = lines[n].Split(',');
            if (cells.Length != 6
                || !int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var evaluation)
                || !int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var iteration)
                || !TryParseDouble(cells[2], out var content) || !TryParseDouble(cells[3], out var style)
                || !TryParseDouble(cells[4], out var tv) || !TryParseDouble(cells[5], out var loss))
            {
                throw new JobViewException($"{source}: line {n + 1} ('{lines[n]}') is not six numbers evaluation,iteration,content,style,tv,loss.");
            }

            rows.Add(new LossRow(evaluation, iteration, content, style, tv, loss));
        }

        return rows;
    }

    private static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static JobRequest? ReadRequest(JsonObject job)
    {
        if (job["request"] is not JsonObject request)
        {
            return null;
        }

        try
        {
            return request.Deserialize<JobRequest>(JobRequestParser.JsonOptions);
        }
        catch (JsonException)
        {
            // A job.json written by another version: the view still shows what the blobs hold, without inputs.
            return null;
        }
    }

    /// <summary>
    /// The pairs with their inputs: planned from the request when job.json has it (the summary replaces the planned
    /// pairs with results, which no longer name the inputs), else the pair ids that job.json lists.
    /// </summary>
    private static IEnumerable<(string PairId, string? Content, IReadOnlyList<string> Styles)> PairsOf(string jobId, JsonObject job, JobRequest? request)
    {
        if (request is not null && request.Content.Count > 0 && request.Styles.Count > 0)
        {
            return JobPlan.Create(jobId, request).Pairs.Select(p => (p.PairId, (string?)p.Content, (IReadOnlyList<string>)[.. p.Styles.Select(s => s.Blob)]));
        }

        return (job["pairs"] as JsonArray ?? [])
            .Select(p => (string?)p?["pairId"])
            .Where(id => id is not null && IsSafeSegment(id))
            .Select(id => (id!, (string?)null, (IReadOnlyList<string>)[]));
    }

    private static (string? State, string? Error) SummaryOf(JsonObject job, string pairId)
    {
        var entry = (job["pairs"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(p => (string?)p["pairId"] == pairId);
        return entry?["state"] is JsonValue state && state.TryGetValue<string>(out var text) ? (text, (string?)entry["error"]) : (null, null);
    }

    /// <summary>The compute seconds per evaluation that the activity measured for the latest chunk (null when unknown).</summary>
    private static async Task<double?> ReadSecondsPerEvaluationAsync(
        BlobStore store, StorageOptions storage, string jobId, string pairId, int iteration, CancellationToken cancellationToken)
    {
        var outcome = await store.TryDownloadAsync(storage.Container(storage.Work), BlobLayout.ChunkOutcome(jobId, pairId, iteration), cancellationToken).ConfigureAwait(false);
        if (outcome is null)
        {
            return null;
        }

        try
        {
            var seconds = JsonSerializer.Deserialize<ChunkOutcome>(outcome.Value.Content.ToString(), JobRequestParser.JsonOptions)?.SecondsPerEvaluation;
            return seconds is > 0 ? seconds : null;
        }
        catch (JsonException)
        {
            return null;
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
