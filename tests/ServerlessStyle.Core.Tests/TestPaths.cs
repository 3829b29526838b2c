namespace ServerlessStyle.Core.Tests;

/// <summary>Where tests find the repository and its sample images (samples/, see samples/SOURCES.md).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Samples => Path.Combine(RepositoryRoot, "samples");

    /// <summary>A file under samples/, such as <c>content/chelsea.png</c> or <c>styles/starry_night.jpg</c>.</summary>
    public static string Sample(string relative)
    {
        var path = Path.Combine(Samples, relative);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Sample image {path} is missing from the repository's samples/ folder.", path);
        }

        return path;
    }

    /// <summary>
    /// A real JPEG (samples/styles/starry_night.jpg) cut off 20 bytes into its first Huffman table, as the scikit-image
    /// test file truncated.jpg is. The cut falls in the headers on purpose: ImageSharp decodes a JPEG cut inside its
    /// scan data without an error (the missing rows come out grey), so only a header cut is a corrupt file for it.
    /// </summary>
    public static byte[] TruncatedJpeg()
    {
        var jpeg = File.ReadAllBytes(Sample("styles/starry_night.jpg"));
        for (var i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC4)
            {
                return jpeg[..(i + 20)];
            }
        }

        throw new InvalidOperationException("samples/styles/starry_night.jpg has no Huffman table (DHT marker).");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessStyle.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No ServerlessStyle.sln above {AppContext.BaseDirectory}.");
    }
}
