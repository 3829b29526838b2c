using System.ComponentModel;
using ServerlessStyle.Core.Imaging;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli.Commands;

/// <summary><c>sheet --out FILE IMG...</c>: images side by side in one labelled row (the pictures in docs/ are made with it).</summary>
internal sealed class SheetCommand : Command<SheetCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<IMG>")]
        [Description("Images, left to right.")]
        public string[] Images { get; init; } = [];

        [CommandOption("--out <FILE>")]
        [Description("The PNG to write.")]
        public string Out { get; init; } = "sheet.png";

        [CommandOption("--label <TEXT>")]
        [Description("The row's label (digits, a-z, '-', '_' and spaces).")]
        public string Label { get; init; } = "";

        [CommandOption("--cell <PX>")]
        [Description("The square cell each image is fitted into (default 256).")]
        public int Cell { get; init; } = 256;

        public override ValidationResult Validate() =>
            Images.FirstOrDefault(i => !File.Exists(i)) is { } missing ? ValidationResult.Error($"file not found: {missing}") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var cells = settings.Images.Select((path, i) => new ContactSheetCell(i, File.ReadAllBytes(path))).ToList();
        File.WriteAllBytes(settings.Out, ContactSheet.CreatePng([new ContactSheetRow(settings.Label, cells)], settings.Cell));
        Console.WriteLine($"wrote {settings.Out}");
        return 0;
    }
}
