using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Tests.Viewer;
using ServerlessStyle.Core.Workflow;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Core.Tests.Imaging;

public sealed class ContactSheetTests
{
    private static byte[] SolidPng(int width, int height, Rgb24 color) => ViewerTestJob.Png(width, height, color).ToArray();

    [Fact]
    public void Create_TwoRowsThreeColumns_SizeFollowsTheGrid()
    {
        const int cell = 40;
        var rows = new[]
        {
            new ContactSheetRow("p0-wave", [new(0, SolidPng(60, 30, new(255, 0, 0))), new(1, SolidPng(60, 30, new(0, 255, 0))), new(2, SolidPng(60, 30, new(0, 0, 255)))]),
            new ContactSheetRow("p1-the_scream", [new(0, SolidPng(20, 40, new(255, 255, 0)))]),
        };

        using var sheet = ContactSheet.Create(rows, cell);

        // Padding around and between 3 cells across; each row is its label strip, the cell, the index strip and padding.
        Assert.Equal(12 + 3 * (cell + 12), sheet.Width);
        Assert.Equal(12 + 2 * (22 + cell + 22 + 12), sheet.Height);
        Assert.Equal((ContactSheet.Padding, ContactSheet.LabelHeight), (12, 22));
    }

    [Fact]
    public void Create_SolidCells_CellCentreKeepsTheImageColour()
    {
        const int cell = 40;
        var blue = new Rgb24(10, 20, 250);
        using var sheet = ContactSheet.Create([new ContactSheetRow("p0", [new(0, SolidPng(60, 30, new(250, 10, 10))), new(7, SolidPng(60, 30, blue))])], cell);

        // Resampling a solid image keeps its colour up to rounding: 2 levels of 255 allow for the bicubic kernel's rounding.
        var left = ContactSheet.Padding + (cell + ContactSheet.Padding);
        var top = ContactSheet.Padding + ContactSheet.LabelHeight;
        var centre = sheet[left + cell / 2, top + cell / 2];
        Assert.InRange(centre.R, blue.R - 2, blue.R + 2);
        Assert.InRange(centre.G, blue.G - 2, blue.G + 2);
        Assert.InRange(centre.B, blue.B - 2, blue.B + 2);

        // A 60x30 image fitted into 40x40 leaves 10 rows of cell background above it.
        Assert.Equal(ContactSheet.CellBackground, sheet[left + cell / 2, top + 2]);
    }

    [Fact]
    public void Create_Labels_DrawTextInTheLabelAndIndexStrips()
    {
        const int cell = 40;
        using var sheet = ContactSheet.Create([new ContactSheetRow("p0-x", [new(3, SolidPng(10, 10, new(0, 0, 0)))])], cell);

        var labelStrip = Count(sheet, 0, ContactSheet.Padding, sheet.Width, ContactSheet.LabelHeight, ContactSheet.Text);
        var indexStrip = Count(sheet, 0, ContactSheet.Padding + ContactSheet.LabelHeight + cell, sheet.Width, ContactSheet.LabelHeight, ContactSheet.Text);

        // "p0-x" and "3" as 5x7 glyphs scaled by 2: every lit font pixel is a 2x2 square, so counts are multiples of 4.
        Assert.True(labelStrip > 0 && labelStrip % 4 == 0, $"label strip has {labelStrip} text pixels");
        Assert.True(indexStrip > 0 && indexStrip % 4 == 0, $"index strip has {indexStrip} text pixels");
        // '3' has 14 lit pixels in its 5x7 glyph.
        Assert.Equal(14 * 4, indexStrip);
    }

    [Fact]
    public void Create_NoRows_ThrowsNamingTheProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => ContactSheet.Create([]));
        Assert.Contains("at least one row", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BitmapFont_LabelCharacters_AllHaveGlyphs()
    {
        foreach (var c in "0123456789abcdefghijklmnopqrstuvwxyz-_ ABC")
        {
            Assert.True(BitmapFont.Supports(c), $"no glyph for '{c}'");
        }

        Assert.False(BitmapFont.Supports('%'));
        Assert.Equal(2 * (3 * 6 - 1), BitmapFont.MeasureWidth("abc", 2));
    }

    [Fact]
    [Trait("Category", "Storage")]
    public async Task JobContactSheet_Write_StoresADecodablePngSizedByTheGrid()
    {
        var job = await ViewerTestJob.CreateAsync();
        const int cell = 64;

        var name = await JobContactSheet.WriteAsync(job.Jobs, ViewerTestJob.JobId, cell);

        Assert.Equal($"{ViewerTestJob.JobId}/contact-sheet.png", name);
        var blob = await job.Store.TryDownloadAsync(job.Results, name!);
        Assert.NotNull(blob);
        using var sheet = Image.Load<Rgb24>(blob.Value.Content.ToArray());
        // Two pairs (rows); the first has 4 iterations, so 4 columns.
        Assert.Equal(12 + 4 * (cell + 12), sheet.Width);
        Assert.Equal(12 + 2 * (22 + cell + 22 + 12), sheet.Height);
    }

    private static int Count(Image<Rgb24> image, int x0, int y0, int width, int height, Rgb24 color)
    {
        var count = 0;
        for (var y = y0; y < y0 + height; y++)
        {
            for (var x = x0; x < x0 + width; x++)
            {
                count += image[x, y].Equals(color) ? 1 : 0;
            }
        }

        return count;
    }
}
