using System.Text;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Every blob path of DESIGN.md section 3 in one place. Paths are inside a container; the container names themselves
/// (with the deployment prefix) come from <see cref="Storage.StorageOptions"/>.
/// </summary>
public static class BlobLayout
{
    private const int MaxLabelLength = 40;

    /// <summary>In the results container: the request, status and summary of a job.</summary>
    public static string JobJson(string jobId) => $"{jobId}/job.json";

    /// <summary>In the results container: the image after iteration <paramref name="iteration"/> (0-based, as in the Keras example).</summary>
    public static string IterationImage(string jobId, string pairId, int iteration) =>
        $"{jobId}/{pairId}/res_at_iteration_{iteration}.png";

    public static string FinalImage(string jobId, string pairId) => $"{jobId}/{pairId}/final.png";

    /// <summary>In the results container: one row per evaluation, <see cref="LossCsvHeader"/> first.</summary>
    public static string LossLog(string jobId, string pairId) => $"{jobId}/{pairId}/loss.csv";

    public const string LossCsvHeader = "evaluation,iteration,content,style,tv,loss";

    /// <summary>In the work container: content features and style Gram matrices, computed once per pair.</summary>
    public static string Targets(string jobId, string pairId) => $"{jobId}/{pairId}/targets.bin";

    /// <summary>In the work container: the optimiser state before chunk <paramref name="chunk"/>; immutable once written.</summary>
    public static string State(string jobId, string pairId, int chunk) => $"{jobId}/{pairId}/state-{chunk:0000}.bin";

    /// <summary>In the work container: chunk <paramref name="iteration"/>'s outcome (a ChunkOutcome as JSON), read back by re-runs and the viewer.</summary>
    public static string ChunkOutcome(string jobId, string pairId, int iteration) => $"{jobId}/{pairId}/outcome-{iteration:0000}.json";

    /// <summary>In the uploads container: a file sent with a multipart request.</summary>
    public static string Upload(string jobId, string fileName) => $"{jobId}/{SafeFileName(fileName)}";

    /// <summary>The prefix under which a job's results live, for the 202 answer.</summary>
    public static string ResultsPrefix(string jobId) => $"{jobId}/";

    /// <summary>"p{index}-{label}" with the label made safe for blob names and instance ids (lowercase, [a-z0-9_-]).</summary>
    public static string PairId(int index, string label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var safe = new StringBuilder();
        foreach (var c in label.ToLowerInvariant())
        {
            safe.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' ? c : '_');
        }

        var text = safe.ToString().Trim('_', '-');
        if (text.Length > MaxLabelLength)
        {
            text = text[..MaxLabelLength];
        }

        return text.Length == 0 ? $"p{index}" : $"p{index}-{text}";
    }

    /// <summary>The file name of a blob without its folders and extension: <c>styles/starry_night.jpg</c> gives <c>starry_night</c>.</summary>
    public static string Stem(string blobName) => Path.GetFileNameWithoutExtension(blobName.Split('/')[^1]);

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
