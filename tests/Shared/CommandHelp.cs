using System.Xml.Linq;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Tests.Shared;

/// <summary>
/// Runs <c>--help</c> of a real command tree (the CLI's, the benchmarks'). Option descriptions are Spectre markup, so a
/// description with square brackets (<c>[1,3,H,W]</c>) made <c>--help</c> fail with "Could not find color or style".
/// </summary>
internal static class CommandHelp
{
    /// <summary>
    /// Every command and branch path of the tree, read from Spectre's own model of it (the hidden <c>cli xmldoc</c>
    /// command), so a command added later is covered without editing a list. "" is the root.
    /// </summary>
    public static TheoryData<string> Paths(Func<CommandApp> createApp)
    {
        var (code, xml, error) = Run(createApp, 1000, "cli", "xmldoc");
        Assert.True(code == 0, $"cli xmldoc: exit {code}: {error}");
        var paths = new TheoryData<string> { "" };
        void Add(XElement parent, string prefix)
        {
            foreach (var command in parent.Elements("Command"))
            {
                var path = $"{prefix}{command.Attribute("Name")!.Value}";
                paths.Add(path);
                Add(command, path + " ");
            }
        }

        Add(XDocument.Parse(xml).Root!, "");
        return paths;
    }

    /// <summary>The command paths as strings.</summary>
    public static List<string> List(Func<CommandApp> createApp) => ((IEnumerable<object[]>)Paths(createApp)).Select(row => (string)row[0]).ToList();

    /// <summary><c>PATH --help</c> must exit 0, print its usage and nothing on standard error.</summary>
    public static void AssertRenders(Func<CommandApp> createApp, string path)
    {
        var (code, output, error) = Run(createApp, 80, [.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.True(code == 0, $"'{path} --help': exit {code}: {error}");
        Assert.Equal("", error);
        Assert.Contains("USAGE:", output);
    }

    /// <summary>The tree with its own plain console of the given width (the help's line length), standard error captured.</summary>
    public static (int ExitCode, string Output, string Error) Run(Func<CommandApp> createApp, int width, params string[] args)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        var app = createApp();
        app.Configure(config => config.ConfigureConsole(console));
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            return (app.Run(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }
}
