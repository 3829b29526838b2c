using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ServerlessStyle.Core.Imaging;

/// <summary>One row of a contact sheet: a label (the pair id) and its cells, one per iteration.</summary>
public sealed record ContactSheetRow(string Label, IReadOnlyList<ContactSheetCell> Cells);

/// <summary>One cell of a contact sheet: the iteration index shown under it and the encoded image.</summary>
public sealed record ContactSheetCell(int Index, byte[] Image);

/// <summary>
/// A labelled grid of a job's iteration images: one row per pair (its id above the row), one column per iteration
/// (each image fitted into a square cell, its index below). Every size follows from the constants here.
/// </summary>
public static class ContactSheet
{
    public const int DefaultCellSize = 128;

    /// <summary>Space around the whole sheet and between cells and rows.</summary>
    public const int Padding = 12;

    /// <summary>Labels are the 5x7 <see cref="BitmapFont"/> at this scale: 14 px tall glyphs.</summary>
    public const int FontScale = 2;

    /// <summary>The strip above each row that holds its label, and the strip under each cell that holds its index.</summary>
    public const int LabelHeight = BitmapFont.GlyphHeight * FontScale + 8;

    public static readonly Rgb24 Background = new(0x1b, 0x1d, 0x21);
    public static readonly Rgb24 CellBackground = new(0x10, 0x11, 0x14);
    public static readonly Rgb24 Text = new(0xe6, 0xe6, 0xe6);

    /// <summary>The sheet's size for <paramref name="rows"/> rows of at most <paramref name="columns"/> cells.</summary>
    public static Size Measure(int rows, int columns, int cellSize = DefaultCellSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cellSize, 8);
        var width = Padding + columns * (cellSize + Padding);
        var height = Padding + rows * (LabelHeight + cellSize + LabelHeight + Padding);
        return new Size(width, height);
    }

    /// <summary>Draws the sheet; a row with no cells keeps its label and an empty strip.</summary>
    public static Image<Rgb24> Create(IReadOnlyList<ContactSheetRow> rows, int cellSize = DefaultCellSize)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("A contact sheet needs at least one row.", nameof(rows));
        }

        var columns = Math.Max(1, rows.Max(r => r.Cells.Count));
        var size = Measure(rows.Count, columns, cellSize);
        var sheet = new Image<Rgb24>(size.Width, size.Height, Background);
        var top = Padding;
        foreach (var row in rows)
        {
            BitmapFont.Draw(sheet, row.Label, Padding, top + (LabelHeight - BitmapFont.GlyphHeight * FontScale) / 2, FontScale, Text);
            var cellTop = top + LabelHeight;
            for (var c = 0; c < row.Cells.Count; c++)
            {
                var left = Padding + c * (cellSize + Padding);
                DrawCell(sheet, row.Cells[c], left, cellTop, cellSize);
                var index = row.Cells[c].Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var textLeft = left + (cellSize - BitmapFont.MeasureWidth(index, FontScale)) / 2;
                BitmapFont.Draw(sheet, index, textLeft, cellTop + cellSize + (LabelHeight - BitmapFont.GlyphHeight * FontScale) / 2, FontScale, Text);
            }

            top += LabelHeight + cellSize + LabelHeight + Padding;
        }

        return sheet;
    }

    /// <summary>The sheet encoded as PNG.</summary>
    public static byte[] CreatePng(IReadOnlyList<ContactSheetRow> rows, int cellSize = DefaultCellSize)
    {
        using var sheet = Create(rows, cellSize);
        using var stream = new MemoryStream();
        sheet.SaveAsPng(stream);
        return stream.ToArray();
    }

    // The image keeps its aspect ratio inside the square cell, centred on a darker background.
    private static void DrawCell(Image<Rgb24> sheet, ContactSheetCell cell, int left, int top, int cellSize)
    {
        using var image = ImageLoader.Decode(cell.Image);
        var scale = Math.Min((double)cellSize / image.Width, (double)cellSize / image.Height);
        var width = Math.Max(1, (int)Math.Round(image.Width * scale));
        var height = Math.Max(1, (int)Math.Round(image.Height * scale));
        image.Mutate(x => x.Resize(width, height, ImageLoader.Resampler));
        var offset = new Point(left + (cellSize - width) / 2, top + (cellSize - height) / 2);
        sheet.ProcessPixelRows(rows =>
        {
            for (var y = top; y < top + cellSize; y++)
            {
                rows.GetRowSpan(y).Slice(left, cellSize).Fill(CellBackground);
            }
        });

        sheet.Mutate(x => x.DrawImage(image, offset, 1f));
    }
}
