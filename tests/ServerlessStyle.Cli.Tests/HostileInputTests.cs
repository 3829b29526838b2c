using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// What a hostile or unlucky user gives <c>run</c>: each ends in one named error within seconds, before any storage is
/// touched or any engine work starts, and nothing is read that need not be.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class HostileInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("hostile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Run_ContentIsADirectory_SaysSo()
    {
        var (code, error) = await RunAsync("run", "--content", _folder);

        Assert.NotEqual(0, code);
        Assert.Contains($"--content {_folder}: is a directory", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_StyleOf1Gigabyte_IsRefusedByItsLengthWithoutBeingRead()
    {
        // A sparse file: 1 GB long, no data on disk. Read whole it would cost 1.1 GB of memory before the size check.
        var path = Path.Combine(_folder, "huge.jpg");
        using (var file = File.Create(path))
        {
            file.SetLength(1L << 30);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (code, error) = await RunAsync("run", "--style", path);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.NotEqual(0, code);
        Assert.Contains("has 1073741824 bytes", error, StringComparison.Ordinal);
        Assert.True(allocated < 256L * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task Run_OutInsideAFile_IsRefusedBeforeTheJob()
    {
        var file = Path.Combine(_folder, "not-a-folder");
        await File.WriteAllTextAsync(file, "x");

        var (code, error) = await RunAsync("run", "--height", "32", "--iterations", "1", "--out", Path.Combine(file, "results"));

        Assert.NotEqual(0, code);
        Assert.Contains("--out", error, StringComparison.Ordinal);
        Assert.Contains("cannot write there", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_StripOf4000By4_IsRefusedByItsAspectRatio()
    {
        // The finding: at --height 48 this 4000x4 PNG became a 48x48000 job that passed 6 GB within 80 s.
        var path = Path.Combine(_folder, "strip.png");
        using (var strip = new Image<Rgb24>(4000, 4, new Rgb24(90, 120, 200)))
        {
            await strip.SaveAsPngAsync(path);
        }

        var (code, error) = await RunAsync("run", "--content", path, "--height", "48");

        Assert.NotEqual(0, code);
        Assert.Contains("aspect ratio of 1000:1", error, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync(args);
        Assert.StartsWith("serverless-style: ", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return (code, error);
    }
}
