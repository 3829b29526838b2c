using System.Diagnostics;
using System.Globalization;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// The scheduling part of a chunk's overhead: a real job through the StyleJob and StylePair orchestrations on Durable
/// Task's in-process engine, with the time from one chunk activity's end to the next one's start (the orchestrator's
/// replay, the activity's dispatch and the outcome's return). The Azure Storage backend's queues add their own latency,
/// which cannot be measured here.
/// </summary>
internal static class DispatchBenchmark
{
    public static async Task RunAsync(
        BlobStore store, byte[] content, byte[] style, string network, int height, int iterations, int evaluationsPerIteration,
        TextWriter log, CancellationToken cancellationToken)
    {
        var storage = new StorageOptions { ContainerPrefix = $"disp{Guid.NewGuid():N}"[..13] + "-" };
        var limits = new LimitsOptions { AllowTestNetworks = true };
        using var engine = new StyleEngine(
            Options.Create(new EngineOptions { Network = network }), Options.Create(limits),
            NullLogger<StyleEngine>.Instance, NullLogger<Core.Evaluation.StyleEvaluator>.Instance);
        var timed = new TimedWork(new StyleWork(store, engine, Options.Create(storage), Options.Create(limits), NullLogger<StyleWork>.Instance));
        try
        {
            var request = await PipelineBenchmark.UploadInputsAsync(store, storage, content, style, height, iterations, evaluationsPerIteration, cancellationToken)
                .ConfigureAwait(false);
            LocalDurableHost.SilenceSidecar();
            await using var host = await DurableTaskTestHost.StartAsync(
                registry => registry.AddStyleWorkflow(),
                new DurableTaskTestHostOptions
                {
                    Port = LocalDurableHost.FreePort(),
                    LoggerFactory = NullLoggerFactory.Instance,
                    ConfigureServices = services => services.AddSingleton<IStyleWork>(timed).AddLogging(),
                },
                cancellationToken).ConfigureAwait(false);
            var input = new JobInput("dispatch", request, new WorkflowSettings());
            await StyleJobClient.StartAsync(host.Client, input, cancellationToken).ConfigureAwait(false);
            var job = await host.Client.WaitForInstanceCompletionAsync(input.JobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (job.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"The dispatch benchmark's job ended {job.RuntimeStatus}.");
            }

            log.WriteLine("durable chunk  activity_s  gap_before_s");
            var gaps = new List<double>();
            var chunks = timed.Chunks.OrderBy(c => c.Start).ToList();
            for (var i = 0; i < chunks.Count; i++)
            {
                var gap = i == 0 ? double.NaN : Stopwatch.GetElapsedTime(chunks[i - 1].End, chunks[i].Start).TotalSeconds;
                if (i > 0)
                {
                    gaps.Add(gap);
                }

                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i,13}  {Stopwatch.GetElapsedTime(chunks[i].Start, chunks[i].End).TotalSeconds,10:F3}  {gap,12:F3}"));
            }

            var medianGap = gaps.Count == 0 ? 0 : Statistics.Median(gaps);
            var medianChunk = Statistics.Median(chunks.Select(c => Stopwatch.GetElapsedTime(c.Start, c.End).TotalSeconds));
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"durable dispatch between chunks (in-process engine): median {1000 * medianGap:F1} ms, {100 * medianGap / (medianGap + medianChunk):F2} % of a chunk"));
        }
        finally
        {
            await PipelineBenchmark.DeleteContainersAsync(store, storage).ConfigureAwait(false);
        }
    }

    /// <summary>The real work, with each chunk activity's start and end recorded.</summary>
    private sealed class TimedWork(IStyleWork real) : IStyleWork
    {
        public List<(long Start, long End)> Chunks { get; } = [];

        public Task<JobPlan> ValidateJobAsync(JobInput input, CancellationToken cancellationToken = default) => real.ValidateJobAsync(input, cancellationToken);

        public Task<PairPrepared> PrepareTargetsAsync(PairInput input, CancellationToken cancellationToken = default) => real.PrepareTargetsAsync(input, cancellationToken);

        public async Task<ChunkOutcome> RunChunkAsync(ChunkInput input, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var outcome = await real.RunChunkAsync(input, cancellationToken).ConfigureAwait(false);
            lock (Chunks)
            {
                Chunks.Add((start, Stopwatch.GetTimestamp()));
            }

            return outcome;
        }

        public Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default) => real.FinalizeAsync(input, cancellationToken);

        public Task WriteSummaryAsync(JobSummary summary, CancellationToken cancellationToken = default) => real.WriteSummaryAsync(summary, cancellationToken);
    }
}
