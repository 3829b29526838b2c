using System.Runtime.InteropServices;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// Gives the C heap's free memory back to the system. ONNX Runtime allocates through malloc; after a session is
/// disposed, glibc keeps its freed pages in its arenas, so a worker that drops and rebuilds its sessions grew by about
/// 0.1 GB each time without this.
/// </summary>
internal static partial class NativeHeap
{
    private static bool _unavailable;

    /// <summary>Calls glibc's malloc_trim(0) on Linux; does nothing elsewhere or without glibc (musl).</summary>
    public static void Trim()
    {
        if (_unavailable || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }

    /// <summary>
    /// A blocking, compacting collection of every generation, large objects included, with the freed memory
    /// decommitted, then <see cref="Trim"/>: what the process holds afterwards is what it still uses.
    /// </summary>
    public static void CollectAndTrim()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Trim();
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
