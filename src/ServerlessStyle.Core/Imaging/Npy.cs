using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessStyle.Core.Imaging;

/// <summary>Reads and writes float32 arrays in NumPy's .npy format (little-endian, C order), the exchange format with Python.</summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="data"/> with <paramref name="shape"/> as a version 1.0 .npy file (descr '&lt;f4').</summary>
    public static void WriteFloat32(Stream stream, ReadOnlySpan<float> data, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shape);
        var count = shape.Aggregate(1L, (p, d) => d < 0 ? throw new ArgumentOutOfRangeException(nameof(shape), $"Negative dimension {d}.") : p * d);
        if (count != data.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {count} values but {data.Length} were given.", nameof(data));
        }

        // A one-element tuple needs its trailing comma in Python syntax: (5,).
        var dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var dictionary = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";

        // The format pads the header with spaces and a newline so that the data starts at a multiple of 64 bytes.
        var unpadded = Magic.Length + 2 + 2 + dictionary.Length + 1;
        var header = dictionary + new string(' ', (64 - (unpadded % 64)) % 64) + "\n";
        if (header.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A shape of {shape.Count} dimensions does not fit a version 1.0 header.", nameof(shape));
        }

        Span<byte> prefix = stackalloc byte[10];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var buffer = new byte[sizeof(float) * Math.Min(data.Length, 1 << 16)];
        for (var start = 0; start < data.Length; start += buffer.Length / sizeof(float))
        {
            var chunk = data.Slice(start, Math.Min(buffer.Length / sizeof(float), data.Length - start));
            for (var i = 0; i < chunk.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), chunk[i]);
            }

            stream.Write(buffer, 0, chunk.Length * sizeof(float));
        }
    }

    /// <summary>Writes a .npy file at <paramref name="path"/>.</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, IReadOnlyList<long> shape)
    {
        using var stream = File.Create(path);
        WriteFloat32(stream, data, shape);
    }

    /// <summary>Reads a float32 C-order .npy (versions 1.0 to 3.0); anything else is an <see cref="NpyFormatException"/>.</summary>
    public static (float[] Data, long[] Shape) ReadFloat32(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[8];
        ReadFully(stream, prefix, "the magic string");
        if (!prefix.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new NpyFormatException("Not a .npy file: it does not start with \\x93NUMPY.");
        }

        var major = prefix[6];
        if (major is < 1 or > 3)
        {
            throw new NpyFormatException($"Unsupported .npy version {major}.{prefix[7]}; versions 1.0 to 3.0 are read.");
        }

        var lengthBytes = new byte[major == 1 ? 2 : 4];
        ReadFully(stream, lengthBytes, "the header length");
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20)
        {
            throw new NpyFormatException($"The .npy header claims {headerLength} bytes; at most 1 MiB is accepted.");
        }

        var headerBytes = new byte[headerLength];
        ReadFully(stream, headerBytes, "the header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var descr = DescrPattern().Match(header);
        if (!descr.Success)
        {
            throw new NpyFormatException($"The .npy header has no 'descr': {header.Trim()}");
        }

        if (descr.Groups[1].Value is not ("<f4" or "=f4" or "f4"))
        {
            throw new NpyFormatException($"The .npy array has dtype '{descr.Groups[1].Value}'; float32 ('<f4') is needed.");
        }

        var fortran = FortranPattern().Match(header);
        if (!fortran.Success || fortran.Groups[1].Value != "False")
        {
            throw new NpyFormatException("The .npy array is not in C order (fortran_order must be False).");
        }

        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success)
        {
            throw new NpyFormatException($"The .npy header has no 'shape' tuple: {header.Trim()}");
        }

        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new NpyFormatException($"Bad dimension '{d}' in the .npy shape."))
            .ToArray();
        var count = shape.Aggregate(1L, (p, d) => p * d);
        if (count > Array.MaxLength / sizeof(float))
        {
            throw new NpyFormatException($"The .npy array has {count} elements; too many to load.");
        }

        var data = new float[count];
        var what = $"the {count} float32 values of shape ({string.Join(", ", shape)})";
        if (BitConverter.IsLittleEndian)
        {
            // Straight into the floats: a poster's image is hundreds of MB, and a copy of its bytes beside it doubled that.
            ReadFully(stream, MemoryMarshal.AsBytes(data.AsSpan()), what);
            return (data, shape);
        }

        var bytes = new byte[count * sizeof(float)];
        ReadFully(stream, bytes, what);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }

        return (data, shape);
    }

    /// <summary>Reads the .npy file at <paramref name="path"/>.</summary>
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return ReadFloat32(stream);
        }
        catch (NpyFormatException e)
        {
            throw new NpyFormatException($"{path}: {e.Message}");
        }
    }

    private static void ReadFully(Stream stream, Span<byte> buffer, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new NpyFormatException($"The .npy file ends before {what}.");
        }
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

/// <summary>A .npy file that is malformed or not a float32 C-order array; the message names the problem.</summary>
public sealed class NpyFormatException(string message) : FormatException(message);
