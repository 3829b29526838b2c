using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The activities' work over the pair's input images (<see cref="InputImages"/>), the storage layer (<see cref="JobStorage"/>,
/// checkpoints through <see cref="PairCheckpoints"/>) and the engine (<see cref="StyleEngine"/>); a tiled stage's in
/// <see cref="TiledStageWork"/>. Every method can run twice (activities are at-least-once): checkpoints are immutable and
/// written last, so a re-run finds state-(i+1) and returns the stored outcome. Everyone runs it inside
/// <see cref="StyleWorkStack"/>'s decorators, whose attempt guard refuses a canceled job's work before it starts; a chunk
/// under way is stopped by this class's cancel watcher.
/// </summary>
public sealed class StyleWork(
    JobStorage storage, InputImages images, StyleEngine engine, IOptions<LimitsOptions> limits, IOptions<WorkflowOptions> workflow,
    ILogger<StyleWork> logger) : IStyleWork
{
    private readonly PairCheckpoints _checkpoints = new(storage.Work, logger);
    private readonly JobCancellation _cancellation = new(storage, TimeSpan.FromSeconds(workflow.Value.CancelCheckIntervalSeconds), logger);
    private readonly TiledStageWork _tiles = new(storage, images, engine, new(storage, TimeSpan.FromSeconds(workflow.Value.CancelCheckIntervalSeconds), logger), logger);

    /// <summary>This worker's checkpoints (tests wait for an upload behind through it).</summary>
    internal CheckpointStore Checkpoints => storage.Work.Checkpoints;

    /// <inheritdoc />
    public async Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default)
    {
        try
        {
            return await PlanAsync(input, cancellationToken).ConfigureAwait(false);
        }
        catch (JobRequestException)
        {
            // A refused job's job.json still says what was asked and when (its page shows them); WriteSummary adds why.
            await storage.RecordRefusedAsync(input.JobId, input.Request, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<JobPlan> PlanAsync(JobInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        JobRequestParser.Validate(request, limits.Value);
        await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        var network = (await engine.ResolveNetworkAsync(request.Network, request.Preprocess, cancellationToken).ConfigureAwait(false)).Identity;
        var sizes = await images.CheckRequestAsync(request, cancellationToken).ConfigureAwait(false);
        // Sizes, work and memory before any engine work: a job that would not fit is refused here, not by killing its worker.
        var largest = JobSizes.Check(request, sizes, limits.Value, out var tiledStage);
        await engine.CheckMemoryAsync(request, largest, tiledStage, cancellationToken).ConfigureAwait(false);
        var plan = JobPlan.Create(input.JobId, request);
        await Task.WhenAll(storage.Work.EnsureContainerAsync(cancellationToken), storage.Results.EnsureContainerAsync(cancellationToken)).ConfigureAwait(false);
        await storage.Documents.UpdateAsync(
            input.JobId, job => (job ?? JobDocument.Submitted(input.JobId, request)).Running(request, plan, network), cancellationToken).ConfigureAwait(false);
        return plan;
    }

    /// <inheritdoc />
    public async Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) =>
        await _tiles.TryPrepareAsync(input, (content, token) => StartPointAsync(input.JobId, input.Request, input.Pair, content, token), cancellationToken).ConfigureAwait(false)
        ?? await PrepareWholeAsync(input, cancellationToken).ConfigureAwait(false);

    private async Task<PairPrepared> PrepareWholeAsync(PairInput input, CancellationToken cancellationToken)
    {
        var (jobId, pair, request) = (input.JobId, input.Pair, input.Request);
        if (await _checkpoints.AnyStoredAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false))
        {
            return new PairPrepared(pair.PairId, AlreadyPresent: true);
        }

        var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        var content = await images.ContentAsync(jobId, pair, request.Height, cancellationToken).ConfigureAwait(false);
        var styles = await images.StylesAsync(jobId, pair, content, request.StyleScale, cancellationToken).ConfigureAwait(false);

        // Layer normalisation (resnet18) is measured at the content whatever the start point: init changes where the
        // optimiser starts, not the loss it minimises (at an init of the style itself every layer's loss would be 0).
        var start = await StartPointAsync(jobId, request, pair, content, cancellationToken).ConfigureAwait(false);
        images.KeepWhatPngsNeed(jobId, pair, request);
        var targets = engine.Evaluator.ComputeTargets(network, content, styles);
        await storage.Work.WriteTargetsAsync(jobId, pair.PairId, targets, cancellationToken).ConfigureAwait(false);
        await _checkpoints.WriteFirstAsync(jobId, pair.PairId, OptimizerState.Create(StyleEngine.OptimizerSettings(request), start.Data), cancellationToken).ConfigureAwait(false);
        await storage.Results.StartLossLogAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        return new PairPrepared(pair.PairId, AlreadyPresent: false);
    }

    /// <inheritdoc />
    public async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request, i) = (input.JobId, input.Pair, input.Request, input.Iteration);
        if (await _checkpoints.TryReadDoneAsync(jobId, pair.PairId, i, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored with { Reused = true, Seconds = 0 };
        }

        var phase = Stopwatch.StartNew();
        var targets = await storage.Work.ReadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);

        // Taken, not shared: the optimiser advances it in place, so a failed attempt must not leave it for the retry.
        var state = await TakeStateAsync(input, i, targets, cancellationToken).ConfigureAwait(false);
        var loadSeconds = phase.Elapsed.TotalSeconds;
        var rows = new LossCsvRows(i, state.Evaluations);

        // A canceled job's chunk writes nothing: no image, no rows, no checkpoint.
        var run = await RecordedChunk.RunAsync(
            engine, _cancellation, jobId, request, targets, state, rows, () => $"chunk {i} of {pair.PairId} stopped after {state.Evaluations} evaluations", cancellationToken).ConfigureAwait(false);
        var result = run.Chunk;

        // The image of an iteration is the optimiser's accepted iterate, never a line-search trial point.
        phase.Restart();
        var image = BlobLayout.IterationImage(jobId, pair.PairId, i);
        var count = result.Losses.Count;
        var outcome = new ChunkOutcome(
            i, result.State.Evaluations, result.State.Loss ?? (count > 0 ? result.Losses[^1] : double.NaN), $"{storage.Results.LogicalContainer}/{image}",
            run.Seconds, run.SecondsPerEvaluation, result.State.Converged, Reused: false);

        // The state is only read until this activity returns (the next chunk advances it), so the image needs no copy.
        var imageTensor = new ImageTensor(targets.Height, targets.Width, result.State.X);
        await Task.WhenAll(
            Task.Run(async () => await storage.Results.WriteImageAsync(image, await images.ToPngAsync(jobId, pair, request, imageTensor, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false), cancellationToken),
            storage.Results.WriteLossRowsAsync(jobId, pair.PairId, i, rows.ToString(), cancellationToken),
            storage.Work.WriteOutcomeAsync(jobId, pair.PairId, i, outcome, cancellationToken),
            _checkpoints.StoreNextAsync(jobId, pair.PairId, i, result.State, cancellationToken))
            .ConfigureAwait(false);

        logger.LogInformation(
            "Chunk {Iteration} of {PairId}: load {Load:F3} s, optimiser loop {Loop:F3} s of which evaluations {Evaluations:F3} s, outputs and checkpoint {Outputs:F3} s",
            i, pair.PairId, loadSeconds, run.Seconds, run.EvaluationSeconds, phase.Elapsed.TotalSeconds);
        return outcome;
    }

    public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) => _tiles.RunTileAsync(input, cancellationToken);
    public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) => _tiles.BlendAsync(input, cancellationToken);

    /// <inheritdoc />
    public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) =>
        input.Tiles > 0 ? _tiles.FinalizeAsync(input, cancellationToken) : FinalizeWholeAsync(input, cancellationToken);

    private async Task<PairResult> FinalizeWholeAsync(PairInput input, CancellationToken cancellationToken)
    {
        var (jobId, pair) = (input.JobId, input.Pair);
        var targets = await storage.Work.ReadTargetsAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        // The last chunk usually ran in this process and left its state in memory: a full checkpoint download (up to
        // ~290 MB at 1024 px) is only needed when it did not. A later coarse-to-fine stage starts from this state, so it
        // must be stored before the pair is reported done.
        var state = await TakeStateAsync(new ChunkInput(jobId, pair, input.Request, input.NextChunk), input.NextChunk, targets, cancellationToken).ConfigureAwait(false);
        await _checkpoints.StoreLastAsync(jobId, pair.PairId, input.NextChunk, state, cancellationToken).ConfigureAwait(false);
        var png = await images.ToPngAsync(jobId, pair, input.Request, new ImageTensor(targets.Height, targets.Width, state.X), cancellationToken).ConfigureAwait(false);
        var final = await storage.Results.WriteFinalImageAsync(jobId, pair.PairId, pair.LastStageOf, png, cancellationToken).ConfigureAwait(false);
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

        // Written before the final job.json, so that a viewer which stops polling at the final state already finds it.
        await JobContactSheet.TryWriteAsync(storage, summary.JobId, logger, cancellationToken).ConfigureAwait(false);
        await storage.Documents.UpdateAsync(
            summary.JobId, job => (job ?? new JobDocument { JobId = summary.JobId }).WithSummary(summary), cancellationToken).ConfigureAwait(false);

        // What an ended job keeps of its internal state: each pair's last state and outcome (WorkStore.CleanUpAsync).
        var freed = await storage.Work.CleanUpAsync(summary.JobId, summary.Pairs.Select(p => p.PairId), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Job {JobId}: {Bytes} bytes of internal state deleted at its end", summary.JobId, freed);
    }

    /// <summary>state-i for a chunk to advance; a lost one is rebuilt by running chunk i - 1 again (<see cref="PairCheckpoints.TakeAsync"/>).</summary>
    private Task<OptimizerState> TakeStateAsync(ChunkInput chunk, int iteration, StyleTargets targets, CancellationToken cancellationToken) =>
        _checkpoints.TakeAsync(
            chunk.JobId, chunk.Pair.PairId, iteration, 3 * targets.Height * targets.Width,
            async previous => await ChunkRunner.RunChunkAsync(
                previous, await engine.ObjectiveAsync(chunk.Request, targets, cancellationToken: cancellationToken).ConfigureAwait(false), chunk.Request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false),
            cancellationToken);

    /// <summary>The optimiser's first point: a later stage's previous result, upscaled, else the request's init.</summary>
    private async Task<ImageTensor> StartPointAsync(string jobId, JobRequest request, PairPlan pair, ImageTensor content, CancellationToken cancellationToken) =>
        pair.Start is { } previous
            ? StartPoints.Upscaled(await _checkpoints.FinishedImageAsync(jobId, previous, cancellationToken).ConfigureAwait(false), content.Height, content.Width)
            : await images.InitAsync(jobId, request, pair, content, cancellationToken).ConfigureAwait(false);
}
