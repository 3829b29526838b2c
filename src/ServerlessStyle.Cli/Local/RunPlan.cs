using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Cli.Samples;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Local;

/// <summary>An input image to upload: its blob name in the request (<c>uploads/...</c>) and its bytes.</summary>
internal sealed record UploadFile(string Blob, byte[] Bytes);

/// <summary>
/// What one <c>run</c> will do: the validated job and the files to upload first. The request names its network (a
/// network file by its full path), so --resume needs no --network.
/// </summary>
internal sealed record RunPlan(JobInput Input, IReadOnlyList<UploadFile> Uploads, string? NetworkNote)
{
    /// <summary>The runner's limits: the deployment defaults, with the seeded test network and network files allowed (it is the user's own machine).</summary>
    public static LimitsOptions Limits { get; } = new() { AllowTestNetworks = true, AllowNetworkFiles = true };

    /// <summary>A new job from the command line: reads and checks every image, builds and validates the request.</summary>
    public static RunPlan Create(RunCommand.Settings settings, string jobId, WorkflowSettings workflow)
    {
        var uploads = new List<UploadFile>();
        var contents = Inputs(settings.Content, "--content", jobId, "content", SamplePictures.ContentFileName, SamplePictures.Landscape, uploads);
        var styles = Inputs(settings.Style, "--style", jobId, "styles", SamplePictures.StyleFileName, SamplePictures.Swirls, uploads);
        var blend = Numbers<double>(settings.StyleBlendWeights, "--style-blend-weights", "a number", "3,1");
        if (blend is not null && blend.Length != styles.Count)
        {
            throw new CliUsageException(
                $"--style-blend-weights '{settings.StyleBlendWeights}': {blend.Length} weights for {styles.Count} style{(styles.Count == 1 ? "" : "s")}; give one per --style, in the same order.");
        }

        var (network, note) = Network(settings.Network);
        var request = new JobRequest
        {
            Content = contents,
            Styles = styles.Select((s, i) => new StyleInput(s, blend?[i] ?? 1.0)).ToArray(),
            StyleMode = settings.StyleMode == "blend" ? StyleMode.Blend : StyleMode.Each,
            Height = settings.Height ?? new JobRequest().Height,
            Iterations = settings.Iterations ?? new JobRequest().Iterations,
            EvaluationsPerIteration = settings.Evaluations ?? new JobRequest().EvaluationsPerIteration,
            ContentWeight = settings.ContentWeight,
            StyleWeight = settings.StyleWeight,
            TvWeight = settings.TvWeight,
            Network = network,
            Preprocess = settings.Preprocess switch { "caffe" => PreprocessChoice.Caffe, "torch" => PreprocessChoice.Torch, _ => null },
            PreserveColors = settings.PreserveColors,
            Init = Init(settings.Init, jobId, uploads),
            Seed = settings.Seed ?? 0,
            StyleScale = settings.StyleScale ?? 1.0,
            Scales = Numbers<int>(settings.Scales, "--scales", "a whole number", "128,256,512"),
            StageIterations = Numbers<int>(settings.StageIterations, "--stage-iterations", "a whole number", "128,256,512"),
            Tile = settings.Tile ?? 0,
            TileOverlap = settings.TileOverlap,
            StyleLayers = Layers(settings.StyleLayers, "--style-layers"),
            ContentLayers = Layers(settings.ContentLayers, "--content-layers"),
            Pooling = settings.Pooling == "avg" ? PoolingChoice.Avg : PoolingChoice.Max,
            ActivationSmoothing = ActivationSmoothingChoices.TryParse(settings.ActivationSmoothing),
        };
        try
        {
            JobRequestParser.Validate(request, Limits);

            // The output sizes, from the content headers, before anything is uploaded or computed.
            var sizes = contents.Select(blob => ImageLoader.ReadSize(uploads.First(u => u.Blob == blob).Bytes, Limits.InputImageLimits)).ToList();
            JobSizes.Check(request, sizes, Limits);
        }
        catch (JobRequestException e)
        {
            throw new CliUsageException($"{OptionOf(e.Field)}: {e.Message[(e.Field.Length + 2)..]}", e);
        }

        return new RunPlan(new JobInput(jobId, request, workflow), uploads, note);
    }

    /// <summary>
    /// Fails now, with one line, when results could not be written to <paramref name="folder"/> (the --out folder): not
    /// after the whole job has run.
    /// </summary>
    public static void CheckWritable(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (File.Exists(full))
        {
            throw new CliUsageException($"--out {folder}: is a file; give a folder for the results.");
        }

        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--out {folder}: cannot write there ({e.Message}).", e);
        }
    }

    /// <summary>
    /// A new job with <c>--network auto</c> names the network <paramref name="resolver"/> finds (the storage account's
    /// models container first, then this machine's model store, else ResNet18) and says which in <see cref="NetworkNote"/>;
    /// any other plan is returned as it is.
    /// </summary>
    public async Task<RunPlan> ResolveAutoAsync(NetworkResolver resolver, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        if (Input.Request.Network.Kind != NetworkKind.Auto)
        {
            return this;
        }

        var (network, _, note) = await resolver.ResolveAutoAsync(cancellationToken).ConfigureAwait(false);
        return this with { Input = Input with { Request = Input.Request with { Network = network } }, NetworkNote = note };
    }

    /// <summary>A stopped job: its request as job.json recorded it when the job started.</summary>
    public static RunPlan Resume(JobDocument job, WorkflowSettings workflow)
    {
        // Canceling is final: a canceled job's activities do no work any more (StyleWork), so starting it again would
        // only fail; its results so far stay where they are.
        if (job.State == JobState.Canceled)
        {
            throw new CliUsageException($"--resume {job.JobId}: the job was canceled ({job.Reason}), which is final; run its request again as a new job.");
        }

        var request = job.Request
            ?? throw new CliUsageException($"--resume {job.JobId}: job.json holds no request (the job was rejected before it started: {job.Reason}).");

        return new RunPlan(new JobInput(job.JobId, request, workflow), [], null);
    }

    /// <summary>
    /// The network the workers of a resumed job run where its request says <c>auto</c> (the engine's configured one), or
    /// null to leave it configured as it is. Jobs recorded before requests named their network said <c>auto</c> and
    /// passed <c>--network</c> to the engine's configuration, so <c>--resume JOB --network PATH</c> gives it again. A
    /// request that names its network keeps it: another <c>--network</c> is refused rather than ignored.
    /// </summary>
    public static NetworkSpec? ResumedNetwork(JobInput resumed, string option)
    {
        ArgumentNullException.ThrowIfNull(resumed);
        var (given, _) = Network(option);
        var recorded = resumed.Request.Network;
        if (given.Kind == NetworkKind.Auto || given == recorded)
        {
            return null;
        }

        return recorded.Kind == NetworkKind.Auto
            ? given
            : throw new CliUsageException($"--network {option}: job {resumed.JobId} runs {recorded}, as its request records; leave out --network.");
    }

    private static List<string> Inputs(
        string[] paths, string option, string jobId, string folder, string sampleName, Func<SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>> sample,
        List<UploadFile> uploads)
    {
        var files = new List<(string Name, byte[] Bytes)>();
        if (paths.Length == 0)
        {
            using var picture = sample();
            files.Add((sampleName, SamplePictures.ToPng(picture)));
        }

        foreach (var path in paths)
        {
            files.Add((Path.GetFileName(path), Read(path, option)));
        }

        var blobs = new List<string>();
        foreach (var (name, bytes) in files)
        {
            var safe = BlobLayout.SafeFileName(name);
            var blob = $"uploads/{jobId}/{folder}/{safe}";
            if (blobs.Contains(blob))
            {
                // Two inputs with the same file name (from different folders) must stay two blobs.
                blob = $"uploads/{jobId}/{folder}/{blobs.Count}-{safe}";
            }

            blobs.Add(blob);
            uploads.Add(new UploadFile(blob, bytes));
        }

        return blobs;
    }

    private static LayerWeight[]? Layers(string? option, string name)
    {
        if (option is null)
        {
            return null;
        }

        return option.Split(',', StringSplitOptions.TrimEntries).Select(part =>
        {
            var colon = part.LastIndexOf(':');
            if (colon < 0)
            {
                return new LayerWeight(part);
            }

            if (!double.TryParse(part[(colon + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight))
            {
                throw new CliUsageException($"{name} '{option}': '{part}' is not NAME or NAME:WEIGHT with a number as the weight.");
            }

            return new LayerWeight(part[..colon], weight);
        }).ToArray();
    }

    private static T[]? Numbers<T>(string? option, string name, string kind, string example)
        where T : System.Numerics.INumber<T>
    {
        if (option is null)
        {
            return null;
        }

        // Whole numbers take no sign, so "-1" is reported here instead of as an odd range error later.
        var style = typeof(T) == typeof(int) ? System.Globalization.NumberStyles.None : System.Globalization.NumberStyles.Float;
        var parts = option.Split(',', StringSplitOptions.TrimEntries);
        var values = new T[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!T.TryParse(parts[i], style, System.Globalization.CultureInfo.InvariantCulture, out values[i]!))
            {
                throw new CliUsageException($"{name} '{option}': '{parts[i]}' is not {kind}; give comma-separated numbers such as {example}.");
            }
        }

        return values;
    }

    /// <summary>A named start point as it is; a path is read, checked and uploaded next to the other inputs.</summary>
    private static string Init(string? option, string jobId, List<UploadFile> uploads)
    {
        if (option is null or InitChoices.Content or InitChoices.Noise or InitChoices.Style)
        {
            return option ?? InitChoices.Content;
        }

        if (!File.Exists(option))
        {
            throw new CliUsageException($"--init {option}: not content, noise or style, and no such file.");
        }

        var blob = $"uploads/{jobId}/init/{BlobLayout.SafeFileName(Path.GetFileName(option))}";
        uploads.Add(new UploadFile(blob, Read(option, "--init")));
        return blob;
    }

    private static byte[] Read(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new CliUsageException($"{option} {path}: is a directory; give an image file.");
        }

        if (!File.Exists(path))
        {
            throw new CliUsageException($"{option} {path}: file not found.");
        }

        // The length first: a 1 GB file must not be read whole to find out it is too large.
        var length = new FileInfo(path).Length;
        if (length > Limits.MaxInputBytes)
        {
            throw new CliUsageException($"{option} {path}: the file has {length} bytes; at most {Limits.MaxInputBytes} bytes are allowed.");
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            using var image = ImageLoader.Decode(bytes, Limits.InputImageLimits);
        }
        catch (InvalidImageException e)
        {
            throw new CliUsageException($"{option} {path}: {e.Message}", e);
        }

        return bytes;
    }

    private static (NetworkSpec Network, string? Note) Network(string option)
    {
        // Auto is resolved once storage is known (ResolveAutoAsync), so the
        // request records the network and a resumed job keeps it.
        var spec = NetworkSpec.Parse(option, "--network");
        if (spec.FilePath is not { } path)
        {
            return (spec, null);
        }

        // EngineSettings checked that the file exists. The workers open the file the request names: a full path means the same file wherever they run on this machine.
        return (NetworkSpec.File(Path.GetFullPath(path)), $"network: {Path.GetFullPath(path)}");
    }

    private static string OptionOf(string field) => field switch
    {
        "height" => "--height",
        "iterations" => "--iterations",
        "evaluationsPerIteration" => "--evaluations",
        "init" => "--init",
        "styleScale" => "--style-scale",
        "tile" => "--tile",
        "tileOverlap" => "--tile-overlap",
        _ when field.StartsWith("scales", StringComparison.Ordinal) => "--scales",
        _ when field.StartsWith("stageIterations", StringComparison.Ordinal) => "--stage-iterations",
        _ when field.StartsWith("styleLayers", StringComparison.Ordinal) => "--style-layers",
        _ when field.StartsWith("contentLayers", StringComparison.Ordinal) => "--content-layers",
        "pooling" => "--pooling",
        "activationSmoothing" => "--activation-smoothing",
        "contentWeight" => "--content-weight",
        "styleWeight" => "--style-weight",
        "tvWeight" => "--tv-weight",
        _ when field.EndsWith(".weight", StringComparison.Ordinal) => "--style-blend-weights",
        _ when field.StartsWith("content", StringComparison.Ordinal) => "--content",
        _ when field.StartsWith("styles", StringComparison.Ordinal) => "--style",
        _ => field,
    };
}
