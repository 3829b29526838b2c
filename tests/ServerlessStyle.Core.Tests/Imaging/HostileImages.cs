using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace ServerlessStyle.Core.Tests.Imaging;

/// <summary>Small files with large consequences, written byte by byte so that making them costs nothing.</summary>
internal static class HostileImages
{
    /// <summary>
    /// A GIF89a of a <paramref name="width"/> x <paramref name="height"/> canvas and <paramref name="frames"/> frames of
    /// one pixel each: a few bytes per frame, a whole canvas per frame for a decoder that composes them all.
    /// </summary>
    public static byte[] ManyFrameGif(int width, int height, int frames)
    {
        var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16(gif, width);
        WriteUInt16(gif, height);
        gif.Write([0x80, 0, 0]);          // a global colour table of 2 entries, background 0, no aspect
        gif.Write([0, 0, 0, 255, 255, 255]);
        for (var i = 0; i < frames; i++)
        {
            gif.Write([0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00]); // graphic control: 0.1 s a frame
            gif.WriteByte(0x2C);                                         // image descriptor
            WriteUInt16(gif, i % width);
            WriteUInt16(gif, 0);
            WriteUInt16(gif, 1);
            WriteUInt16(gif, 1);
            gif.WriteByte(0);

            // LZW, minimum code size 2: clear (4), index 0, end (5), 3 bits each, least significant bit first.
            gif.Write([0x02, 0x02, 0x44, 0x01, 0x00]);
        }

        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>A complete black 8-bit RGB PNG, its rows compressed as they are written (no image in memory).</summary>
    public static byte[] BlackPng(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB
        WriteChunk(png, "IHDR", ihdr);

        var data = new MemoryStream();
        using (var zlib = new ZLibStream(data, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + (3 * width)]; // filter type 0, then black pixels
            for (var y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        WriteChunk(png, "IDAT", data.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] payload)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
        png.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(payload).ToArray();
        png.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typeAndData));
        png.Write(crc);
    }

    private static void WriteUInt16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
