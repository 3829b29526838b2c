using System.Text;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// Every blob path of docs/contracts.md (Blob layout) in one place. Paths are inside a container; the container names themselves
/// (with the deployment prefix) come from <see cref="Storage.StorageOptions"/>.
/// </summary>
public static class BlobLayout
{
    /// <summary>In the results container: the request, status and summary of a job.</summary>
    public static string JobJson(string jobId) => $"{jobId}/job.json";

    /// <summary>In the results container: the image after iteration <paramref name="iteration"/> (0-based, as in the Keras example).</summary>
    public static string IterationImage(string jobId, string pairId, int iteration) =>
        $"{jobId}/{pairId}/res_at_iteration_{iteration}.png";

    public static string FinalImage(string jobId, string pairId) => $"{jobId}/{pairId}/final.png";

    /// <summary>
    /// Next to a result image larger than <see cref="Imaging.ImagePreview.LongSide"/>: its downscaled copy for the job page and
    /// the contact sheet (<c>final.png</c> has <c>final.preview.png</c>). The name is no iteration image's.
    /// </summary>
    public static string Preview(string imageName)
    {
        ArgumentNullException.ThrowIfNull(imageName);
        return imageName.EndsWith(".png", StringComparison.Ordinal)
            ? $"{imageName[..^".png".Length]}{PreviewSuffix}"
            : throw new ArgumentException($"'{imageName}' is not a PNG result image (its name should end in .png).", nameof(imageName));
    }

    /// <summary>How a preview's name ends (<see cref="Preview"/>).</summary>
    public const string PreviewSuffix = ".preview.png";

    /// <summary>The iteration of an image file name <c>res_at_iteration_{i}.png</c>; false for any other name.</summary>
    public static bool TryParseIterationImage(string fileName, out int iteration)
    {
        iteration = -1;
        const string prefix = "res_at_iteration_", suffix = ".png";
        return fileName.StartsWith(prefix, StringComparison.Ordinal) && fileName.EndsWith(suffix, StringComparison.Ordinal)
            && int.TryParse(fileName[prefix.Length..^suffix.Length], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out iteration);
    }

    /// <summary>
    /// The folder below the job that holds a pair's latest images: a coarse-to-fine pair keeps each stage in
    /// <c>{pair}/stage-{k}-{height}/</c>, and the highest stage k with blobs among <paramref name="names"/> is the one being
    /// painted (its final image is the pair's); a single-stage pair's folder is <c>{pair}</c>.
    /// </summary>
    public static string LatestPairFolder(IEnumerable<string> names, string jobId, string pairId)
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
            if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) && index > latestIndex)
            {
                (latest, latestIndex) = (folder, index);
            }
        }

        return latest ?? pairId;
    }

    /// <summary>The iteration images of a pair's latest folder among <paramref name="names"/>, by iteration: (i, blob name).</summary>
    public static IReadOnlyList<(int Iteration, string Name)> IterationImages(IReadOnlyList<string> names, string jobId, string pairId)
    {
        var folder = $"{jobId}/{LatestPairFolder(names, jobId, pairId)}/";
        var images = new List<(int, string)>();
        foreach (var name in names.Where(n => n.StartsWith(folder, StringComparison.Ordinal)))
        {
            if (TryParseIterationImage(name[folder.Length..], out var i))
            {
                images.Add((i, name));
            }
        }

        // Blob listings sort by name, which puts 10 before 2.
        images.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return images;
    }

    /// <summary>The contact sheet's name inside the job's results folder.</summary>
    public const string ContactSheetFile = "contact-sheet.png";

    /// <summary>In the results container: the job's contact sheet (one row per pair, one column per iteration).</summary>
    public static string ContactSheet(string jobId) => $"{jobId}/{ContactSheetFile}";

    /// <summary>In the results container: one row per evaluation, in the format of <see cref="LossCsv"/>.</summary>
    public static string LossLog(string jobId, string pairId) => $"{jobId}/{pairId}/loss.csv";

    /// <summary>In the work container: content features and style Gram matrices, computed once per pair.</summary>
    public static string Targets(string jobId, string pairId) => $"{jobId}/{pairId}/targets.bin";

    /// <summary>In the work container: the optimiser state before chunk <paramref name="chunk"/>; immutable once written.</summary>
    public static string State(string jobId, string pairId, int chunk) => $"{jobId}/{pairId}/state-{chunk:0000}.bin";

    /// <summary>The chunk index of a state blob name (<c>.../state-0004.bin</c>); false for any other name.</summary>
    public static bool TryParseState(string name, out int index)
    {
        index = -1;
        var file = name[(name.LastIndexOf('/') + 1)..];
        return file.StartsWith("state-", StringComparison.Ordinal) && file.EndsWith(".bin", StringComparison.Ordinal)
            && int.TryParse(file["state-".Length..^".bin".Length], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }

    /// <summary>In the work container: chunk <paramref name="iteration"/>'s outcome (a ChunkOutcome as JSON), read back by re-runs and the viewer.</summary>
    public static string ChunkOutcome(string jobId, string pairId, int iteration) => $"{jobId}/{pairId}/outcome-{iteration:0000}.json";

    /// <summary>
    /// A tile's folder below its stage's (<c>{pair}/tile-{t:000}</c>): it holds the tile's targets, states and outcomes
    /// under the names a pair's have (<see cref="Targets"/>, <see cref="State"/>, <see cref="ChunkOutcome"/>).
    /// </summary>
    public static string TilePair(string pairId, int tile) => $"{pairId}/tile-{tile:000}";

    /// <summary>In the work container: a tiled stage's grid (its size and tiles, as JSON), written once its tiles are prepared.</summary>
    public static string TileGrid(string jobId, string pairId) => $"{jobId}/{pairId}/tiles.json";

    /// <summary>
    /// In the work container: a tiled stage's whole image before iteration <paramref name="iteration"/> (0: the start
    /// point; i + 1: the tiles of iteration i blended), raw float32 (.npy) so the next iteration starts from it exactly.
    /// </summary>
    public static string TiledImage(string jobId, string pairId, int iteration) => $"{jobId}/{pairId}/image-{iteration:0000}.npy";

    /// <summary>In the work container: a tiled stage's blended style Grams per position, written once with its targets.</summary>
    public static string TiledStyle(string jobId, string pairId) => $"{jobId}/{pairId}/style-grams.bin";

    /// <summary>
    /// In the work container: a tiled stage's style residual per position at <see cref="TiledImage"/>
    /// <paramref name="iteration"/> (the style's Grams minus that image's), which every tile of that iteration shares.
    /// </summary>
    public static string TiledResidual(string jobId, string pairId, int iteration) => $"{jobId}/{pairId}/residual-{iteration:0000}.bin";

    /// <summary>
    /// In the work container: a hash of the style Grams tile <paramref name="tile"/> aimed at in iteration
    /// <paramref name="iteration"/> (a shared residual's), so that the next iteration can tell whether its objective changed.
    /// </summary>
    public static string TileObjective(string jobId, string pairId, int tile, int iteration) =>
        $"{jobId}/{TilePair(pairId, tile)}/objective-{iteration:0000}.txt";

    /// <summary>In the work container: tile <paramref name="tile"/>'s crop of <see cref="TiledImage"/>, where its iteration starts.</summary>
    public static string TileStart(string jobId, string pairId, int tile, int iteration) =>
        $"{jobId}/{TilePair(pairId, tile)}/start-{iteration:0000}.npy";

    /// <summary>In the work container: tile <paramref name="tile"/>'s iterate after iteration <paramref name="iteration"/>, which the blend reads.</summary>
    public static string TileEnd(string jobId, string pairId, int tile, int iteration) =>
        $"{jobId}/{TilePair(pairId, tile)}/end-{iteration:0000}.npy";

    /// <summary>In the work container: a tile's loss rows of one iteration, in the format of <see cref="LossCsv"/>.</summary>
    public static string TileRows(string jobId, string pairId, int tile, int iteration) =>
        $"{jobId}/{TilePair(pairId, tile)}/rows-{iteration:0000}.csv";

    /// <summary>
    /// In the work container: how often an activity was started and how often it ended (<c>{"started":n,"ended":m}</c>);
    /// <paramref name="activity"/> names it within the job, e.g. <c>validate</c> or <c>p0-x/chunk-0003</c>.
    /// </summary>
    public static string Attempts(string jobId, string activity) => $"{jobId}/attempts/{activity}.json";

    /// <summary>In the uploads container: a file sent with a multipart request.</summary>
    public static string Upload(string jobId, string fileName) => $"{jobId}/{SafeFileName(fileName)}";

    /// <summary>In the results container: the prefix under which a job's results live (also for the 202 answer).</summary>
    public static string ResultsPrefix(string jobId) => $"{jobId}/";

    /// <summary>In the work container: the prefix of a job's internal state (targets, checkpoints, outcomes, attempts).</summary>
    public static string WorkPrefix(string jobId) => $"{jobId}/";

    /// <summary>In the uploads container: the prefix of the files sent with a job (<see cref="Upload"/>).</summary>
    public static string UploadsPrefix(string jobId) => $"{jobId}/";

    /// <summary>A file name from an upload, stripped of folders and of characters blob names and URLs dislike.</summary>
    public static string SafeFileName(string fileName)
    {
        var name = fileName.Replace('\\', '/').Split('/')[^1];
        var safe = new StringBuilder();
        foreach (var c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        var text = safe.ToString().TrimStart('.');
        return text.Length == 0 ? "file" : text.Length > 100 ? text[^100..] : text;
    }
}
