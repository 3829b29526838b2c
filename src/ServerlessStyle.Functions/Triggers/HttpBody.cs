using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>What a job request's body is, by its Content-Type.</summary>
internal enum BodyKind
{
    Json,
    Multipart,
    Unsupported,
}

/// <summary>Reading request bodies within <see cref="HttpLimits"/>: the declared length first, then the bytes as they come.</summary>
internal static class HttpBody
{
    /// <summary>
    /// <c>application/json</c> (with or without <c>charset=utf-8</c>) or <c>multipart/form-data</c>; anything else,
    /// text/plain with JSON in it included, is <see cref="BodyKind.Unsupported"/>.
    /// </summary>
    public static BodyKind KindOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media))
        {
            return BodyKind.Unsupported;
        }

        if (media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.Multipart;
        }

        var utf8 = !media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
        return media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && utf8 ? BodyKind.Json : BodyKind.Unsupported;
    }

    /// <summary>Refuses a body whose Content-Length is over <paramref name="max"/> before a byte of it is read.</summary>
    public static void CheckDeclaredLength(HttpRequest request, long max, string what)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > max)
        {
            throw new RequestTooLargeException(TooLarge($"{request.ContentLength} bytes", max, what));
        }
    }

    /// <summary>The JSON route's body as text, at most <see cref="HttpLimits.MaxJsonBytes"/>.</summary>
    public static async Task<string> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        const string What = "a JSON job request";
        CheckDeclaredLength(request, HttpLimits.MaxJsonBytes, What);
        using var reader = new StreamReader(new BoundedReadStream(request.Body, HttpLimits.MaxJsonBytes, What), Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    public static string TooLarge(string size, long max, string what) => $"the request body is {size}; allowed: up to {max} bytes ({what})";
}

/// <summary>A read-only view of a body that throws <see cref="RequestTooLargeException"/> once more than its limit has been read.</summary>
internal sealed class BoundedReadStream(Stream inner, long max, string what) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        _read += read;
        return _read > max ? throw new RequestTooLargeException(HttpBody.TooLarge($"over {max} bytes", max, what)) : read;
    }
}
