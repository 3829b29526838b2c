using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>
/// Reads a multipart job request as a stream, section by section, within the limits: at most one content file, at
/// most MaxStyles style files, one optional request field, each file at most MaxInputBytes and the whole body bounded.
/// Nothing is stored here: the files are held (bounded) for the intake, which checks them all before any upload.
/// </summary>
internal static class MultipartUpload
{
    public static async Task<(UploadedImage Content, IReadOnlyList<UploadedImage> Styles, string? Request)> ReadAsync(
        HttpRequest request, LimitsOptions limits, CancellationToken cancellationToken)
    {
        HttpBody.CheckDeclaredLength(
            request, HttpLimits.MaxBodyBytes(limits), $"one content and up to {limits.MaxStyles} style files of {limits.MaxInputBytes} bytes each");

        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
        {
            throw new JobRequestException("body", "a multipart/form-data body needs a boundary");
        }

        // A body without a length (chunked) needs no count here: every part has a limit of its own, and together they are
        // the body limit; the worker's Kestrel stops it at the same number in any case.
        var reader = new MultipartReader(boundary, request.Body);
        UploadedImage? content = null;
        var parts = 0;
        var styles = new List<UploadedImage>();
        string? options = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                parts++;
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    throw new JobRequestException("body", "every part must be form-data with a name (content, style or request)");
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                switch (name)
                {
                    case "content" when content is not null:
                        throw new JobRequestException("content", "more than one content file; send exactly one file field named 'content'");
                    case "content":
                        content = await ReadFileAsync(section, disposition, "content", limits, cancellationToken);
                        break;
                    case "style" when styles.Count >= limits.MaxStyles:
                        throw new JobRequestException("styles", $"more than {limits.MaxStyles} style files; allowed: 1..{limits.MaxStyles}");
                    case "style":
                        styles.Add(await ReadFileAsync(section, disposition, $"styles[{styles.Count}]", limits, cancellationToken));
                        break;
                    case "request" when options is not null:
                        throw new JobRequestException("request", "more than one request field");
                    case "request":
                        options = System.Text.Encoding.UTF8.GetString(await ReadBoundedAsync(section.Body, HttpLimits.MaxJsonBytes, "request", cancellationToken));
                        break;
                    default:
                        throw new JobRequestException(name ?? "body", "unknown form field; allowed: content (one file), style (files), request (JSON)");
                }
            }
        }
        catch (InvalidDataException e)
        {
            // The reader's own limits (headers) and malformed multipart.
            throw new JobRequestException("body", e.Message, e);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // The reader's "Unexpected end of Stream": an empty body, or one cut before its closing boundary.
            // (BadHttpRequestException is an IOException too: the server's own limits, answered by the caller.)
            throw new JobRequestException("body", parts == 0
                ? "the multipart body has no parts (it is empty or ends before its first boundary); send one file field named 'content' and one or more named 'style'"
                : $"the multipart body ends inside part {parts}, before its closing boundary; send the whole body", e);
        }

        return (content ?? throw new JobRequestException("content", "no content file; send exactly one file field named 'content'"), styles, options);
    }

    private static async Task<UploadedImage> ReadFileAsync(
        MultipartSection section, ContentDispositionHeaderValue disposition, string field, LimitsOptions limits, CancellationToken cancellationToken)
    {
        var fileName = HeaderUtilities.RemoveQuotes(disposition.FileName.HasValue ? disposition.FileName : disposition.FileNameStar).Value ?? "";
        return new UploadedImage(fileName, BinaryData.FromBytes(await ReadBoundedAsync(section.Body, limits.MaxInputBytes, field, cancellationToken)));
    }

    /// <summary>Reads at most <paramref name="max"/> bytes; one more byte than that is an error naming the field.</summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream body, long max, string field, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new JobRequestException(field, $"more than {max} bytes; allowed: up to {max}");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
