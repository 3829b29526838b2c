using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// One chunk of a benchmark job: the activity's wall time, the optimiser loop inside it (<see cref="ChunkOutcome.Seconds"/>)
/// and the loss evaluations inside that loop.
/// </summary>
public sealed record ChunkTiming(int Iteration, int Evaluations, double WallSeconds, double LoopSeconds, double EvaluationSeconds)
{
    /// <summary>L-BFGS steps and line search between evaluations.</summary>
    public double OptimizerSeconds => LoopSeconds - EvaluationSeconds;

    /// <summary>Everything outside the optimiser loop: state and targets I/O, PNG, loss log, outcome.</summary>
    public double StorageSeconds => WallSeconds - LoopSeconds;

    /// <summary>What the chunk spent outside the loss evaluations (state I/O, PNG, loss log), as a share of its wall time.</summary>
    public double OverheadShare => WallSeconds <= 0 ? 0 : (WallSeconds - EvaluationSeconds) / WallSeconds;
}

/// <summary>
/// The chunks of a benchmark job, the median overhead share over them, and the median wall time of the same chunks run
/// as a bare loop (the engine and the optimiser in memory, no storage) in the same process right after.
/// </summary>
public sealed record PipelineBenchmarkResult(IReadOnlyList<ChunkTiming> Chunks, double MedianOverheadShare, double MedianBareChunkSeconds)
{
    /// <summary>How much longer a pipeline chunk takes than the bare loop's, as a share of the pipeline chunk.</summary>
    public double PipelineCostShare => 1 - (MedianBareChunkSeconds / Statistics.Median(Chunks.Select(c => c.WallSeconds)));
}

/// <summary>
/// Measures what a chunk activity spends besides computing the loss: runs one real job (<see cref="StyleWork"/> over the
/// given storage, the real engine) chunk by chunk and times each RunChunk call around the whole activity body.
/// Durable's own dispatch is not in it: that cost depends on the backend (Azure Storage queues, the in-process host).
/// </summary>
public static class PipelineBenchmark
{
    public static async Task<PipelineBenchmarkResult> RunAsync(
        BlobStore store, byte[] content, byte[] style, string network, int height, int iterations, int evaluationsPerIteration,
        TextWriter log, CancellationToken cancellationToken = default)
    {
        var storage = new StorageOptions { ContainerPrefix = $"bench{Guid.NewGuid():N}"[..13] + "-" };
        var limits = new LimitsOptions { AllowTestNetworks = true };
        using var engine = new StyleEngine(
            Options.Create(new EngineOptions { Network = network }), Options.Create(limits),
            NullLogger<StyleEngine>.Instance, NullLogger<Evaluation.StyleEvaluator>.Instance);
        var work = new StyleWork(store, engine, Options.Create(storage), Options.Create(limits), new WriterLogger<StyleWork>(log));
        try
        {
            var request = await UploadInputsAsync(store, storage, content, style, height, iterations, evaluationsPerIteration, cancellationToken).ConfigureAwait(false);
            var job = new JobInput("bench", request, new WorkflowSettings());
            var plan = await work.ValidateJobAsync(job, cancellationToken).ConfigureAwait(false);
            var pair = new PairInput(job.JobId, plan.Pairs[0], request, job.Settings);
            var clock = Stopwatch.StartNew();
            await work.PrepareTargetsAsync(pair, cancellationToken).ConfigureAwait(false);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"targets: {clock.Elapsed.TotalSeconds:F3} s (network loaded, sessions built)"));
            log.WriteLine("chunk  evals  wall_s  eval_s  optim_s  io_s  rest_%");

            var chunks = new List<ChunkTiming>();
            var done = 0;
            for (var i = 0; i < iterations; i++)
            {
                clock.Restart();
                var outcome = await work.RunChunkAsync(new ChunkInput(job.JobId, plan.Pairs[0], request, i), cancellationToken).ConfigureAwait(false);
                var wall = clock.Elapsed.TotalSeconds;
                var count = outcome.Evaluations - done;
                done = outcome.Evaluations;
                var chunk = new ChunkTiming(i, count, wall, outcome.Seconds, outcome.SecondsPerEvaluation * count);
                chunks.Add(chunk);
                log.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{i,5}  {count,5}  {wall,6:F3}  {chunk.EvaluationSeconds,6:F3}  {chunk.OptimizerSeconds,7:F3}  {chunk.StorageSeconds,5:F3}  {100 * chunk.OverheadShare,6:F2}"));
            }

            await work.FinalizeAsync(pair with { NextChunk = iterations }, cancellationToken).ConfigureAwait(false);
            var median = Statistics.Median(chunks.Select(c => c.OverheadShare));
            var shares = chunks.Select(c => (c.WallSeconds - c.LoopSeconds) / c.WallSeconds);
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"median share outside evaluations over {chunks.Count} chunks: {100 * median:F2} % (target < 5 %); of it outside the optimiser loop (storage, images): {100 * Statistics.Median(shares):F2} %"));

            // The same chunks again with no pipeline around them: this catches costs that hide inside the evaluations
            // (an upload behind competing for the cores), which the shares above cannot see.
            var bare = await BareChunksAsync(store, storage, engine, job.JobId, plan.Pairs[0].PairId, request, iterations, log, cancellationToken).ConfigureAwait(false);
            var result = new PipelineBenchmarkResult(chunks, median, Statistics.Median(bare));
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"median chunk: pipeline {Statistics.Median(chunks.Select(c => c.WallSeconds)):F3} s, bare loop {result.MedianBareChunkSeconds:F3} s: the pipeline adds {100 * result.PipelineCostShare:F2} % of a chunk"));
            return result;
        }
        finally
        {
            await DeleteContainersAsync(store, storage).ConfigureAwait(false);
        }
    }

    /// <summary>Uploads the benchmark's content and style under <paramref name="storage"/>'s prefix; the request that uses them.</summary>
    public static async Task<JobRequest> UploadInputsAsync(
        BlobStore store, StorageOptions storage, byte[] content, byte[] style, int height, int iterations, int evaluationsPerIteration,
        CancellationToken cancellationToken = default)
    {
        foreach (var (container, name, bytes) in new[] { (storage.Uploads, "bench/content.png", content), (storage.Styles, "style.jpg", style) })
        {
            await store.EnsureContainerAsync(storage.Container(container), cancellationToken).ConfigureAwait(false);
            await store.UploadAsync(storage.Container(container), name, BinaryData.FromBytes(bytes), cancellationToken).ConfigureAwait(false);
        }

        return new JobRequest
        {
            Content = ["uploads/bench/content.png"],
            Styles = [new StyleInput("styles/style.jpg")],
            Height = height,
            Iterations = iterations,
            EvaluationsPerIteration = evaluationsPerIteration,
            Network = NetworkChoice.Auto,
        };
    }

    /// <summary>Removes every container a benchmark made under <paramref name="storage"/>'s prefix.</summary>
    public static async Task DeleteContainersAsync(BlobStore store, StorageOptions storage)
    {
        foreach (var container in new[] { storage.Uploads, storage.Styles, storage.Results, storage.Work })
        {
            await store.Service.GetBlobContainerClient(storage.Container(container)).DeleteIfExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the job's chunks from its state-0 and targets in memory, timing each: the pipeline's lower bound.</summary>
    private static async Task<List<double>> BareChunksAsync(
        BlobStore store, StorageOptions storage, StyleEngine engine, string jobId, string pairId, JobRequest request, int iterations,
        TextWriter log, CancellationToken cancellationToken)
    {
        var work = storage.Container(storage.Work);
        var targetsBlob = await store.TryDownloadAsync(work, BlobLayout.Targets(jobId, pairId), cancellationToken).ConfigureAwait(false);
        using var targetsStream = targetsBlob!.Value.Content.ToStream();
        var targets = Evaluation.StyleTargets.ReadFrom(targetsStream);
        var stateBlob = await store.TryDownloadAsync(work, BlobLayout.State(jobId, pairId, 0), cancellationToken).ConfigureAwait(false);
        using var stateStream = stateBlob!.Value.Content.ToStream();
        var state = await Optimization.CheckpointCodec.ReadAsync(stateStream, 3 * targets.Height * targets.Width, cancellationToken).ConfigureAwait(false);
        var network = engine.GetNetwork(request);
        Optimization.Objective objective = (x, gradient, _) =>
            ValueTask.FromResult(engine.Evaluator.Evaluate(network, targets, network.DefaultWeights, x.Span, gradient.Span).Total);

        log.WriteLine("bare   evals  wall_s");
        var walls = new List<double>();
        for (var i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            var chunk = await Optimization.ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false);
            walls.Add(clock.Elapsed.TotalSeconds);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i,5}  {chunk.Losses.Count,5}  {walls[^1],6:F3}"));
        }

        return walls;
    }

    /// <summary>Writes StyleWork's per-phase lines to the benchmark's output.</summary>
    private sealed class WriterLogger<T>(TextWriter writer) : Microsoft.Extensions.Logging.ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

        public void Log<TState>(
            Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => writer.WriteLine("  " + formatter(state, exception));
    }
}
