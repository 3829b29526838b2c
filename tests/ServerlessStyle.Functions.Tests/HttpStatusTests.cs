using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// Every answer of the HTTP routes has a named status and a JSON body with a message, at the trigger level with real
/// ASP.NET Core request objects and real storage (Azurite; the Durable client and FunctionContext are the host's and
/// mocked): content types, empty and cut multipart bodies, bodies over the limit, unrouted paths, long ids, and
/// exceptions nobody expected.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HttpStatusTests
{
    private const string ValidJson = """{ "content": "uploads/j1/photo.jpg", "styles": [ { "blob": "styles/starry_night.jpg" } ], "iterations": 4 }""";

    private static readonly LimitsOptions Limits = new() { MaxStyles = 2, MaxInputBytes = 100_000 };

    private readonly StorageOptions _storage = Azurite.IsolatedStorage("st");
    private readonly List<string> _started = [];
    private readonly Mock<DurableTaskClient> _client;

    public HttpStatusTests() => _client = StubDurableClient.Create(_started);

    private StyleJobFunctions Functions()
    {
        var storage = new JobStorage(Azurite.CreateStore(), Options.Create(_storage), NullLogger<JobStorage>.Instance);
        var intake = new JobIntake(storage, Options.Create(Limits), Options.Create(new WorkflowOptions()));
        return new StyleJobFunctions(intake, storage, Options.Create(Limits), NullLogger<StyleJobFunctions>.Instance);
    }

    private static HttpRequest Request(string? contentType, byte[] body, long? declaredLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = declaredLength;
        return context.Request;
    }

    /// <summary>The status and the JSON body an action result would be written as.</summary>
    private static (int Status, JsonElement Body) Answer(IActionResult result)
    {
        var value = Assert.IsAssignableFrom<ObjectResult>(result);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(value.Value));
        Assert.True(json.RootElement.TryGetProperty("error", out var error) && error.GetString() is { Length: > 0 }, "an error body has a message");
        return (value.StatusCode ?? 200, json.RootElement.Clone());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task Start_JsonBodyUnderAnotherContentType_Answers415AndStartsNothing(string? contentType)
    {
        var result = await Functions().StyleJob_HttpStart(Request(contentType, Encoding.UTF8.GetBytes(ValidJson)), _client.Object, CancellationToken.None);

        var (status, body) = Answer(result);
        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, status);
        Assert.Equal("Content-Type", body.GetProperty("field").GetString());
        Assert.Contains("application/json", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(_started);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; charset=UTF-8")]
    public async Task Start_JsonContentTypeWithOrWithoutCharset_IsTaken(string contentType)
    {
        // A 400 for the missing blobs means the body was read as a job request: the content type was accepted.
        var result = await Functions().StyleJob_HttpStart(Request(contentType, Encoding.UTF8.GetBytes("{ \"iterations\": 0 }")), _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status400BadRequest, Answer(result).Status);
    }

    [Fact]
    public async Task Start_EmptyMultipartBodyWithABoundary_Answers400NamingTheMissingParts()
    {
        var result = await Functions().StyleJob_HttpStart(Request("multipart/form-data; boundary=xyz", []), _client.Object, CancellationToken.None);

        var (status, body) = Answer(result);
        Assert.Equal(StatusCodes.Status400BadRequest, status);
        Assert.Equal("body", body.GetProperty("field").GetString());
        Assert.Contains("no parts", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("'content'", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MultipartBodyCutInsideAPart_Answers400()
    {
        var cut = "--xyz\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.png\"\r\n\r\n\u0089PNG"u8.ToArray();

        var result = await Functions().StyleJob_HttpStart(Request("multipart/form-data; boundary=xyz", cut), _client.Object, CancellationToken.None);

        var (status, body) = Answer(result);
        Assert.Equal(StatusCodes.Status400BadRequest, status);
        Assert.Contains("closing boundary", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DeclaredLengthOverTheLimit_Answers413NamingTheLimitBeforeReading()
    {
        var limit = HttpLimits.MaxBodyBytes(Limits);
        var request = Request("multipart/form-data; boundary=xyz", [], declaredLength: limit + 1);
        request.Body = new UnreadableStream();

        var result = await Functions().StyleJob_HttpStart(request, _client.Object, CancellationToken.None);

        var (status, body) = Answer(result);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, status);
        Assert.Contains($"up to {limit} bytes", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_JsonBodyOverItsLimit_Answers413()
    {
        var json = $$"""{ "content": "uploads/j1/photo.jpg", "padding": "{{new string(' ', HttpLimits.MaxJsonBytes)}}" }""";

        var result = await Functions().StyleJob_HttpStart(Request("application/json", Encoding.UTF8.GetBytes(json)), _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, Answer(result).Status);
    }

    [Fact]
    public async Task Get_IdOf5000Characters_Answers404WithTheIdCut()
    {
        var id = new string('a', 5000);

        var result = await StyleJobFunctions.StyleJob_Get(new DefaultHttpContext().Request, id, _client.Object, CancellationToken.None);

        var (status, body) = Answer(result);
        Assert.Equal(StatusCodes.Status404NotFound, status);
        var message = body.GetProperty("error").GetString()!;
        Assert.True(message.Length < 200, $"{message.Length} characters");
        Assert.Contains("5000 characters", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// /api/jobs/%2e%2e and /api/jobs/../.. reach the host as /api/ (the server resolves the dots), which no job route
    /// takes: the catch-all must, and must come after every other route in the host's order (by function name).
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("jobs/x/y/z")]
    [InlineData("nothing-here")]
    public void Routes_APathNoFunctionTakes_IsTakenByTheCatchAllThatComesLast(string path)
    {
        var routes = HttpRoutes();
        var takers = routes.Where(r => Matches(r.Route, path)).Select(r => r.Function).ToList();

        Assert.Equal([UnroutedFunctions.Name], takers);
        Assert.Equal(UnroutedFunctions.Name, routes.Select(r => r.Function).Order(StringComparer.Ordinal).Last());
        Assert.Equal(UnroutedFunctions.Name, routes.Select(r => r.Function).Order(StringComparer.InvariantCulture).Last());
    }

    [Fact]
    public void Unrouted_AnyPath_Answers404JsonNamingTheRoutes()
    {
        var request = new DefaultHttpContext().Request;
        request.Method = "PUT";

        var (status, body) = Answer(UnroutedFunctions.Zz_Unrouted(request, new string('x', 3000)));

        Assert.Equal(StatusCodes.Status404NotFound, status);
        var message = body.GetProperty("error").GetString()!;
        Assert.StartsWith("nothing at PUT /api/xxx", message, StringComparison.Ordinal);
        Assert.Contains("POST /api/jobs", message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 100), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Middleware_ExceptionInAnHttpFunction_Answers500JsonWithAnErrorIdThatIsLogged()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.Items).Returns(new Dictionary<object, object> { ["HttpRequestContext"] = http });
        context.SetupGet(c => c.InvocationId).Returns("invocation-1");
        var logger = new ListLogger();

        await new HttpErrorMiddleware(logger).Invoke(context.Object, _ => throw new InvalidOperationException("secret detail at Some.Method()"));

        Assert.Equal(StatusCodes.Status500InternalServerError, http.Response.StatusCode);
        var text = Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        using var json = JsonDocument.Parse(text);
        var errorId = json.RootElement.GetProperty("errorId").GetString()!;
        Assert.Contains(errorId, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        var (message, exception) = Assert.Single(logger.Entries);
        Assert.Contains(errorId, message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(exception);
    }

    [Fact]
    public async Task Middleware_ExceptionInAnotherTrigger_IsNotSwallowed()
    {
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.Items).Returns(new Dictionary<object, object>());

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => new HttpErrorMiddleware(new ListLogger()).Invoke(context.Object, _ => throw new InvalidOperationException("retry me")));
    }

    /// <summary>The HTTP functions of the built app (functions.metadata, as the host reads it): name and route.</summary>
    private static List<(string Function, string Route)> HttpRoutes()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")));
        return metadata.RootElement.EnumerateArray()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray()
                .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
                .Select(b => (f.GetProperty("name").GetString()!, b.GetProperty("route").GetString()!)))
            .ToList();
    }

    private static bool Matches(string route, string path) =>
        new TemplateMatcher(TemplateParser.Parse(route), new RouteValueDictionary()).TryMatch(new PathString("/" + path), new RouteValueDictionary());

    private sealed class ListLogger : ILogger<HttpErrorMiddleware>
    {
        public List<(string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((formatter(state, exception), exception));
    }
}
