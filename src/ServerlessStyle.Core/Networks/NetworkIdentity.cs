using System.Security.Cryptography;

namespace ServerlessStyle.Core.Networks;

/// <summary>Where a resolved loss network came from.</summary>
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

    /// <summary>True when <paramref name="digest"/> looks like a SHA-256 in hex (64 hex digits, any case).</summary>
    public static bool IsSha256(string? digest) =>
        digest is { Length: 64 } && digest.All(char.IsAsciiHexDigit);
}
