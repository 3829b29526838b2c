namespace ServerlessStyle.Core.Optimization;

/// <summary>
/// Saves and loads an <see cref="OptimizerState"/> bitwise: a versioned little-endian header (magic, version,
/// kind, n, m, settings), the whole state streamed array by array, then an XxHash64 of everything before it.
/// </summary>
public static class CheckpointCodec
{
    /// <summary>The format version this code writes and reads.</summary>
    public const int Version = 1;

    internal const int ScalarRoom = 4096;
    internal const int MaxReasonBytes = 1024;

    private static ReadOnlySpan<byte> Magic => "SSTYLOPT"u8;

    /// <summary>Writes <paramref name="state"/> to <paramref name="stream"/>, which it leaves open.</summary>
    public static async Task WriteAsync(Stream stream, OptimizerState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(state);
        var writer = new CheckpointWriter(stream);
        writer.WriteBytes(Magic);
        writer.WriteInt32(Version);
        writer.WriteInt32((int)state.Settings.Kind);
        writer.WriteInt32(state.Length);
        writer.WriteInt32(state.Settings.History);
        writer.WriteBool(state.Settings.RestartEachIteration);
        writer.WriteDouble(state.Settings.LearningRate);
        await state.WriteBodyAsync(writer, cancellationToken).ConfigureAwait(false);
        await writer.FinishAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a state written by <see cref="WriteAsync"/>, for a problem of <paramref name="expectedLength"/> variables.
    /// Throws <see cref="CheckpointException"/> on a wrong magic, version or size, truncation, or a checksum mismatch.
    /// </summary>
    public static async Task<OptimizerState> ReadAsync(Stream stream, int expectedLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedLength);
        var reader = new CheckpointReader(stream);

        await reader.EnsureAsync(Magic.Length + 4, cancellationToken).ConfigureAwait(false);
        if (!reader.ReadBytes(Magic.Length).SequenceEqual(Magic))
        {
            throw new CheckpointException("This is not an optimizer checkpoint: the magic bytes are wrong.");
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new CheckpointException($"Unsupported checkpoint version {version}; this code reads version {Version}.");
        }

        await reader.EnsureAsync(4 + 4 + 4 + 1 + 8, cancellationToken).ConfigureAwait(false);
        var kind = (OptimizerKind)reader.ReadInt32();
        var length = reader.ReadInt32();
        var history = reader.ReadInt32();
        var restart = reader.ReadBool();
        var learningRate = reader.ReadDouble();
        if (length != expectedLength)
        {
            throw new CheckpointException($"Checkpoint size mismatch: the state holds n = {length} variables, expected {expectedLength}.");
        }

        var settings = new OptimizerSettings(kind, history, restart, learningRate);
        try
        {
            settings.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CheckpointException($"The checkpoint is corrupt: its settings are invalid ({e.Message}).", e);
        }

        OptimizerState state = kind switch
        {
            OptimizerKind.Lbfgs => await LbfgsState.ReadBodyAsync(reader, settings, length, cancellationToken).ConfigureAwait(false),
            _ => await AdamState.ReadBodyAsync(reader, settings, length, cancellationToken).ConfigureAwait(false),
        };
        await reader.VerifyChecksumAsync(cancellationToken).ConfigureAwait(false);
        return state;
    }
}
