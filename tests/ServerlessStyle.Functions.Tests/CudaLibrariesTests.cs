using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// src/ServerlessStyle.Functions/cuda-libraries.txt is the one list of the CUDA libraries the image installs for ONNX
/// Runtime's CUDA provider. The provider that ships in the app's output is read here (its ELF DT_NEEDED entries), so a
/// new ONNX Runtime that links another CUDA library fails this test instead of failing on the first GPU replica.
/// </summary>
public sealed partial class CudaLibrariesTests
{
    [GeneratedRegex(@"^# provides: (.+)$")]
    private static partial Regex Provides();

    [GeneratedRegex(@"^([A-Za-z0-9_.-]+)==(\S+)$")]
    private static partial Regex ExactPin();

    private static string[] RequirementLines()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "src", "ServerlessStyle.Functions", "cuda-libraries.txt");
            if (File.Exists(path))
            {
                return File.ReadAllLines(path);
            }
        }

        throw new FileNotFoundException($"No src/ServerlessStyle.Functions/cuda-libraries.txt above {AppContext.BaseDirectory}.");
    }

    /// <summary>The DT_NEEDED entries of an ELF64 little-endian shared library: the sonames the dynamic loader must find.</summary>
    internal static IReadOnlyList<string> NeededLibraries(string path)
    {
        using var file = File.OpenRead(path);
        byte[] Read(long offset, int count)
        {
            var buffer = new byte[count];
            file.Position = offset;
            file.ReadExactly(buffer);
            return buffer;
        }

        var header = Read(0, 64);
        Assert.True(header.AsSpan(0, 4).SequenceEqual((byte[])[0x7f, (byte)'E', (byte)'L', (byte)'F']) && header[4] == 2 && header[5] == 1, $"{path} is not a little-endian ELF64 file");
        var sectionOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
        int sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A)), sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));
        var sections = Enumerable.Range(0, sectionCount).Select(i => Read(sectionOffset + (long)i * sectionSize, sectionSize)).ToArray();
        const uint Dynamic = 6;
        var dynamic = sections.Single(s => BinaryPrimitives.ReadUInt32LittleEndian(s.AsSpan(4)) == Dynamic);
        var strings = sections[BinaryPrimitives.ReadUInt32LittleEndian(dynamic.AsSpan(40))];
        var table = Read((long)BinaryPrimitives.ReadUInt64LittleEndian(strings.AsSpan(24)), (int)BinaryPrimitives.ReadUInt64LittleEndian(strings.AsSpan(32)));
        var entries = Read((long)BinaryPrimitives.ReadUInt64LittleEndian(dynamic.AsSpan(24)), (int)BinaryPrimitives.ReadUInt64LittleEndian(dynamic.AsSpan(32)));
        var needed = new List<string>();
        for (var i = 0; i + 16 <= entries.Length; i += 16)
        {
            const long DtNeeded = 1;
            if (BinaryPrimitives.ReadInt64LittleEndian(entries.AsSpan(i)) == DtNeeded)
            {
                var start = (int)BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i + 8));
                needed.Add(Encoding.ASCII.GetString(table, start, Array.IndexOf(table, (byte)0, start) - start));
            }
        }

        return needed;
    }

    [Fact]
    public void CudaLibraries_EveryCudaLibraryTheProviderLinks_IsProvidedByAListedWheel()
    {
        var provider = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so");
        var provided = RequirementLines().Select(l => Provides().Match(l)).Where(m => m.Success)
            .SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(w => w.StartsWith("lib", StringComparison.Ordinal)))
            .ToHashSet(StringComparer.Ordinal);

        var needed = NeededLibraries(provider);
        // libcuda.so.1 is the driver, which the GPU node mounts; the rest of the libcu* names come from NVIDIA's wheels.
        var cuda = needed.Where(n => n.StartsWith("libcu", StringComparison.Ordinal) && n != "libcuda.so.1").ToArray();

        Assert.Contains("libcublasLt.so.13", cuda);
        Assert.All(cuda, library => Assert.True(provided.Contains(library), $"{library} is linked by the CUDA provider but no wheel in cuda-libraries.txt provides it"));
        Assert.Contains("libcudnn.so.9", provided);
    }

    [Fact]
    public void CudaLibraries_EveryRequirement_IsAnExactPinWithWhereItWasSeen()
    {
        var lines = RequirementLines();

        var requirements = lines.Select((line, index) => (line, index)).Where(l => l.line.Length > 0 && !l.line.StartsWith('#')).ToList();

        Assert.Equal(4, requirements.Count);
        Assert.All(requirements, r =>
        {
            Assert.Matches(ExactPin(), r.line);
            Assert.StartsWith("# seen: ", lines[r.index - 1]);
            Assert.StartsWith("# provides: ", lines[r.index - 2]);
        });
    }
}
