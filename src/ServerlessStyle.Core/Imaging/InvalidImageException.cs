namespace ServerlessStyle.Core.Imaging;

/// <summary>Why an input could not be used as an image.</summary>
public enum InvalidImageReason
{
    Empty,
    TooManyBytes,
    TooManyPixels,
    SideTooLong,
    NotAnImage,
    Corrupt,
}

/// <summary>An input that is not a usable image; the message names the problem and, where one applies, the limit.</summary>
public sealed class InvalidImageException : Exception
{
    public InvalidImageException(InvalidImageReason reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public InvalidImageReason Reason { get; }
}
