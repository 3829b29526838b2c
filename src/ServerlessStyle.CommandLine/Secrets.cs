using System.Text.RegularExpressions;

namespace ServerlessStyle.CommandLine;

/// <summary>Keeps keys out of what the CLI prints: an error or log line may quote a connection string or a signed URL.</summary>
public static partial class Secrets
{
    /// <summary>The text with every AccountKey, SharedAccessSignature and URL signature replaced by ***.</summary>
    public static string Redact(string text) => KeyPattern().Replace(text, "$1=***");

    [GeneratedRegex("(AccountKey|SharedAccessSignature|sig)=[^;&\\s\"']+", RegexOptions.IgnoreCase)]
    private static partial Regex KeyPattern();
}
