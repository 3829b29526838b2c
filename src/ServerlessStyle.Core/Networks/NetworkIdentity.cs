using System.Security.Cryptography;

namespace ServerlessStyle.Core.Networks;

/// <summary>Where a resolved loss network came from (by name in job.json and the models API).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<NetworkOrigin>))]
public enum NetworkOrigin
{
    /// <summary>The storage account's <c>models</c> container (downloaded to a local cache keyed by its SHA-256).</summary>
    ModelsContainer,

    /// <summary>The local model store (<c>models import</c>, <c>models fetch</c>).</summary>
    ModelStore,

    /// <summary>A Keras .h5 or ONNX file named by path (or found in Keras' own cache folder).</summary>
    File,

    /// <summary>The ResNet18 that ships inside the NuGet package.</summary>
    Bundled,

    /// <summary>Generated in process from a seed (the test network): there is no file to digest.</summary>
    Generated,
}

/// <summary>
/// Which network ran: its name, the SHA-256 (lowercase hex) of the model blob or file it was built from (null for a
/// generated network), where that came from, and the blob name, path or seed that says exactly which one.
/// </summary>
public sealed record NetworkIdentity(string Name, string? Sha256, NetworkOrigin Origin, string Location);

/// <summary>A loaded loss network together with its identity.</summary>
public sealed record ResolvedNetwork(LossNetwork Network, NetworkIdentity Identity);

/// <summary>SHA-256 digests of model files, the one form the model store, the models container and job records share.</summary>
public static class ModelDigest
{
    /// <summary>The SHA-256 of a file as lowercase hex.</summary>
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> and returns the digest of what was copied as
    /// lowercase hex: a download is checked in the same pass that writes it, without reading the file again.
    /// </summary>
    public static async Task<string> CopyAsync(Stream source, Stream destination, HashAlgorithmName algorithm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        using var hash = IncrementalHash.CreateHash(algorithm);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>True when <paramref name="digest"/> looks like a SHA-256 in hex (64 hex digits, any case).</summary>
    public static bool IsSha256(string? digest) =>
        digest is { Length: 64 } && digest.All(char.IsAsciiHexDigit);
}
