using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>
/// The API's error answers: a status and a JSON body <c>{ "error": message, "field": name or null }</c>, for every
/// status a route returns (400, 404, 409, 413, 415, 500). Input echoed in a message is cut to <see cref="MaxEcho"/>.
/// </summary>
internal static class HttpErrors
{
    /// <summary>The most characters of a client's input (an id, a path, a header) repeated in a message.</summary>
    public const int MaxEcho = 80;

    /// <summary>The most characters of a message: the messages themselves are shorter; only input echoed in one (a path, a JSON value) can make it longer.</summary>
    public const int MaxMessage = 500;

    public static IActionResult BadRequest(string message, string? field = null) => new BadRequestObjectResult(Body(message, field));

    public static IActionResult NotFound(string message) => new NotFoundObjectResult(Body(message, null));

    public static IActionResult TooLarge(string message) => Status(StatusCodes.Status413PayloadTooLarge, message, "body");

    public static IActionResult UnsupportedMediaType(string message) => Status(StatusCodes.Status415UnsupportedMediaType, message, "Content-Type");

    public static IActionResult Status(int status, string message, string? field) => new ObjectResult(Body(message, field)) { StatusCode = status };

    public static object Body(string message, string? field) => new { error = Cut(message, MaxMessage), field = field is null ? null : Cut(field, MaxEcho) };

    /// <summary>The client's <paramref name="value"/> as a message may repeat it: at most <see cref="MaxEcho"/> characters, then how long it was.</summary>
    public static string Echo(string? value) => value is null ? "" : Cut(value, MaxEcho);

    private static string Cut(string value, int max) => value.Length <= max ? value : $"{value[..max]}… ({value.Length} characters)";
}

/// <summary>A request body larger than the API takes: answered 413 naming the limit.</summary>
internal sealed class RequestTooLargeException(string message) : Exception(message);
