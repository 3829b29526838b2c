using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Tests.Storage;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Viewer;

/// <summary>
/// A small running job written by hand into Azurite under its own container prefix: one content image, two styles
/// ("each": two pairs), job.json as ValidateJob writes it, iteration PNGs, loss.csv and the chunk outcomes.
/// </summary>
internal sealed class ViewerTestJob
{
    public const string JobId = "job-viewer-test";

    /// <summary>Iterations written for the first pair; 10 sorts before 2 by name, so the view must sort by number.</summary>
    public static readonly int[] FirstPairIterations = [0, 1, 2, 10];

    public const int SecondPairIterations = 1;
    public const int EvaluationsPerIteration = 3;
    public const int ImageWidth = 48;
    public const int ImageHeight = 32;
    public const double SecondsPerEvaluation = 0.25;

    /// <summary>The network job.json says ran the job.</summary>
    public static readonly NetworkIdentity Network = new("vgg19", new string('a', 32) + new string('b', 32), NetworkOrigin.ModelsContainer, "models/vgg19.onnx");

    private ViewerTestJob(BlobStore store, StorageOptions storage, JobPlan plan, JobRequest request) =>
        (Store, Storage, Plan, Request, Jobs) = (store, storage, plan, request, new JobStorage(store, Options.Create(storage), NullLogger<JobStorage>.Instance));

    public BlobStore Store { get; }

    /// <summary>The storage layer over this job's containers, as the viewer reads it.</summary>
    public JobStorage Jobs { get; }

    public StorageOptions Storage { get; }

    public JobPlan Plan { get; }

    public JobRequest Request { get; }

    public string Results => Storage.Container(Storage.Results);

    public static async Task<ViewerTestJob> CreateAsync()
    {
        var store = new BlobStore(Azurite.CreateService());
        var storage = new StorageOptions { ContainerPrefix = $"v{Guid.NewGuid():N}"[..12] + "-" };
        var request = new JobRequest
        {
            Content = [$"uploads/{JobId}/photo.png"],
            Styles = [new StyleInput("styles/wave.png"), new StyleInput("styles/the_scream.png")],
            Iterations = 12,
            EvaluationsPerIteration = EvaluationsPerIteration,
        };
        var plan = JobPlan.Create(JobId, request);
        var job = new ViewerTestJob(store, storage, plan, request);
        foreach (var name in new[] { storage.Results, storage.Work, storage.Uploads, storage.Styles })
        {
            await store.EnsureContainerAsync(storage.Container(name));
        }

        await store.UploadAsync(storage.Container(storage.Uploads), $"{JobId}/photo.png", Png(ImageWidth, ImageHeight, new Rgb24(200, 120, 40)));
        await store.UploadAsync(storage.Container(storage.Styles), "wave.png", Png(40, 40, new Rgb24(20, 60, 200)));
        await store.UploadAsync(storage.Container(storage.Styles), "the_scream.png", Png(30, 40, new Rgb24(230, 90, 30)));
        var json = JobDocument.Submitted(JobId, request).Running(request, plan, Network).ToJson();
        await store.UploadAsync(job.Results, BlobLayout.JobJson(JobId), BinaryData.FromString(json));
        await job.WritePairAsync(plan.Pairs[0].PairId, FirstPairIterations);
        await job.WritePairAsync(plan.Pairs[1].PairId, [.. Enumerable.Range(0, SecondPairIterations)]);
        return job;
    }

    /// <summary>Evaluations in loss.csv of a pair with these iterations: a fixed number per iteration.</summary>
    public static int EvaluationsOf(int iterations) => iterations * EvaluationsPerIteration;

    /// <summary>A solid-colour PNG; iteration images get a colour from their index so that cells differ.</summary>
    public static BinaryData Png(int width, int height, Rgb24 color)
    {
        using var image = new Image<Rgb24>(width, height, color);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return BinaryData.FromBytes(stream.ToArray());
    }

    public static Rgb24 IterationColor(int i) => new((byte)(30 + 20 * i), 160, (byte)(220 - 15 * i));

    private async Task WritePairAsync(string pairId, int[] iterations)
    {
        var csv = new StringBuilder(LossCsv.Header + "\n");
        var evaluation = 0;
        foreach (var i in iterations)
        {
            await Store.UploadAsync(Results, BlobLayout.IterationImage(JobId, pairId, i), Png(ImageWidth, ImageHeight, IterationColor(i)));
            for (var k = 0; k < EvaluationsPerIteration; k++)
            {
                evaluation++;
                var loss = 1e6 / evaluation;
                csv.Append(CultureInfo.InvariantCulture, $"{evaluation},{i},{loss * 0.1:R},{loss * 0.8:R},{loss * 0.1:R},{loss:R}\n");
            }

            var outcome = new ChunkOutcome(i, evaluation, 1e6 / evaluation, "", 1, SecondsPerEvaluation, Converged: false, Reused: false);
            await Store.UploadAsync(Storage.Container(Storage.Work), BlobLayout.ChunkOutcome(JobId, pairId, i),
                BinaryData.FromString(JsonSerializer.Serialize(outcome, JobDocument.JsonOptions)));
        }

        await Store.UploadAsync(Results, BlobLayout.LossLog(JobId, pairId), BinaryData.FromString(csv.ToString()));
    }
}
