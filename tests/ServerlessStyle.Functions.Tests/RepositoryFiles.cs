namespace ServerlessStyle.Functions.Tests;

/// <summary>Files of the repository the tests run in (host.json, infra/, scripts/), found from the test binaries upwards.</summary>
internal static class RepositoryFiles
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "ServerlessStyle.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ServerlessStyle.sln above {AppContext.BaseDirectory}.");
    }

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root(), .. parts]);
}
