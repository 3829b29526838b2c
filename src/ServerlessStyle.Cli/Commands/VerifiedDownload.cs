using System.Security.Cryptography;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Cli.Commands;

/// <summary>A download whose bytes did not match the checksum published for them; nothing of it was kept.</summary>
public sealed class DownloadVerificationException(string message) : Exception(message);

/// <summary>Downloads a file and keeps it only when its MD5 is the one published for it.</summary>
internal static class VerifiedDownload
{
    /// <summary>
    /// Streams <paramref name="url"/> into <paramref name="destination"/>.part while hashing it, and moves it to
    /// <paramref name="destination"/> only if its MD5 is <paramref name="expectedMd5"/>; otherwise deletes it and throws
    /// <see cref="DownloadVerificationException"/> naming both digests. MD5 because it is the checksum Keras publishes for
    /// its weight files (keras.applications' file_hash): it detects a truncated or substituted download, which is the point here.
    /// </summary>
    public static async Task DownloadAsync(HttpClient http, Uri url, string expectedMd5, string destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        var part = destination + ".part";
        try
        {
            using (var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false))
            {
                response.EnsureSuccessStatusCode();
                string actual;
                await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
                await using (var file = File.Create(part))
                {
                    actual = await ModelDigest.CopyAsync(source, file, HashAlgorithmName.MD5, cancellationToken).ConfigureAwait(false);
                }

                if (!string.Equals(actual, expectedMd5, StringComparison.OrdinalIgnoreCase))
                {
                    throw new DownloadVerificationException(
                        $"the file downloaded from {url} has MD5 {actual}, but {expectedMd5} is published for it: it is corrupted or not the expected file. It was deleted; nothing was imported.");
                }
            }

            File.Move(part, destination, overwrite: true);
        }
        finally
        {
            if (File.Exists(part))
            {
                File.Delete(part);
            }
        }
    }
}
