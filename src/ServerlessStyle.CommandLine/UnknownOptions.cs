using System.Reflection;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace ServerlessStyle.CommandLine;

/// <summary>
/// A mistyped option fails the command (strict parsing) with one line that names it and, when one is close, the known
/// option it may have meant: silently ignoring it ran, say, the default 10 iterations after <c>--iteration 50</c>.
/// </summary>
public static partial class UnknownOptions
{
    /// <summary>The exit code of a command line that does not parse (a usage error), as getopt-style tools use.</summary>
    public const int ExitCode = 2;

    /// <summary>Makes <paramref name="config"/> reject options its commands do not declare.</summary>
    public static void MakeStrict(IConfigurator config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Settings.StrictParsing = true;
    }

    /// <summary>
    /// The line for a parse failure; an unknown option gets the nearest option declared by the settings of
    /// <paramref name="commands"/> (an edit distance of at most a third of its length) as a suggestion.
    /// </summary>
    public static string Describe(CommandParseException exception, Assembly commands)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (UnknownOptionMessage().Match(exception.Message) is not { Success: true } match)
        {
            return exception.Message;
        }

        var name = match.Groups[1].Value;
        var typed = name.Length == 1 ? $"-{name}" : $"--{name}";
        var nearest = Known(commands)
            .Select(option => (Option: option, Distance: Distance(name, option)))
            .Where(c => c.Distance <= Math.Max(1, name.Length / 3))
            .OrderBy(c => c.Distance).ThenBy(c => c.Option, StringComparer.Ordinal)
            .Select(c => c.Option)
            .FirstOrDefault();
        return nearest is null ? $"unknown option {typed}." : $"unknown option {typed}; did you mean --{nearest}?";
    }

    /// <summary>The long option names declared by the command settings of an assembly (inherited ones included).</summary>
    private static IEnumerable<string> Known(Assembly commands) =>
        commands.GetTypes()
            .Where(t => typeof(CommandSettings).IsAssignableFrom(t))
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .SelectMany(p => p.GetCustomAttribute<CommandOptionAttribute>()?.LongNames ?? [])
            .Distinct(StringComparer.Ordinal);

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    [GeneratedRegex("^(?:Unknown|Unexpected) option '([^']+)'\\.?$")]
    private static partial Regex UnknownOptionMessage();
}
