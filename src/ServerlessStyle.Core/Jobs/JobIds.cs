using System.Security.Cryptography;
using System.Text;

namespace ServerlessStyle.Core.Jobs;

/// <summary>
/// Deterministic job and pair ids: the same inbox blob (same ETag) or the same Idempotency-Key always maps
/// to the same job, so a duplicate delivery finds the existing instance instead of starting a second one.
/// </summary>
public static class JobIds
{
    private const int MaxLabelLength = 40;

    /// <summary>For an inbox blob: a hash of container, name and ETag (a re-upload has a new ETag and is a new job).</summary>
    public static string FromBlob(string container, string blobName, string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(container);
        ArgumentException.ThrowIfNullOrEmpty(blobName);
        ArgumentException.ThrowIfNullOrEmpty(etag);
        // The ETag is quoted in some APIs and not in others; both spellings must give the same job.
        return "blob-" + Hash($"{container}\n{blobName}\n{etag.Trim('"')}");
    }

    /// <summary>For an HTTP request with an Idempotency-Key header: a hash of the key.</summary>
    public static string FromIdempotencyKey(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return "http-" + Hash(key.Trim());
    }

    /// <summary>For an HTTP request without a key: a fresh random id.</summary>
    public static string New() => "job-" + Guid.NewGuid().ToString("N");

    /// <summary>The StylePair sub-orchestration of pair <paramref name="pairIndex"/>; derived, so a replay reuses it.</summary>
    public static string Pair(string jobId, int pairIndex) => $"{jobId}-p{pairIndex}";

    /// <summary>Job ids become blob folders and instance ids: lowercase letters, digits and '-' only.</summary>
    public static bool IsValid(string? jobId) =>
        !string.IsNullOrEmpty(jobId) && jobId.Length <= 64 && jobId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

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

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
