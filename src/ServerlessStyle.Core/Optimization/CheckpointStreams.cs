using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// Writes little-endian fields through a fixed buffer straight to the stream, hashing every byte on the way,
/// so a 250 MB state is never copied whole.
/// </summary>
internal sealed class CheckpointWriter(Stream stream)
{
    private const int BufferSize = 1 << 20;
    private readonly byte[] buffer = new byte[BufferSize];
    private readonly XxHash64 hash = new();
    private int position;

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);

    public void WriteBytes(ReadOnlySpan<byte> value) => value.CopyTo(Reserve(value.Length));

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        WriteInt32(bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>Flushes unless <paramref name="count"/> bytes of small fields still fit the buffer.</summary>
    public async Task EnsureRoomAsync(int count, CancellationToken cancellationToken)
    {
        if (BufferSize - position < count)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task WriteFloatsAsync(float[] values, CancellationToken cancellationToken)
    {
        var offset = 0;
        while (offset < values.Length)
        {
            if (position + 4 > BufferSize)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            var count = Math.Min(values.Length - offset, (BufferSize - position) / 4);
            var target = buffer.AsSpan(position, count * 4);
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values.AsSpan(offset, count)).CopyTo(target);
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], values[offset + i]);
                }
            }

            position += count * 4;
            offset += count;
        }
    }

    /// <summary>Flushes what is buffered and appends the checksum of everything written so far.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var checksum = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        await stream.WriteAsync(checksum, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (position == 0)
        {
            return;
        }

        hash.Append(buffer.AsSpan(0, position));
        await stream.WriteAsync(buffer.AsMemory(0, position), cancellationToken).ConfigureAwait(false);
        position = 0;
    }

    /// <summary>Room for a small field; callers reserve room for a group of fields with EnsureRoomAsync first.</summary>
    private Span<byte> Reserve(int length)
    {
        if (position + length > BufferSize)
        {
            throw new InvalidOperationException($"A {length}-byte field does not fit the checkpoint buffer; flush first.");
        }

        var span = buffer.AsSpan(position, length);
        position += length;
        return span;
    }
}

/// <summary>Reads what <see cref="CheckpointWriter"/> wrote, hashing as it goes; a short stream is reported as truncation.</summary>
internal sealed class CheckpointReader(Stream stream)
{
    private const int BufferSize = 1 << 20;
    private readonly byte[] buffer = new byte[BufferSize];
    private readonly XxHash64 hash = new();
    private int position;
    private int length;

    /// <summary>Makes sure the next <paramref name="count"/> bytes (at most a small field) are buffered.</summary>
    public async Task EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (length - position >= count)
        {
            return;
        }

        hash.Append(buffer.AsSpan(0, position));
        var left = length - position;
        buffer.AsSpan(position, left).CopyTo(buffer);
        position = 0;
        length = left;
        length += await stream.ReadAtLeastAsync(buffer.AsMemory(length), count - length, throwOnEndOfStream: false, cancellationToken)
            .ConfigureAwait(false);
        if (length < count)
        {
            throw new CheckpointException("The checkpoint is truncated: the stream ended before the state was complete.");
        }
    }

    public byte ReadByte() => Take(1)[0];

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw new CheckpointException($"The checkpoint is corrupt: a flag holds {other}, not 0 or 1."),
    };

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    public async Task<string?> ReadStringAsync(int maxBytes, CancellationToken cancellationToken)
    {
        await EnsureAsync(4, cancellationToken).ConfigureAwait(false);
        var byteCount = ReadInt32();
        if (byteCount == -1)
        {
            return null;
        }

        if (byteCount < 0 || byteCount > maxBytes)
        {
            throw new CheckpointException($"The checkpoint is corrupt: a text field claims {byteCount} bytes (at most {maxBytes}).");
        }

        await EnsureAsync(byteCount, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(Take(byteCount));
    }

    public async Task ReadFloatsAsync(float[] values, CancellationToken cancellationToken)
    {
        var offset = 0;
        while (offset < values.Length)
        {
            await EnsureAsync(4, cancellationToken).ConfigureAwait(false);
            var count = Math.Min(values.Length - offset, (length - position) / 4);
            var source = Take(count * 4);
            if (BitConverter.IsLittleEndian)
            {
                source.CopyTo(MemoryMarshal.AsBytes(values.AsSpan(offset, count)));
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    values[offset + i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }
            }

            offset += count;
        }
    }

    /// <summary>Reads the stored checksum, compares it with the bytes read, and insists the stream ends there.</summary>
    public async Task VerifyChecksumAsync(CancellationToken cancellationToken)
    {
        hash.Append(buffer.AsSpan(0, position));
        buffer.AsSpan(position, length - position).CopyTo(buffer);
        length -= position;
        position = 0;
        var expected = hash.GetCurrentHashAsUInt64();

        if (length < 8)
        {
            length += await stream.ReadAtLeastAsync(buffer.AsMemory(length), 8 - length, throwOnEndOfStream: false, cancellationToken)
                .ConfigureAwait(false);
        }

        if (length < 8)
        {
            throw new CheckpointException("The checkpoint is truncated: the checksum is missing.");
        }

        var stored = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(0, 8));
        if (stored != expected)
        {
            throw new CheckpointException($"The checkpoint fails its checksum (stored {stored:x16}, computed {expected:x16}): the data is corrupt.");
        }

        if (length > 8 || await stream.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) > 0)
        {
            throw new CheckpointException("The checkpoint has unexpected data after its checksum.");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (length - position < count)
        {
            throw new InvalidOperationException($"Read of {count} bytes without EnsureAsync first.");
        }

        var span = buffer.AsSpan(position, count);
        position += count;
        return span;
    }
}
