using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>The weighted Gatys loss terms of one evaluation.</summary>
public sealed record LossTerms(double Total, double Content, double Style, double TotalVariation);

/// <summary>Thrown when serialised <see cref="StyleTargets"/> are truncated, corrupt or of another format version.</summary>
public sealed class StyleTargetsFormatException(string message) : FormatException(message);

/// <summary>
/// What one (content, style) pair optimises towards: content features, the blended style Grams and the style layer
/// weights, for one network and image size. Serialised as a versioned little-endian binary with a CRC-32.
/// </summary>
public sealed class StyleTargets
{
    private static readonly byte[] Magic = "SSTG"u8.ToArray();
    private const int Version = 1;

    public required string NetworkName { get; init; }

    public required int Height { get; init; }

    public required int Width { get; init; }

    /// <summary>The content tap at the image size, NCHW flattened.</summary>
    public required float[] ContentFeatures { get; init; }

    /// <summary>One row-major C x C Gram per style layer, in the network's style layer order.</summary>
    public required IReadOnlyList<float[]> Grams { get; init; }

    /// <summary>Per style layer weight (the network's, divided by the start-point loss when the network asks for it).</summary>
    public required double[] StyleLayerWeights { get; init; }

    public void WriteTo(Stream stream)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(NetworkName);
            writer.Write(Height);
            writer.Write(Width);
            WriteFloats(writer, ContentFeatures);
            writer.Write(Grams.Count);
            foreach (var gram in Grams)
            {
                WriteFloats(writer, gram);
            }

            writer.Write(StyleLayerWeights.Length);
            foreach (var weight in StyleLayerWeights)
            {
                writer.Write(weight);
            }
        }

        var crc = Crc32.HashToUInt32(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        buffer.Write(BitConverter.GetBytes(crc));
        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    public static StyleTargets ReadFrom(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        if (bytes.Length < Magic.Length + 8 || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw new StyleTargetsFormatException("Not a style targets blob: the 'SSTG' header is missing.");
        }

        var version = BitConverter.ToInt32(bytes[Magic.Length..]);
        if (version != Version)
        {
            throw new StyleTargetsFormatException($"Style targets format version {version} is not supported (expected {Version}).");
        }

        var stored = BitConverter.ToUInt32(bytes[^4..]);
        var actual = Crc32.HashToUInt32(bytes[..^4]);
        if (stored != actual)
        {
            throw new StyleTargetsFormatException($"Style targets are corrupt: CRC-32 {actual:x8} does not match the stored {stored:x8}.");
        }

        buffer.Position = Magic.Length + 4;
        using var reader = new BinaryReader(buffer, Encoding.UTF8, leaveOpen: true);
        try
        {
            var name = reader.ReadString();
            var height = reader.ReadInt32();
            var width = reader.ReadInt32();
            var content = ReadFloats(reader);
            var grams = new float[ReadCount(reader)][];
            for (var i = 0; i < grams.Length; i++)
            {
                grams[i] = ReadFloats(reader);
            }

            var weights = new double[ReadCount(reader)];
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = reader.ReadDouble();
            }

            if (buffer.Position != buffer.Length - 4)
            {
                throw new StyleTargetsFormatException($"Style targets have {buffer.Length - 4 - buffer.Position} unexpected trailing bytes.");
            }

            return new StyleTargets { NetworkName = name, Height = height, Width = width, ContentFeatures = content, Grams = grams, StyleLayerWeights = weights };
        }
        catch (EndOfStreamException)
        {
            throw new StyleTargetsFormatException("Style targets are truncated.");
        }
    }

    private static void WriteFloats(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static int ReadCount(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > reader.BaseStream.Length)
        {
            throw new StyleTargetsFormatException($"Style targets hold an impossible element count {count}.");
        }

        return count;
    }

    private static float[] ReadFloats(BinaryReader reader)
    {
        var values = new float[ReadCount(reader)];
        if (reader.Read(MemoryMarshal.AsBytes(values.AsSpan())) != values.Length * sizeof(float))
        {
            throw new StyleTargetsFormatException("Style targets are truncated.");
        }

        return values;
    }
}
