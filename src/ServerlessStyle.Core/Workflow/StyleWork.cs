using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The activities' work over real parts: images and checkpoints in Blob Storage, the loss from the ONNX engine, the
/// steps from the optimiser. Every method can run twice (activities are at-least-once): checkpoints are immutable
/// and written last, so a re-run finds state-(i+1) and returns the stored outcome instead of computing again.
/// </summary>
public sealed class StyleWork(
    BlobStore store, StyleEngine engine, IOptions<StorageOptions> storage, IOptions<LimitsOptions> limits, ILogger<StyleWork> logger)
    : IStyleWork
{
    private static readonly JsonSerializerOptions Json = new(JobRequestParser.JsonOptions) { WriteIndented = true };

    // A pair's chunks usually run one after another in the same process: keep its targets in memory (the checkpoint
    // store keeps the state), so the next chunk downloads neither.
    private readonly ConcurrentDictionary<string, StyleTargets> _targets = new(StringComparer.Ordinal);

    private static JsonSerializerOptions JsonRequestParserOptions => JobRequestParser.JsonOptions;

    /// <summary>This worker's checkpoints (tests wait for an upload behind through it).</summary>
    internal CheckpointStore Checkpoints { get; } = new(store.Service.GetBlobContainerClient(storage.Value.Container(storage.Value.Work)), logger);

    private StorageOptions Storage => storage.Value;

    private string Results => Storage.Container(Storage.Results);

    private string Work => Storage.Container(Storage.Work);

    /// <inheritdoc />
    public async Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        var request = input.Request;
        JobRequestParser.Validate(request, limits.Value);
        engine.GetNetwork(request);
        for (var i = 0; i < request.Content.Count; i++)
        {
            await LoadImageAsync(request.Content[i], request.Content.Count == 1 ? "content" : $"content[{i}]", cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < request.Styles.Count; i++)
        {
            await LoadImageAsync(request.Styles[i].Blob, $"styles[{i}].blob", cancellationToken).ConfigureAwait(false);
        }

        if (request.Init is not (InitChoices.Content or InitChoices.Noise or InitChoices.Style))
        {
            await LoadImageAsync(request.Init, "init", cancellationToken).ConfigureAwait(false);
        }

        var plan = JobPlan.Create(input.JobId, request);
        await store.EnsureContainerAsync(Results, cancellationToken).ConfigureAwait(false);
        await store.EnsureContainerAsync(Work, cancellationToken).ConfigureAwait(false);
        var job = new JsonObject
        {
            ["jobId"] = input.JobId,
            ["state"] = nameof(JobState.Running),
            ["request"] = JsonSerializer.SerializeToNode(request, JsonRequestParserOptions),
            ["pairs"] = JsonSerializer.SerializeToNode(plan.Pairs, JsonRequestParserOptions),
        };
        await store.UploadAsync(Results, BlobLayout.JobJson(input.JobId), BinaryData.FromString(job.ToJsonString(Json)), cancellationToken).ConfigureAwait(false);
        return plan;
    }

    /// <inheritdoc />
    public async Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request) = (input.JobId, input.Pair, input.Request);
        var state0 = BlobLayout.State(jobId, pair.PairId, 0);
        if (await Checkpoints.ExistsAsync(state0, cancellationToken).ConfigureAwait(false))
        {
            return new PairPrepared(pair.PairId, AlreadyPresent: true);
        }

        var network = engine.GetNetwork(request);
        var contentImage = await LoadImageAsync(pair.Content, "content", cancellationToken).ConfigureAwait(false);
        var content = ImageLoader.LoadToHeight(contentImage, request.Height, Limits);

        // Keras resizes the style image to exactly the output size before taking its Grams; styleScale resizes it
        // relative to that size (ComputeTargets rescales a Gram of another size by the ratio of positions).
        var (styleHeight, styleWidth) = StyleSize(content.Height, content.Width, request.StyleScale);
        var styles = new List<(ImageTensor Image, double Weight)>();
        foreach (var style in pair.Styles)
        {
            var bytes = await LoadImageAsync(style.Blob, "styles", cancellationToken).ConfigureAwait(false);
            styles.Add((ImageLoader.LoadExact(bytes, styleHeight, styleWidth, Limits), style.Weight));
        }

        // Layer normalisation (resnet18) is measured at the content whatever the start point: init changes where the
        // optimiser starts, not the loss it minimises (at an init of the style itself every layer's loss would be 0).
        var start = await StartPointAsync(jobId, request, pair, content, cancellationToken).ConfigureAwait(false);
        var targets = engine.Evaluator.ComputeTargets(network, content, styles);
        using (var buffer = new MemoryStream())
        {
            targets.WriteTo(buffer);
            await store.UploadAsync(Work, BlobLayout.Targets(jobId, pair.PairId), BinaryData.FromBytes(buffer.ToArray()), cancellationToken).ConfigureAwait(false);
        }

        BoundedCache.Remember(_targets, BlobLayout.Targets(jobId, pair.PairId), targets);
        // Written now, not behind: every later checkpoint can be rebuilt from this one.
        var state = OptimizerState.Create(ToOptimizerSettings(request.Optimizer), start.Data);
        await Checkpoints.WriteAsync(state0, state, cancellationToken).ConfigureAwait(false);
        await LossLog.WriteHeaderAsync(LossLogBlob(jobId, pair.PairId), cancellationToken).ConfigureAwait(false);
        return new PairPrepared(pair.PairId, AlreadyPresent: false);
    }

    /// <inheritdoc />
    public async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request, i) = (input.JobId, input.Pair, input.Request, input.Iteration);
        var nextState = BlobLayout.State(jobId, pair.PairId, i + 1);
        var outcomeBlob = OutcomeBlob(jobId, pair.PairId, i);
        if (await Checkpoints.ExistsAsync(nextState, cancellationToken).ConfigureAwait(false)
            && await store.TryDownloadAsync(Work, outcomeBlob, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return JsonSerializer.Deserialize<ChunkOutcome>(stored.Content.ToString(), JsonRequestParserOptions)! with { Reused = true, Seconds = 0 };
        }

        var phase = Stopwatch.StartNew();
        var network = engine.GetNetwork(request);
        var targets = await LoadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        var weights = Weights(request, network);

        // Taken, not shared: the optimiser advances it in place, so a failed attempt must not leave it for the retry.
        var stateName = BlobLayout.State(jobId, pair.PairId, i);
        var state = await Checkpoints.TryTakeAsync(stateName, 3 * targets.Height * targets.Width, cancellationToken).ConfigureAwait(false)
            ?? await RebuildStateAsync(jobId, pair, request, i, targets, cancellationToken).ConfigureAwait(false);
        var loadSeconds = phase.Elapsed.TotalSeconds;

        var rows = new StringBuilder();
        var evaluation = state.Evaluations;
        var evaluationSeconds = 0.0;
        var clock = Stopwatch.StartNew();
        var objective = Objective(network, targets, weights, (terms, seconds) =>
        {
            evaluation++;
            evaluationSeconds += seconds;
            rows.Append(CultureInfo.InvariantCulture, $"{evaluation},{i},{terms.Content:R},{terms.Style:R},{terms.TotalVariation:R},{terms.Total:R}\n");
        });
        var result = await ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false);
        var computeSeconds = clock.Elapsed.TotalSeconds;

        // The image of an iteration is the optimiser's accepted iterate, never a line-search trial point.
        phase.Restart();
        var image = BlobLayout.IterationImage(jobId, pair.PairId, i);
        var count = result.Losses.Count;
        var outcome = new ChunkOutcome(
            i, result.State.Evaluations, result.State.Loss ?? (count > 0 ? result.Losses[^1] : double.NaN), $"{Storage.Results}/{image}",
            computeSeconds, count > 0 ? evaluationSeconds / count : 0, result.State.Converged, Reused: false);
        // The state is only read until this activity returns (the next chunk advances it), so the image needs no copy.
        var imageTensor = new ImageTensor(targets.Height, targets.Width, result.State.X);
        await Task.WhenAll(
            Task.Run(async () =>
            {
                var png = await ToPngAsync(request, pair, imageTensor, cancellationToken).ConfigureAwait(false);
                await store.UploadAsync(Results, image, BinaryData.FromBytes(png), cancellationToken).ConfigureAwait(false);
            }, cancellationToken),
            LossLog.WriteIterationAsync(LossLogBlob(jobId, pair.PairId), i, rows.ToString(), cancellationToken),
            store.UploadAsync(Work, outcomeBlob, BinaryData.FromString(JsonSerializer.Serialize(outcome, JsonRequestParserOptions)), cancellationToken),
            StoreNextStateAsync(stateName, nextState, result.State, cancellationToken))
            .ConfigureAwait(false);

        logger.LogInformation(
            "Chunk {Iteration} of {PairId}: load {Load:F3} s, optimiser loop {Loop:F3} s of which evaluations {Evaluations:F3} s, outputs and checkpoint {Outputs:F3} s",
            i, pair.PairId, loadSeconds, computeSeconds, evaluationSeconds, phase.Elapsed.TotalSeconds);
        return outcome;
    }

    /// <inheritdoc />
    public async Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair) = (input.JobId, input.Pair);
        var targets = await LoadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);

        // The last chunk usually ran in this process and left its state in memory: a full checkpoint download (up to
        // ~290 MB at 1024 px) is only needed when it did not. A later coarse-to-fine stage starts from this state, so it
        // must be stored before the pair is reported done.
        var stateName = BlobLayout.State(jobId, pair.PairId, input.NextChunk);
        var state = await Checkpoints.TryTakeAsync(stateName, 3 * targets.Height * targets.Width, cancellationToken).ConfigureAwait(false)
            ?? await RebuildStateAsync(jobId, pair, input.Request, input.NextChunk, targets, cancellationToken).ConfigureAwait(false);
        if (!await Checkpoints.FlushAsync(stateName, cancellationToken).ConfigureAwait(false))
        {
            await Checkpoints.WriteAsync(stateName, state, cancellationToken).ConfigureAwait(false);
        }

        var final = BlobLayout.FinalImage(jobId, pair.PairId);
        var png = await ToPngAsync(input.Request, pair, new ImageTensor(targets.Height, targets.Width, state.X), cancellationToken).ConfigureAwait(false);
        await store.UploadAsync(Results, final, BinaryData.FromBytes(png), cancellationToken).ConfigureAwait(false);
        _targets.TryRemove(BlobLayout.Targets(jobId, pair.PairId), out _);
        return new PairResult(
            pair.PairId, $"{Storage.Results}/{final}", $"{Storage.Results}/{BlobLayout.LossLog(jobId, pair.PairId)}",
            input.NextChunk, state.Evaluations, state.Loss ?? double.NaN);
    }

    /// <summary>
    /// Stores the state a chunk ended with. Chunk i reports done only once its own start point, state-i, is stored
    /// (its upload ran behind, during this chunk); state-(i+1) is then uploaded behind, during the next chunk. If this
    /// process dies before that upload lands, state-(i+1) is rebuilt from state-i (<see cref="RebuildStateAsync"/>).
    /// </summary>
    private async Task StoreNextStateAsync(string stateName, string nextState, OptimizerState state, CancellationToken cancellationToken)
    {
        if (await Checkpoints.FlushAsync(stateName, cancellationToken).ConfigureAwait(false))
        {
            await Checkpoints.WriteBehindAsync(nextState, state, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // state-i's upload failed: store state-(i+1) now, so that a stored state never lags more than one chunk.
            await Checkpoints.WriteAsync(nextState, state, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// state-i was uploaded behind by a worker that stopped before the upload landed: recomputes chunk i - 1 from
    /// state-(i-1), which that chunk stored before it reported done. The optimiser and the engine are deterministic on
    /// one machine, so the rebuilt state is the lost one; its image and loss rows were written when it first ran.
    /// </summary>
    private async Task<OptimizerState> RebuildStateAsync(
        string jobId, PairPlan pair, JobRequest request, int iteration, StyleTargets targets, CancellationToken cancellationToken)
    {
        var name = BlobLayout.State(jobId, pair.PairId, iteration);
        var previousName = BlobLayout.State(jobId, pair.PairId, iteration - 1);
        var length = 3 * targets.Height * targets.Width;
        var previous = iteration > 0 ? await Checkpoints.TryTakeAsync(previousName, length, cancellationToken).ConfigureAwait(false) : null;
        if (previous is null)
        {
            throw new InvalidOperationException(
                $"{Work}/{name} is missing and cannot be rebuilt: {(iteration > 0 ? $"{Work}/{previousName} is missing too" : "PrepareTargets did not run for this pair")}.");
        }

        logger.LogWarning("Checkpoint {Name} was lost before its upload finished; rebuilding it from {Previous}.", name, previousName);
        var network = engine.GetNetwork(request);
        var objective = Objective(network, targets, Weights(request, network), (_, _) => { });
        await ChunkRunner.RunChunkAsync(previous, objective, request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false);

        // Another attempt may have stored it meanwhile: then continue from the stored one, as every other worker will.
        await Checkpoints.WriteAsync(name, previous, cancellationToken).ConfigureAwait(false);
        return await Checkpoints.TryTakeAsync(name, length, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work}/{name} vanished after it was written.");
    }

    /// <summary>The loss and gradient from the engine; <paramref name="evaluated"/> hears each evaluation's terms and seconds.</summary>
    private Objective Objective(LossNetwork network, StyleTargets targets, LossWeights weights, Action<LossTerms, double> evaluated) =>
        (x, gradient, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            var terms = engine.Evaluator.Evaluate(network, targets, weights, x.Span, gradient.Span);
            evaluated(terms, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return ValueTask.FromResult(terms.Total);
        };

    /// <inheritdoc />
    public async Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default)
    {
        await store.EnsureContainerAsync(Results, cancellationToken).ConfigureAwait(false);
        await WriteContactSheetAsync(summary.JobId, cancellationToken).ConfigureAwait(false);
        var name = BlobLayout.JobJson(summary.JobId);
        var existing = await store.TryDownloadAsync(Results, name, cancellationToken).ConfigureAwait(false);
        var job = existing is { } e ? JsonNode.Parse(e.Content.ToString())!.AsObject() : new JsonObject { ["jobId"] = summary.JobId };
        job["state"] = summary.State.ToString();
        job["reason"] = summary.Reason;
        job["pairs"] = JsonSerializer.SerializeToNode(summary.Pairs, JsonRequestParserOptions);
        await store.UploadAsync(Results, name, BinaryData.FromString(job.ToJsonString(Json)), cancellationToken).ConfigureAwait(false);
    }

    // Written before the final job.json, so that a viewer which stops polling at the final state already finds it; a
    // sheet that cannot be drawn is logged, not allowed to fail a finished job.
    private async Task WriteContactSheetAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await Viewer.JobContactSheet.WriteAsync(store, Storage, jobId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Job {JobId}: no contact sheet: {Reason}", jobId, e.Message);
        }
    }

    /// <summary>The style images' size for a style scale: the output size times the scale, rounded, at least 1 px.</summary>
    public static (int Height, int Width) StyleSize(int height, int width, double styleScale) =>
        (Math.Max(1, (int)Math.Round(height * styleScale, MidpointRounding.AwayFromZero)),
         Math.Max(1, (int)Math.Round(width * styleScale, MidpointRounding.AwayFromZero)));

    /// <summary>
    /// The optimiser's first point at the content's size: a later stage's previous result, the content (Keras), uniform noise from the seed, the pair's
    /// heaviest style (the first on ties) or an image blob, both resized to exactly the output size.
    /// </summary>
    private async Task<ImageTensor> StartPointAsync(string jobId, JobRequest request, PairPlan pair, ImageTensor content, CancellationToken cancellationToken)
    {
        if (pair.Start is { } previous)
        {
            // A later coarse-to-fine stage: the previous stage's result as its image shows it (clipped, rounded, before
            // any colour preservation), upscaled with the same resampler as every input.
            var before = await LoadTargetsAsync(jobId, previous.PairId, cancellationToken).ConfigureAwait(false);
            var lastName = BlobLayout.State(jobId, previous.PairId, previous.Chunk);
            var last = await Checkpoints.TryTakeAsync(lastName, 3 * before.Height * before.Width, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{Work}/{lastName} is missing: the previous stage did not finish.");
            var png = ImageWriter.ToPng(new ImageTensor(before.Height, before.Width, last.X));
            return ImageLoader.LoadExact(png, content.Height, content.Width, Limits);
        }

        switch (request.Init)
        {
            case InitChoices.Content:
                return content;
            case InitChoices.Noise:
                return Noise(content.Height, content.Width, request.Seed);
            case InitChoices.Style:
                var heaviest = pair.Styles.First(s => s.Weight == pair.Styles.Max(t => t.Weight));
                var style = await LoadImageAsync(heaviest.Blob, "styles", cancellationToken).ConfigureAwait(false);
                return ImageLoader.LoadExact(style, content.Height, content.Width, Limits);
            default:
                var bytes = await LoadImageAsync(request.Init, "init", cancellationToken).ConfigureAwait(false);
                return ImageLoader.LoadExact(bytes, content.Height, content.Width, Limits);
        }
    }

    /// <summary>Uniform noise over 0..255 per channel in the optimisation space; the same seed gives the same image.</summary>
    public static ImageTensor Noise(int height, int width, int seed)
    {
        // Random(seed) is the stable legacy generator: its sequence for a seed does not change between .NET versions.
        var random = new Random(seed);
        var plane = height * width;
        var data = new float[3 * plane];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = random.NextSingle() * 255f - CaffeSpace.Mean[i / plane];
        }

        return new ImageTensor(height, width, data);
    }

    /// <summary>A saved image: the state as it is, or with the content's colours when the request asks for them.</summary>
    private async Task<byte[]> ToPngAsync(JobRequest request, PairPlan pair, ImageTensor image, CancellationToken cancellationToken)
    {
        if (!request.PreserveColors)
        {
            return ImageWriter.ToPng(image);
        }

        // Read again rather than stored in work/: the same bytes resized the same way give the same tensor.
        var bytes = await LoadImageAsync(pair.Content, "content", cancellationToken).ConfigureAwait(false);
        var content = ImageLoader.LoadExact(bytes, image.Height, image.Width, Limits);
        return ImageWriter.ToPng(ColorPreservation.Apply(image, content));
    }

    private ImageLimits Limits => new() { MaxBytes = limits.Value.MaxInputBytes, MaxPixels = limits.Value.MaxInputPixels };

    /// <summary>Reads an input image blob named by the request and checks it decodes within the limits; bad input names the field.</summary>
    private async Task<byte[]> LoadImageAsync(string logicalName, string field, CancellationToken cancellationToken)
    {
        var (container, name) = Split(logicalName);
        var blob = store.Service.GetBlobContainerClient(container).GetBlobClient(name);
        try
        {
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (properties.Value.ContentLength > limits.Value.MaxInputBytes)
            {
                throw new JobRequestException(field, $"{logicalName} has {properties.Value.ContentLength} bytes, over the limit of {limits.Value.MaxInputBytes}.");
            }

            var content = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            var bytes = content.Value.Content.ToArray();
            using var image = ImageLoader.Decode(bytes, Limits);
            return bytes;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new JobRequestException(field, $"{logicalName} does not exist.", e);
        }
        catch (InvalidImageException e)
        {
            throw new JobRequestException(field, $"{logicalName}: {e.Message}", e);
        }
    }

    /// <summary>A request's blob name is "{logical container}/{path}"; the configured prefix makes the real container.</summary>
    private (string Container, string Name) Split(string logicalName)
    {
        var slash = logicalName.IndexOf('/', StringComparison.Ordinal);
        return (Storage.Container(logicalName[..slash]), logicalName[(slash + 1)..]);
    }

    private async Task<StyleTargets> LoadTargetsAsync(string jobId, string pairId, CancellationToken cancellationToken)
    {
        var name = BlobLayout.Targets(jobId, pairId);
        if (_targets.TryGetValue(name, out var cached))
        {
            return cached;
        }

        var blob = await store.TryDownloadAsync(Work, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work}/{name} is missing: PrepareTargets did not run for this pair.");
        using var stream = blob.Content.ToStream();
        var targets = StyleTargets.ReadFrom(stream);
        BoundedCache.Remember(_targets, name, targets);
        return targets;
    }

    private BlockBlobClient LossLogBlob(string jobId, string pairId) =>
        store.Service.GetBlobContainerClient(Results).GetBlockBlobClient(BlobLayout.LossLog(jobId, pairId));

    private static string OutcomeBlob(string jobId, string pairId, int iteration) => BlobLayout.ChunkOutcome(jobId, pairId, iteration);

    private static LossWeights Weights(JobRequest request, LossNetwork network) => new(
        (request.ContentWeight ?? network.DefaultWeights.Content) * (request.ContentLayers?[0].Weight ?? 1.0),
        request.StyleWeight ?? network.DefaultWeights.Style,
        request.TvWeight ?? network.DefaultWeights.TotalVariation);

    private static Optimization.OptimizerSettings ToOptimizerSettings(OptimizerSettings settings) => new(
        settings.Kind == OptimizerKind.Adam ? Optimization.OptimizerKind.Adam : Optimization.OptimizerKind.Lbfgs,
        settings.History,
        settings.RestartEachIteration);
}
