namespace ServerlessStyle.Core.Storage;

/// <summary>
/// A file of a job in the results container: <see cref="Name"/> inside the container (<c>{job}/...</c>) and
/// <see cref="PathInJob"/>, the part below the job's folder that download folders and the job page's links use.
/// </summary>
public sealed record ResultFile(string JobId, string Name)
{
    public string PathInJob => Name[(JobId.Length + 1)..];
}

/// <summary>
/// A pair's files as one listing of the job found them: <see cref="Folder"/> (below the job) is its latest stage's
/// (a coarse-to-fine pair keeps each stage in a folder of its own), the iteration images are that stage's in iteration
/// order, and the final image and loss log are null until written.
/// </summary>
public sealed record PairResultFiles(string Folder, IReadOnlyList<IterationResultFile> Iterations, ResultFile? FinalImage, ResultFile? LossLog);

/// <summary>The image of iteration <paramref name="Iteration"/> (0-based).</summary>
public sealed record IterationResultFile(int Iteration, ResultFile Image);

/// <summary>Every file of a job in the results container at one moment (one listing), by what each file is.</summary>
public sealed class JobResultFiles(string jobId, IReadOnlyList<string> names)
{
    private readonly HashSet<string> _names = new(names, StringComparer.Ordinal);

    public string JobId { get; } = jobId;

    /// <summary>Every file, in name order.</summary>
    public IReadOnlyList<ResultFile> All { get; } = [.. names.Select(n => new ResultFile(jobId, n))];

    public ResultFile JobJson => new(JobId, BlobLayout.JobJson(JobId));

    /// <summary>The job's contact sheet, or null until written.</summary>
    public ResultFile? ContactSheet => Present(BlobLayout.ContactSheet(JobId));

    /// <summary>The files of pair <paramref name="pairId"/> (of its latest stage).</summary>
    public PairResultFiles Pair(string pairId)
    {
        var folder = BlobLayout.LatestPairFolder(names, JobId, pairId);
        var iterations = BlobLayout.IterationImages(names, JobId, pairId).Select(i => new IterationResultFile(i.Iteration, new ResultFile(JobId, i.Name))).ToList();
        return new PairResultFiles(folder, iterations, Present(BlobLayout.FinalImage(JobId, folder)), Present(BlobLayout.LossLog(JobId, folder)));
    }

    /// <summary>The downscaled copy of a result image (<see cref="BlobLayout.Preview"/>), or null when it has none (an image of at most <see cref="Imaging.ImagePreview.LongSide"/> px).</summary>
    public ResultFile? PreviewOf(ResultFile image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Present(BlobLayout.Preview(image.Name));
    }

    private ResultFile? Present(string name) => _names.Contains(name) ? new ResultFile(JobId, name) : null;
}
