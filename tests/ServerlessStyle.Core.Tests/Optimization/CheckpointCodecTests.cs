using System.Buffers.Binary;
using ServerlessStyle.Core.Optimization;

namespace ServerlessStyle.Core.Tests.Optimization;

public class CheckpointCodecTests
{
    // magic (8) then version (4), kind (4), n (4): offsets of the header fields.
    private const int VersionOffset = 8;
    private const int LengthOffset = 16;

    [Theory]
    [InlineData(OptimizerKind.Lbfgs)]
    [InlineData(OptimizerKind.Adam)]
    public async Task ReadAsync_WrittenState_RoundTripsBitwise(OptimizerKind kind)
    {
        var state = await MidRunStateAsync(kind);
        var bytes = await TestProblems.ToBytesAsync(state);

        var loaded = await CheckpointCodec.ReadAsync(new MemoryStream(bytes), state.Length);

        Assert.Equal(bytes, await TestProblems.ToBytesAsync(loaded));
        Assert.Equal(state.Settings, loaded.Settings);
        Assert.Equal(state.X, loaded.X);
        Assert.Equal(state.Loss, loaded.Loss);
        Assert.Equal(state.Evaluations, loaded.Evaluations);
    }

    [Theory]
    [InlineData(OptimizerKind.Lbfgs)]
    [InlineData(OptimizerKind.Adam)]
    public async Task ReadAsync_AnyFlippedByte_ThrowsCheckpointException(OptimizerKind kind)
    {
        var bytes = await TestProblems.ToBytesAsync(await MidRunStateAsync(kind));
        for (var i = 0; i < bytes.Length; i++)
        {
            var corrupt = bytes.ToArray();
            corrupt[i] ^= 0x10;
            await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCodec.ReadAsync(new MemoryStream(corrupt), 5));
        }
    }

    [Fact]
    public async Task ReadAsync_FlippedByteInArrays_ReportsChecksum()
    {
        var bytes = await TestProblems.ToBytesAsync(await MidRunStateAsync(OptimizerKind.Lbfgs));
        bytes[bytes.Length - 8 - 3] ^= 0x01;  // inside the last history vector, just before the checksum

        var error = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCodec.ReadAsync(new MemoryStream(bytes), 5));

        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public async Task ReadAsync_TruncatedAnywhere_ReportsTruncation()
    {
        var bytes = await TestProblems.ToBytesAsync(await MidRunStateAsync(OptimizerKind.Lbfgs));
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = await Assert.ThrowsAsync<CheckpointException>(
                () => CheckpointCodec.ReadAsync(new MemoryStream(bytes, 0, length), 5));
            Assert.Contains("truncated", error.Message);
        }
    }

    [Fact]
    public async Task ReadAsync_TrailingBytes_ThrowsCheckpointException()
    {
        var bytes = (await TestProblems.ToBytesAsync(await MidRunStateAsync(OptimizerKind.Lbfgs))).Append((byte)0).ToArray();

        var error = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCodec.ReadAsync(new MemoryStream(bytes), 5));

        Assert.Contains("after its checksum", error.Message);
    }

    [Fact]
    public async Task ReadAsync_OtherVersion_ReportsVersion()
    {
        var bytes = await TestProblems.ToBytesAsync(await MidRunStateAsync(OptimizerKind.Lbfgs));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(VersionOffset), CheckpointCodec.Version + 1);

        var error = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCodec.ReadAsync(new MemoryStream(bytes), 5));

        Assert.Contains($"version {CheckpointCodec.Version + 1}", error.Message);
    }

    [Fact]
    public async Task ReadAsync_WrongExpectedLength_ReportsSizeMismatch()
    {
        var bytes = await TestProblems.ToBytesAsync(await MidRunStateAsync(OptimizerKind.Lbfgs));
        Assert.Equal(5, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(LengthOffset)));

        var error = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCodec.ReadAsync(new MemoryStream(bytes), 6));

        Assert.Contains("size mismatch", error.Message);
        Assert.Contains("n = 5", error.Message);
    }

    [Fact]
    public async Task ReadAsync_NotACheckpoint_ReportsMagic()
    {
        var error = await Assert.ThrowsAsync<CheckpointException>(
            () => CheckpointCodec.ReadAsync(new MemoryStream(new byte[4096]), 5));

        Assert.Contains("magic", error.Message);
    }

    [Fact]
    public async Task WriteAsync_LargeState_StreamsToFileAndReadsBack()
    {
        // Bigger than the codec's 1 MiB buffer, so arrays cross buffer boundaries in both directions.
        var n = 400_000;
        var state = OptimizerState.Create(new OptimizerSettings(History: 3), TestProblems.RosenbrockStart(n));
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 12);
        var path = Path.GetTempFileName();
        try
        {
            await using (var file = File.Create(path))
            {
                await CheckpointCodec.WriteAsync(file, state);
            }

            OptimizerState loaded;
            await using (var file = File.OpenRead(path))
            {
                loaded = await CheckpointCodec.ReadAsync(file, n);
            }

            Assert.Equal(state.X, loaded.X);
            Assert.Equal(await TestProblems.ToBytesAsync(state), await TestProblems.ToBytesAsync(loaded));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A 5-variable state in the middle of a run: L-BFGS with a full history ring that has wrapped.</summary>
    private static async Task<OptimizerState> MidRunStateAsync(OptimizerKind kind)
    {
        var state = OptimizerState.Create(new OptimizerSettings(kind, History: 3, LearningRate: 0.05), TestProblems.RosenbrockStart(5));
        await ChunkRunner.RunChunkAsync(state, TestProblems.Rosenbrock, 23);
        Assert.False(state.Converged);
        if (state is LbfgsState lbfgs)
        {
            Assert.True(lbfgs.Count == 3 && lbfgs.Start != 0, "the test state should have a wrapped history ring");
        }

        return state;
    }
}
