using System.Globalization;
using System.Xml.Linq;
using ServerlessStyle.Core.Networks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>
/// <c>--help</c> of every command renders. Option descriptions are Spectre markup, so a description with square
/// brackets (<c>[1,3,H,W]</c>) made <c>--help</c> fail with "Could not find color or style".
/// </summary>
public sealed class HelpTests
{
    /// <summary>
    /// Every command and branch path of the real command tree, read from Spectre's own model of it (the hidden
    /// <c>cli xmldoc</c> command), so a command added later is covered without editing this list. "" is the root.
    /// </summary>
    public static TheoryData<string> Commands()
    {
        var (code, xml, error) = Run(1000, "cli", "xmldoc");
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

    [Fact]
    public void Commands_CommandTree_HoldsTheKnownCommandsAndBranches()
    {
        // Guards the enumeration itself: were the model empty or unread, the theory below would test nothing.
        var commands = ((IEnumerable<object[]>)Commands()).Select(row => (string)row[0]).ToList();

        Assert.Contains("run", commands);
        Assert.Contains("eval", commands);
        Assert.Contains("models", commands);
        Assert.Contains("models import", commands);
        Assert.True(commands.Count >= 14, $"only {commands.Count} commands: {string.Join(", ", commands)}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_EveryCommand_RendersWithExitCodeZeroAndNoError(string command)
    {
        var (code, output, error) = Run(80, [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.True(code == 0, $"'{command} --help': exit {code}: {error}");
        Assert.Equal("", error);
        Assert.Contains("USAGE:", output);
    }

    [Fact]
    public void Help_Run_ShowsEachNetworksDefaultLossWeights()
    {
        var (_, output, _) = Run(1000, "run", "--help");

        var lines = output.Split('\n');
        foreach (var (option, vgg19, resnet18) in new[]
                 {
                     ("--content-weight", Vgg19.DefaultWeights.Content, ResNet18.DefaultWeights.Content),
                     ("--style-weight", Vgg19.DefaultWeights.Style, ResNet18.DefaultWeights.Style),
                     ("--tv-weight", Vgg19.DefaultWeights.TotalVariation, ResNet18.DefaultWeights.TotalVariation),
                 })
        {
            var line = Assert.Single(lines, l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
            var numbers = System.Text.RegularExpressions.Regex.Matches(line, @"(vgg19|resnet18) ([0-9.e+-]+)")
                .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(vgg19, numbers["vgg19"]);
            Assert.Equal(resnet18, numbers["resnet18"]);
        }
    }

    /// <summary>The real command tree with its own plain console of the given width, standard error captured.</summary>
    private static (int ExitCode, string Output, string Error) Run(int width, params string[] args)
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
        var app = Program.CreateApp();
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
