using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ServerlessStyle.Bench.Engine;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Hosting;

namespace ServerlessStyle.Bench.Pipeline;

/// <summary>
/// One chunk of a benchmark job: the activity's wall time, the optimiser loop inside it (<see cref="ChunkOutcome.Seconds"/>),
/// the loss evaluations inside that loop, and the durable dispatch gap before it (the previous chunk's end to its start).
/// </summary>
public sealed record ChunkTiming(int Iteration, int Evaluations, double WallSeconds, double LoopSeconds, double EvaluationSeconds, double GapBeforeSeconds)
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
/// as a bare loop (the engine and the optimiser in memory, no storage, no orchestration) in the same process after.
/// </summary>
public sealed record PipelineBenchmarkResult(IReadOnlyList<ChunkTiming> Chunks, double MedianOverheadShare, double MedianBareChunkSeconds)
{
    /// <summary>How much longer a pipeline chunk takes than the bare loop's, as a share of the pipeline chunk.</summary>
    public double PipelineCostShare => 1 - (MedianBareChunkSeconds / Statistics.Median(Chunks.Select(c => c.WallSeconds)));
}

/// <summary>
/// Measures what a chunk costs besides computing the loss: runs one real job through the StyleJob and StylePair
/// orchestrations on the runner's durable host (the same code and storage as <c>run</c>), times each RunChunk activity
/// and the dispatch gap between chunks, then runs the same chunks as a bare loop for comparison.
/// </summary>
public static class PipelineBenchmark
{
    private const string JobId = "bench";

    public static async Task<PipelineBenchmarkResult> RunAsync(
        string connectionString, byte[] content, byte[] style, string network, int height, int iterations, int evaluationsPerIteration,
        TextWriter log, CancellationToken cancellationToken = default)
    {
        // The job id "bench" repeats from one run to the next: each run works on a hub of its own.
        await using var scratch = ScratchHub.Create(connectionString, "bench", new Dictionary<string, string?>
        {
            ["ServerlessStyle:Engine:Network"] = network,
            ["ServerlessStyle:Limits:AllowTestNetworks"] = "true",
        });
        TimedWork? timed = null;
        StyleEngine? engine = null;
        var inputs = scratch.Storage.Inputs;
        await inputs.UploadAsync("uploads/bench/content.png", BinaryData.FromBytes(content), cancellationToken).ConfigureAwait(false);
        await inputs.UploadAsync("styles/style.jpg", BinaryData.FromBytes(style), cancellationToken).ConfigureAwait(false);
        var request = new JobRequest
        {
            Content = ["uploads/bench/content.png"],
            Styles = [new StyleInput("styles/style.jpg")],
            Height = height,
            Iterations = iterations,
            EvaluationsPerIteration = evaluationsPerIteration,
            Network = NetworkSpec.Auto,
        };

        // The engine lives in the host's services: the bare loop below runs before the host is disposed.
        await using var host = await scratch.StartAsync(
            services => services.AddSingleton<IStyleWork>(sp =>
            {
                engine = sp.GetRequiredService<StyleEngine>();
                return timed = new TimedWork(StyleWorkStack.Create(sp));
            }),
            cancellationToken).ConfigureAwait(false);
        var summary = await host.RunToEndAsync(new JobInput(JobId, request, new WorkflowSettings()), cancellationToken).ConfigureAwait(false);
        if (summary.State != JobState.Completed)
        {
            throw new InvalidOperationException($"The benchmark's job ended {summary.State}: {summary.Reason}");
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"targets: {timed!.PrepareSeconds:F3} s (network loaded, sessions built)"));
        var chunks = Report(timed, log);
        var median = Statistics.Median(chunks.Select(c => c.OverheadShare));

        // The same chunks again with no pipeline around them: this catches costs that hide inside the evaluations
        // (an upload behind competing for the cores), which the shares above cannot see.
        var bare = await BareChunksAsync(engine!, content, style, request, log, cancellationToken).ConfigureAwait(false);
        var result = new PipelineBenchmarkResult(chunks, median, Statistics.Median(bare));
        log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"median chunk: pipeline {Statistics.Median(chunks.Select(c => c.WallSeconds)):F3} s, bare loop {result.MedianBareChunkSeconds:F3} s: the pipeline adds {100 * result.PipelineCostShare:F2} % of a chunk"));
        return result;
    }

    private static List<ChunkTiming> Report(TimedWork timed, TextWriter log)
    {
        log.WriteLine("chunk  evals  wall_s  eval_s  optim_s  io_s  rest_%  gap_ms");
        var chunks = new List<ChunkTiming>();
        var done = 0;
        var runs = timed.Chunks.OrderBy(c => c.Start).ToList();
        for (var i = 0; i < runs.Count; i++)
        {
            var (start, end, outcome) = runs[i];
            var count = outcome.Evaluations - done;
            done = outcome.Evaluations;
            var gap = i == 0 ? double.NaN : Stopwatch.GetElapsedTime(runs[i - 1].End, start).TotalSeconds;
            var chunk = new ChunkTiming(outcome.Iteration, count, Stopwatch.GetElapsedTime(start, end).TotalSeconds, outcome.Seconds, outcome.SecondsPerEvaluation * count, gap);
            chunks.Add(chunk);
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{chunk.Iteration,5}  {count,5}  {chunk.WallSeconds,6:F3}  {chunk.EvaluationSeconds,6:F3}  {chunk.OptimizerSeconds,7:F3}  {chunk.StorageSeconds,5:F3}  {100 * chunk.OverheadShare,6:F2}  {1000 * gap,6:F1}"));
        }

        var shares = chunks.Select(c => (c.WallSeconds - c.LoopSeconds) / c.WallSeconds);
        var gaps = chunks.Skip(1).Select(c => c.GapBeforeSeconds).ToList();
        var medianWall = Statistics.Median(chunks.Select(c => c.WallSeconds));
        var medianGap = gaps.Count == 0 ? 0 : Statistics.Median(gaps);
        log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"median share outside evaluations over {chunks.Count} chunks: {100 * Statistics.Median(chunks.Select(c => c.OverheadShare)):F2} % (target < 5 %); of it outside the optimiser loop (storage, images): {100 * Statistics.Median(shares):F2} %"));
        log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"durable dispatch between chunks (Azure Storage task hub): median {1000 * medianGap:F1} ms, {100 * medianGap / (medianGap + medianWall):F2} % of a chunk"));
        return chunks;
    }

    /// <summary>Runs the job's chunks from its start point and targets in memory, timing each: the pipeline's lower bound.</summary>
    private static async Task<List<double>> BareChunksAsync(
        StyleEngine engine, byte[] contentBytes, byte[] styleBytes, JobRequest request, TextWriter log, CancellationToken cancellationToken)
    {
        var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        var content = ImageLoader.LoadToHeight(contentBytes, request.Height);
        var style = ImageLoader.LoadExact(styleBytes, content.Height, content.Width);
        var targets = engine.Evaluator.ComputeTargets(network, content, [(style, 1.0)]);
        var state = OptimizerState.Create(StyleEngine.OptimizerSettings(request), content.Data);
        var objective = await engine.ObjectiveAsync(request, targets, cancellationToken: cancellationToken).ConfigureAwait(false);

        log.WriteLine("bare   evals  wall_s");
        var walls = new List<double>();
        for (var i = 0; i < request.Iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            var chunk = await ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, cancellationToken).ConfigureAwait(false);
            walls.Add(clock.Elapsed.TotalSeconds);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i,5}  {chunk.Losses.Count,5}  {walls[^1],6:F3}"));
        }

        return walls;
    }

    /// <summary>The real work, with the targets' time and each chunk activity's start, end and outcome recorded.</summary>
    private sealed class TimedWork(IStyleWork real) : IStyleWork
    {
        public List<(long Start, long End, ChunkOutcome Outcome)> Chunks { get; } = [];

        public double PrepareSeconds { get; private set; }

        public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) => real.ValidateJobAsync(input, cancellationToken);

        public async Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default)
        {
            var clock = Stopwatch.StartNew();
            var prepared = await real.PrepareTargetsAsync(input, cancellationToken).ConfigureAwait(false);
            PrepareSeconds = clock.Elapsed.TotalSeconds;
            return prepared;
        }

        public async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var outcome = await real.RunChunkAsync(input, cancellationToken).ConfigureAwait(false);
            lock (Chunks)
            {
                Chunks.Add((start, Stopwatch.GetTimestamp(), outcome));
            }

            return outcome;
        }

        public Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default) => real.RunTileAsync(input, cancellationToken);

        public Task<ChunkOutcome> BlendTilesAsync(ChunkInput input, CancellationToken cancellationToken = default) => real.BlendTilesAsync(input, cancellationToken);

        public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) => real.FinalizeAsync(input, cancellationToken);

        public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => real.WriteSummaryAsync(summary, cancellationToken);
    }
}
