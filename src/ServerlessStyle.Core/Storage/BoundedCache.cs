using System.Collections.Concurrent;

namespace ServerlessStyle.Core.Storage;

/// <summary>
/// The per-process caches of the activities (targets, optimiser states): pairs that fail or move to another worker
/// leave entries behind, so a full cache is emptied rather than grown.
/// </summary>
internal static class BoundedCache
{
    /// <summary>At most this many pairs' entries are kept.</summary>
    public const int Capacity = 8;

    public static void Remember<T>(ConcurrentDictionary<string, T> cache, string key, T value)
    {
        if (cache.Count >= Capacity)
        {
            cache.Clear();
        }

        cache[key] = value;
    }
}
