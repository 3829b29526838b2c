namespace ServerlessStyle.Core.Optimization;

/// <summary>A checkpoint that cannot be loaded: wrong magic, version or size, truncated, or failing its checksum.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public CheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
