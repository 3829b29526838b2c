using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Tests.Imaging;

public sealed class TilesTests
{
    [Theory]
    [InlineData(64, 96, 48, 16)]
    [InlineData(512, 768, 256, 32)]
    [InlineData(1000, 333, 256, 64)]
    [InlineData(49, 48, 48, 0)]
    public void Grid_CoversTheImage_TilesAtMostTileOverlappingAtLeastOverlap(int height, int width, int tile, int overlap)
    {
        var grid = Tiles.Grid(height, width, tile, overlap);

        Assert.All(grid, r => Assert.True(r.Height <= tile && r.Width <= tile && r.Top >= 0 && r.Left >= 0 && r.Top + r.Height <= height && r.Left + r.Width <= width, $"{r}"));
        var covers = Covers(grid, height, width);
        Assert.DoesNotContain(0, covers);
        foreach (var axis in new[] { grid.Select(r => (r.Top, r.Height)).Distinct().ToList(), grid.Select(r => (r.Left, r.Width)).Distinct().ToList() })
        {
            for (var k = 1; k < axis.Count; k++)
            {
                Assert.True(axis[k - 1].Item1 + axis[k - 1].Item2 - axis[k].Item1 >= overlap, $"spans {axis[k - 1]} and {axis[k]} overlap less than {overlap}");
            }
        }
    }

    [Fact]
    public void Grid_ImageWithinOneTile_IsOneTileCoveringIt()
    {
        Assert.Equal([new TileRect(0, 0, 64, 96)], Tiles.Grid(64, 96, 96, 16));
    }

    [Fact]
    public void Grid_TwoByTwo_ForTheEndToEndTestSize()
    {
        Assert.Equal(
            [new TileRect(0, 0, 48, 48), new TileRect(0, 32, 48, 48), new TileRect(16, 0, 48, 48), new TileRect(16, 32, 48, 48)],
            Tiles.Grid(64, 80, 48, 16).ToArray());
        Assert.Equal(6, Tiles.Grid(64, 96, 48, 16).Count);
    }

    [Fact]
    public void Grid_OverlapOfHalfTheTile_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tiles.Grid(100, 100, 48, 24));
    }

    [Theory]
    [InlineData(512, 768, 256, 32, 8)]
    [InlineData(64, 80, 48, 16, 8)]
    [InlineData(1000, 333, 256, 64, 8)]
    [InlineData(270, 300, 256, 32, 8)]
    public void Grow_TilesOfAGrid_GrowToOneSizeInsideTheImage_AroundTheirRectangle(int height, int width, int tile, int overlap, int halo)
    {
        // One size per grid: the tiles share one compiled evaluation graph (a session per shape would multiply a
        // worker's memory). Where the image allows, a tile grows by the halo on every side.
        var grid = Tiles.Grid(height, width, tile, overlap);

        var grown = grid.Select(r => Tiles.Grow(r, halo, height, width)).ToList();

        Assert.Single(grown.Select(g => (g.Height, g.Width)).Distinct());
        for (var t = 0; t < grid.Count; t++)
        {
            var (r, g) = (grid[t], grown[t]);
            Assert.True(g.Top >= 0 && g.Left >= 0 && g.Top + g.Height <= height && g.Left + g.Width <= width, $"{g} leaves the image");
            Assert.True(g.Top <= r.Top && g.Left <= r.Left && g.Top + g.Height >= r.Top + r.Height && g.Left + g.Width >= r.Left + r.Width, $"{g} does not hold {r}");
            Assert.Equal(Math.Min(r.Height + (2 * halo), height), g.Height);
            Assert.Equal(Math.Min(r.Width + (2 * halo), width), g.Width);
        }
    }

    [Fact]
    public void Grow_RectangleCoveringTheImage_StaysTheImage()
    {
        Assert.Equal(new TileRect(0, 0, 64, 96), Tiles.Grow(new TileRect(0, 0, 64, 96), 8, 64, 96));
    }

    [Theory]
    [InlineData(64, 96, 48)]
    [InlineData(1000, 333, 256)]
    [InlineData(20, 20, 64)]
    public void Partition_CoversEveryPixelExactlyOnce(int height, int width, int tile)
    {
        var parts = Tiles.Partition(height, width, tile);

        Assert.All(Covers(parts, height, width), c => Assert.Equal(1, c));
        Assert.All(parts, r => Assert.True(r.Height <= tile && r.Width <= tile));
    }

    [Fact]
    public void Assemble_OneTileCoveringTheImage_IsTheImageBitForBit()
    {
        var image = Random(64, 96, 1);

        var whole = Tiles.Assemble(64, 96, [(new TileRect(0, 0, 64, 96), image)]);

        Assert.Equal(image.Data, whole.Data);
    }

    [Fact]
    public void Assemble_CropsOfOneImage_GivesThatImageBackBitForBit()
    {
        // Where the tiles agree the blend is their value exactly (not a weighted sum whose weights add up to 1 only to
        // float rounding): so a tile whose neighbours did not move gets its own iterate back.
        var image = Random(64, 96, 2);
        var grid = Tiles.Grid(64, 96, 48, 16);

        var whole = Tiles.Assemble(64, 96, grid.Select(r => (r, Tiles.Crop(image, r))).ToArray());

        Assert.Equal(image.Data, whole.Data);
    }

    [Fact]
    public void Assemble_PixelsOfOneTileAreCopied_OverlapsRampBetweenTiles()
    {
        // Two tiles side by side, one all 0 and one all 100: left of the overlap 0, right of it 100, and across the
        // 16-px overlap a rise that never steps back.
        var left = new TileRect(0, 0, 8, 48);
        var right = new TileRect(0, 32, 8, 48);
        var whole = Tiles.Assemble(8, 80, [(left, Constant(8, 48, 0)), (right, Constant(8, 48, 100))]);

        float At(int x) => whole.Data[(3 * 80) + x];
        Assert.Equal(0f, At(31));
        Assert.Equal(100f, At(48));
        for (var x = 32; x < 48; x++)
        {
            Assert.True(At(x) > At(x - 1) && At(x) < 100f, $"x = {x}: {At(x)} after {At(x - 1)}");
        }
    }

    [Fact]
    public void Crop_CopiesTheRectangleOfEveryChannel()
    {
        var image = Random(10, 12, 3);

        var crop = Tiles.Crop(image, new TileRect(2, 3, 4, 5));

        Assert.Equal(image.Data[(2 * 10 * 12) + (5 * 12) + 7], crop.Data[(2 * 4 * 5) + (3 * 5) + 4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tiles.Crop(image, new TileRect(8, 0, 4, 5)));
    }

    private static int[] Covers(IEnumerable<TileRect> rects, int height, int width)
    {
        var covers = new int[height * width];
        foreach (var r in rects)
        {
            for (var y = r.Top; y < r.Top + r.Height; y++)
            {
                for (var x = r.Left; x < r.Left + r.Width; x++)
                {
                    covers[(y * width) + x]++;
                }
            }
        }

        return covers;
    }

    private static ImageTensor Random(int height, int width, int seed)
    {
        var random = new Random(seed);
        return new ImageTensor(height, width, Enumerable.Range(0, 3 * height * width).Select(_ => (random.NextSingle() * 255f) - 120f).ToArray());
    }

    private static ImageTensor Constant(int height, int width, float value) =>
        new(height, width, Enumerable.Repeat(value, 3 * height * width).ToArray());
}
