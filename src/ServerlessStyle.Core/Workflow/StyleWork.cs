using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The activities' work, coordinating three parts: the pair's input images (<see cref="InputImages"/>), the storage
/// layer (<see cref="JobStorage"/>) and the engine (<see cref="StyleEngine"/>). Every method can run twice (activities
/// are at-least-once): checkpoints are immutable and written last, so a re-run finds state-(i+1) and returns the stored
/// outcome instead of computing again.
/// </summary>
public sealed class StyleWork(
    JobStorage storage, InputImages images, StyleEngine engine, IOptions<LimitsOptions> limits, IOptions<WorkflowOptions> workflow,
    ILogger<StyleWork> logger)
    : IStyleWork
{
    /// <summary>This worker's checkpoints (tests wait for an upload behind through it).</summary>
    internal CheckpointStore Checkpoints => storage.Work.Checkpoints;

    /// <inheritdoc />
    public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(input.JobId, "validate", "validating the job", () => ValidateJobCoreAsync(input, cancellationToken), cancellationToken);

    private async Task<JobPlan> ValidateJobCoreAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        try
        {
            return await CheckAndPlanAsync(input, cancellationToken).ConfigureAwait(false);
        }
        catch (JobRequestException)
        {
            // A refused job's job.json still says what was asked and when; WriteSummary adds the reason. (Without this it
            // had neither, and its page could not say what the job was.)
            await storage.Results.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            await storage.Documents.UpdateAsync(input.JobId, job => job ?? JobDocument.Refused(input.JobId, input.Request), cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<JobPlan> CheckAndPlanAsync(JobInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        JobRequestParser.Validate(request, limits.Value);
        engine.GetNetwork(request);
        var network = engine.ResolveNetwork(request.Network).Identity;
        var sizes = new List<(int Width, int Height)>();
        for (var i = 0; i < request.Content.Count; i++)
        {
            sizes.Add(await images.CheckAsync(request.Content[i], request.Content.Count == 1 ? "content" : $"content[{i}]", cancellationToken).ConfigureAwait(false));
        }

        for (var i = 0; i < request.Styles.Count; i++)
        {
            await images.CheckAsync(request.Styles[i].Blob, $"styles[{i}].blob", cancellationToken).ConfigureAwait(false);
        }

        if (request.Init is not (InitChoices.Content or InitChoices.Noise or InitChoices.Style))
        {
            await images.CheckAsync(request.Init, "init", cancellationToken).ConfigureAwait(false);
        }

        // Sizes, work and memory before any engine work: a job that would not fit is refused here, not by killing its worker.
        engine.CheckMemory(request, JobSizes.Check(request, sizes, limits.Value));
        var plan = JobPlan.Create(input.JobId, request);
        await storage.Work.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await storage.Results.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await storage.Documents.UpdateAsync(
            input.JobId, job => (job ?? JobDocument.Submitted(input.JobId, request)).Running(request, plan, network), cancellationToken).ConfigureAwait(false);
        return plan;
    }

    /// <inheritdoc />
    public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(input.JobId, $"{input.Pair.PairId}/prepare", $"preparing {input.Pair.PairId}", () => PrepareTargetsCoreAsync(input, cancellationToken), cancellationToken);

    private async Task<PairPrepared> PrepareTargetsCoreAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request) = (input.JobId, input.Pair, input.Request);
        var state0 = BlobLayout.State(jobId, pair.PairId, 0);

        // Any stored state means an earlier attempt prepared the pair: state-0 itself goes once the chunks are past it.
        if (await Checkpoints.ExistsAsync(state0, cancellationToken).ConfigureAwait(false)
            || await storage.Work.LatestStateAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false) is not null)
        {
            return new PairPrepared(pair.PairId, AlreadyPresent: true);
        }

        var network = engine.GetNetwork(request);
        var content = await images.ContentAsync(jobId, pair, request.Height, cancellationToken).ConfigureAwait(false);

        // Keras resizes the style image to exactly the output size before taking its Grams; styleScale resizes it
        // relative to that size (ComputeTargets rescales a Gram of another size by the ratio of positions).
        var (styleHeight, styleWidth) = StyleSize(content.Height, content.Width, request.StyleScale);
        var styles = new List<(ImageTensor Image, double Weight)>();
        foreach (var style in pair.Styles)
        {
            styles.Add((await images.ExactAsync(jobId, pair, style.Blob, "styles", styleHeight, styleWidth, cancellationToken).ConfigureAwait(false), style.Weight));
        }

        // Layer normalisation (resnet18) is measured at the content whatever the start point: init changes where the
        // optimiser starts, not the loss it minimises (at an init of the style itself every layer's loss would be 0).
        var start = await StartPointAsync(jobId, request, pair, content, cancellationToken).ConfigureAwait(false);
        images.KeepContentOnly(jobId, pair);
        var targets = engine.Evaluator.ComputeTargets(network, content, styles);
        await storage.Work.WriteTargetsAsync(jobId, pair.PairId, targets, cancellationToken).ConfigureAwait(false);

        // Written now, not behind: every later checkpoint can be rebuilt from this one.
        await Checkpoints.WriteAsync(state0, OptimizerState.Create(StyleEngine.OptimizerSettings(request), start.Data), cancellationToken).ConfigureAwait(false);
        await storage.Results.StartLossLogAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        return new PairPrepared(pair.PairId, AlreadyPresent: false);
    }

    /// <inheritdoc />
    public Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(input.JobId, $"{input.Pair.PairId}/chunk-{input.Iteration:0000}", $"chunk {input.Iteration} of {input.Pair.PairId}", () => RunChunkCoreAsync(input, cancellationToken), cancellationToken);

    private async Task<ChunkOutcome> RunChunkCoreAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request, i) = (input.JobId, input.Pair, input.Request, input.Iteration);
        var nextState = BlobLayout.State(jobId, pair.PairId, i + 1);

        // Done before when its outcome is stored and so is its end state, or a later one (states two chunks behind the
        // latest are deleted as the pair goes on).
        if (await storage.Work.TryReadOutcomeAsync(jobId, pair.PairId, i, cancellationToken).ConfigureAwait(false) is { } stored
            && (await Checkpoints.ExistsAsync(nextState, cancellationToken).ConfigureAwait(false)
                || await storage.Work.LatestStateAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false) > i + 1))
        {
            return stored with { Reused = true, Seconds = 0 };
        }

        var phase = Stopwatch.StartNew();
        var targets = await storage.Work.ReadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);

        // Taken, not shared: the optimiser advances it in place, so a failed attempt must not leave it for the retry.
        var stateName = BlobLayout.State(jobId, pair.PairId, i);
        var state = await TakeStateAsync(input, i, targets, cancellationToken).ConfigureAwait(false);
        var loadSeconds = phase.Elapsed.TotalSeconds;

        var rows = new StringBuilder();
        var evaluation = state.Evaluations;
        var evaluationSeconds = 0.0;
        var clock = Stopwatch.StartNew();
        var objective = engine.Objective(request, targets, (terms, seconds) =>
        {
            evaluation++;
            evaluationSeconds += seconds;
            rows.Append(CultureInfo.InvariantCulture, $"{evaluation},{i},{terms.Content:R},{terms.Style:R},{terms.TotalVariation:R},{terms.Total:R}\n");
        });
        ChunkResult result;
        using (var canceled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var watch = WatchForCancelAsync(jobId, canceled);
            try
            {
                result = await ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, canceled.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (canceled.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Nothing of this chunk is written: no image, no rows, no checkpoint.
                throw new OperationCanceledException($"Job {jobId} was canceled: chunk {i} of {pair.PairId} stopped after {state.Evaluations} evaluations, writing nothing.");
            }
            finally
            {
                await canceled.CancelAsync().ConfigureAwait(false);
                await watch.ConfigureAwait(false);
            }
        }

        var computeSeconds = clock.Elapsed.TotalSeconds;

        // The image of an iteration is the optimiser's accepted iterate, never a line-search trial point.
        phase.Restart();
        var image = BlobLayout.IterationImage(jobId, pair.PairId, i);
        var count = result.Losses.Count;
        var outcome = new ChunkOutcome(
            i, result.State.Evaluations, result.State.Loss ?? (count > 0 ? result.Losses[^1] : double.NaN), $"{storage.Results.LogicalContainer}/{image}",
            computeSeconds, count > 0 ? evaluationSeconds / count : 0, result.State.Converged, Reused: false);

        // The state is only read until this activity returns (the next chunk advances it), so the image needs no copy.
        var imageTensor = new ImageTensor(targets.Height, targets.Width, result.State.X);
        await Task.WhenAll(
            Task.Run(async () => await storage.Results.WriteAsync(image, await ToPngAsync(input.JobId, pair, request, imageTensor, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false), cancellationToken),
            storage.Results.WriteLossRowsAsync(jobId, pair.PairId, i, rows.ToString(), cancellationToken),
            storage.Work.WriteOutcomeAsync(jobId, pair.PairId, i, outcome, cancellationToken),
            StoreNextStateAsync(jobId, pair.PairId, i, result.State, cancellationToken))
            .ConfigureAwait(false);

        logger.LogInformation(
            "Chunk {Iteration} of {PairId}: load {Load:F3} s, optimiser loop {Loop:F3} s of which evaluations {Evaluations:F3} s, outputs and checkpoint {Outputs:F3} s",
            i, pair.PairId, loadSeconds, computeSeconds, evaluationSeconds, phase.Elapsed.TotalSeconds);
        return outcome;
    }

    /// <inheritdoc />
    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        GuardedAsync(input.JobId, $"{input.Pair.PairId}/finalize", $"finishing {input.Pair.PairId}", () => FinalizeCoreAsync(input, cancellationToken), cancellationToken);

    private async Task<PairResult> FinalizeCoreAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair) = (input.JobId, input.Pair);
        var targets = await storage.Work.ReadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);

        // The last chunk usually ran in this process and left its state in memory: a full checkpoint download (up to
        // ~290 MB at 1024 px) is only needed when it did not. A later coarse-to-fine stage starts from this state, so it
        // must be stored before the pair is reported done.
        var stateName = BlobLayout.State(jobId, pair.PairId, input.NextChunk);
        var state = await TakeStateAsync(new ChunkInput(jobId, pair, input.Request, input.NextChunk), input.NextChunk, targets, cancellationToken).ConfigureAwait(false);
        switch (await Checkpoints.FlushAsync(stateName, cancellationToken).ConfigureAwait(false))
        {
            case CheckpointUpload.AlreadyStored:
                throw Conflict(stateName);
            case CheckpointUpload.Failed:
                await Checkpoints.WriteAsync(stateName, state, cancellationToken).ConfigureAwait(false);
                break;
        }

        var png = await ToPngAsync(jobId, pair, input.Request, new ImageTensor(targets.Height, targets.Width, state.X), cancellationToken).ConfigureAwait(false);
        var final = await storage.Results.WriteAsync(BlobLayout.FinalImage(jobId, pair.PairId), png, cancellationToken).ConfigureAwait(false);
        storage.Work.ForgetTargets(jobId, pair.PairId);
        images.Forget(jobId, pair);
        return new PairResult(
            pair.PairId, final, $"{storage.Results.LogicalContainer}/{BlobLayout.LossLog(jobId, pair.PairId)}",
            input.NextChunk, state.Evaluations, state.Loss ?? double.NaN);
    }

    /// <inheritdoc />
    public async Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default)
    {
        await storage.Results.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);

        // Written before the final job.json, so that a viewer which stops polling at the final state already finds it; a
        // sheet that cannot be drawn is logged, not allowed to fail a finished job.
        try
        {
            await JobContactSheet.WriteAsync(storage, summary.JobId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Job {JobId}: no contact sheet: {Reason}", summary.JobId, e.Message);
        }

        await storage.Documents.UpdateAsync(
            summary.JobId, job => (job ?? new JobDocument { JobId = summary.JobId }).WithSummary(summary), cancellationToken).ConfigureAwait(false);

        // What an ended job keeps of its internal state: each pair's last state and outcome (WorkStore.CleanUpAsync).
        var freed = await storage.Work.CleanUpAsync(summary.JobId, summary.Pairs.Select(p => p.PairId), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId}: {Bytes} bytes of internal state deleted at its end", summary.JobId, freed);
    }

    /// <summary>
    /// Runs an activity's work counting its start and end durably (<see cref="ActivityAttempts"/>). An activity whose
    /// worker died <see cref="WorkflowOptions.MaxWorkerDeaths"/> times while running it (starts that never ended: killed,
    /// out of memory, a native crash) is not run again: it fails as bad input, which is never retried, with a reason
    /// that says so, instead of stalling every job behind it.
    /// </summary>
    private async Task<T> GuardedAsync<T>(string jobId, string activity, string what, Func<Task<T>> run, CancellationToken cancellationToken)
    {
        // A retry or a late delivery for a canceled (or purged) job does no work and writes nothing.
        if ((await storage.Documents.ReadAsync(jobId, cancellationToken).ConfigureAwait(false))?.State == JobState.Canceled)
        {
            throw new OperationCanceledException($"Job {jobId} was canceled: {what} is not started.");
        }

        var before = await storage.Attempts.StartAsync(jobId, activity, cancellationToken).ConfigureAwait(false);
        try
        {

            if (before.Unended >= workflow.Value.MaxWorkerDeaths)
            {
                throw new JobRequestException(
                    "input",
                    $"{what} stopped the worker {before.Unended} times (it was killed, ran out of memory or crashed while running it), so it is not started again; a smaller height or other images may fit");
            }

            return await run().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await storage.Attempts.EndAsync(jobId, activity, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not recorded, this attempt counts as a worker that died: one more than the truth, never fewer.
                logger.LogWarning(e, "Job {JobId}: the end of {Activity} could not be recorded: {Reason}", jobId, activity, e.Message);
            }
        }
    }

    /// <summary>The style images' size for a style scale: the output size times the scale, rounded, at least 1 px.</summary>
    public static (int Height, int Width) StyleSize(int height, int width, double styleScale) =>
        (Math.Max(1, (int)Math.Round(height * styleScale, MidpointRounding.AwayFromZero)),
         Math.Max(1, (int)Math.Round(width * styleScale, MidpointRounding.AwayFromZero)));

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

    /// <summary>
    /// Stores the state a chunk ended with. Chunk i reports done only once its own start point, state-i, is stored
    /// (its upload ran behind, during this chunk); state-(i+1) is then uploaded behind, during the next chunk. If this
    /// process dies before that upload lands, state-(i+1) is rebuilt from state-i (<see cref="TakeStateAsync"/>).
    /// </summary>
    private async Task StoreNextStateAsync(string jobId, string pairId, int iteration, OptimizerState state, CancellationToken cancellationToken)
    {
        var (stateName, nextState) = (BlobLayout.State(jobId, pairId, iteration), BlobLayout.State(jobId, pairId, iteration + 1));
        switch (await Checkpoints.FlushAsync(stateName, cancellationToken).ConfigureAwait(false))
        {
            case CheckpointUpload.AlreadyStored:
                throw Conflict(stateName);
            case CheckpointUpload.Failed:
                // state-i's upload failed: store state-(i+1) now, so that a stored state never lags more than one chunk.
                await Checkpoints.WriteAsync(nextState, state, cancellationToken).ConfigureAwait(false);
                break;
            default:
                // state-i is stored: state-(i-2) is needed by nothing (a lost state-(i+1) is rebuilt from state-i).
                await Task.WhenAll(
                    Checkpoints.WriteBehindAsync(nextState, state, cancellationToken),
                    DeleteSupersededAsync(jobId, pairId, iteration - 2)).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Deletes a state nothing needs any more; a failure only leaves it for the clean-up at the job's end.</summary>
    private async Task DeleteSupersededAsync(string jobId, string pairId, int index)
    {
        if (index < 0)
        {
            return;
        }

        try
        {
            await storage.Work.DeleteStateAsync(jobId, pairId, index, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Job {JobId}: state {Index} of {PairId} could not be deleted: {Reason}", jobId, index, pairId, e.Message);
        }
    }

    /// <summary>
    /// Reads the job's state every <see cref="WorkflowOptions.CancelCheckIntervalSeconds"/> while a chunk computes and
    /// cancels <paramref name="chunk"/> when the job was canceled; ends when <paramref name="chunk"/> is cancelled. A read
    /// that fails is not a cancel.
    /// </summary>
    private Task WatchForCancelAsync(string jobId, CancellationTokenSource chunk) => Task.Run(async () =>
    {
        var interval = TimeSpan.FromSeconds(workflow.Value.CancelCheckIntervalSeconds);
        try
        {
            while (!chunk.IsCancellationRequested)
            {
                await Task.Delay(interval, chunk.Token).ConfigureAwait(false);
                try
                {
                    if ((await storage.Documents.ReadAsync(jobId, chunk.Token).ConfigureAwait(false))?.State == JobState.Canceled)
                    {
                        await chunk.CancelAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug(e, "Job {JobId}: its state could not be read for a cancel: {Reason}", jobId, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    });

    /// <summary>
    /// A duplicate attempt stored the state this chunk started from before this process's upload of it landed: this
    /// attempt's result may come from another state than the stored one, so it is thrown away and the chunk runs again
    /// (a transient failure, retried) from the stored state, as every other worker will.
    /// </summary>
    private InvalidOperationException Conflict(string stateName) =>
        new CheckpointConflictException($"{storage.Work.Container}/{stateName} was stored by another attempt first; this attempt's result is discarded and the chunk runs again from the stored state.");

    /// <summary>
    /// state-i for a chunk to advance: from memory or its blob; when neither has it (a worker uploaded it behind and
    /// stopped before the upload landed), recomputes chunk i - 1 from state-(i-1), which that chunk stored before it
    /// reported done. The optimiser and the engine are deterministic on one machine, so the rebuilt state is the lost
    /// one; its image and loss rows were written when it first ran.
    /// </summary>
    private async Task<OptimizerState> TakeStateAsync(ChunkInput chunk, int iteration, StyleTargets targets, CancellationToken cancellationToken)
    {
        var (jobId, pairId) = (chunk.JobId, chunk.Pair.PairId);
        var name = BlobLayout.State(jobId, pairId, iteration);
        var length = 3 * targets.Height * targets.Width;
        if (await Checkpoints.TryTakeAsync(name, length, cancellationToken).ConfigureAwait(false) is { } state)
        {
            return state;
        }

        var previousName = BlobLayout.State(jobId, pairId, iteration - 1);
        var previous = iteration > 0 ? await Checkpoints.TryTakeAsync(previousName, length, cancellationToken).ConfigureAwait(false) : null;
        if (previous is null)
        {
            throw new InvalidOperationException(
                $"{storage.Work.Container}/{name} is missing and cannot be rebuilt: {(iteration > 0 ? $"{storage.Work.Container}/{previousName} is missing too" : "PrepareTargets did not run for this pair")}.");
        }

        logger.LogWarning("Checkpoint {Name} was lost before its upload finished; rebuilding it from {Previous}.", name, previousName);
        await ChunkRunner.RunChunkAsync(previous, engine.Objective(chunk.Request, targets), chunk.Request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false);

        // Another attempt may have stored it meanwhile: then continue from the stored one, as every other worker will.
        await Checkpoints.WriteAsync(name, previous, cancellationToken).ConfigureAwait(false);
        return await Checkpoints.TryTakeAsync(name, length, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{storage.Work.Container}/{name} vanished after it was written.");
    }

    /// <summary>
    /// The optimiser's first point at the content's size: a later stage's previous result, the content (Keras), uniform
    /// noise from the seed, the pair's heaviest style (the first on ties) or an image blob, both resized to exactly the
    /// output size.
    /// </summary>
    private async Task<ImageTensor> StartPointAsync(string jobId, JobRequest request, PairPlan pair, ImageTensor content, CancellationToken cancellationToken)
    {
        if (pair.Start is { } previous)
        {
            // A later coarse-to-fine stage: the previous stage's result as its image shows it (clipped, rounded, before
            // any colour preservation), upscaled with the same resampler as every input.
            var before = await storage.Work.ReadTargetsAsync(jobId, previous.PairId, cancellationToken).ConfigureAwait(false);
            var lastName = BlobLayout.State(jobId, previous.PairId, previous.Chunk);
            var last = await Checkpoints.TryTakeAsync(lastName, 3 * before.Height * before.Width, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{storage.Work.Container}/{lastName} is missing: the previous stage did not finish.");
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
                return await images.ExactAsync(jobId, pair, heaviest.Blob, "styles", content.Height, content.Width, cancellationToken).ConfigureAwait(false);
            default:
                return await images.ExactAsync(jobId, pair, request.Init, "init", content.Height, content.Width, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A saved image: the state as it is, or with the content's colours when the request asks for them.</summary>
    private async Task<BinaryData> ToPngAsync(string jobId, PairPlan pair, JobRequest request, ImageTensor image, CancellationToken cancellationToken)
    {
        if (!request.PreserveColors)
        {
            return BinaryData.FromBytes(ImageWriter.ToPng(image));
        }

        var content = await images.ContentAsync(jobId, pair, request.Height, cancellationToken).ConfigureAwait(false);
        return BinaryData.FromBytes(ImageWriter.ToPng(ColorPreservation.Apply(image, content)));
    }

    private ImageLimits Limits => limits.Value.InputImageLimits;
}
