namespace ServerlessStyle.Core.Imaging;

/// <summary>
/// Collects garbage inside the loops that walk a whole image tile by tile or piece by piece (a tiled stage's targets,
/// its blend, Gram sums over pieces). Each step leaves copies of a tile's pixels and their buffers behind, megabytes
/// each, and the collector's own budget for large objects grows with what survives (the whole images), so before this
/// a 2048 x 2048 stage's loops piled up 0.2-0.3 GB of dead copies on top of what they held (docs/performance.md,
/// "Posters").
/// </summary>
public static class GarbageBudget
{
    /// <summary>How much the process may allocate between two collections asked for here.</summary>
    public const long Bytes = 64L << 20;

    private static long _collectedAt;

    /// <summary>A full blocking collection when the process allocated more than <see cref="Bytes"/> since the last one here.</summary>
    public static void Check()
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var last = Volatile.Read(ref _collectedAt);
        if (allocated - last < Bytes || Interlocked.CompareExchange(ref _collectedAt, allocated, last) != last)
        {
            return;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }
}
