namespace ServerlessStyle.Core.Tests;

/// <summary>Where tests find the repository and the shared sample images (../shared/images beside the checkout).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string SharedImages => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "images"));

    public static string SharedImage(string relative)
    {
        var path = Path.Combine(SharedImages, relative);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Sample image {path} is missing: the tests expect ../shared/images beside the checkout.", path);
        }

        return path;
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
