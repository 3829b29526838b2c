namespace ServerlessStyle.Core.Viewer;

/// <summary>The self-contained job page (HTML, CSS and JavaScript inline; nothing from outside), an embedded resource.</summary>
public static class JobViewPage
{
    public const string ContentType = "text/html; charset=utf-8";

    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(JobViewPage).Assembly.GetManifestResourceStream("ServerlessStyle.Core.Viewer.job-view.html")
            ?? throw new InvalidOperationException("The embedded resource ServerlessStyle.Core.Viewer.job-view.html is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The page's HTML; it reads <c>view.json</c> and <c>files/...</c> relative to its own URL.</summary>
    public static string Html => Page.Value;
}
