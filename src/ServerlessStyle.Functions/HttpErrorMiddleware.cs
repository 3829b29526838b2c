using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace ServerlessStyle.Functions;

/// <summary>
/// An exception no HTTP function expected becomes a 500 with a JSON body: a message and an error id that is also in
/// the log line with the exception, so a report can be matched to its cause; no stack trace reaches the client. Without
/// this the host answers an empty 500. Other triggers' exceptions pass on unchanged (the Durable and timer retries
/// need them).
/// </summary>
public sealed class HttpErrorMiddleware(ILogger<HttpErrorMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
        }
        catch (Exception e) when (context.GetHttpContext() is { Response.HasStarted: false })
        {
            var errorId = Guid.NewGuid().ToString("N")[..12];
            logger.LogError(e, "HTTP function invocation {InvocationId} failed; error id {ErrorId}", context.InvocationId, errorId);
            var response = context.GetHttpContext()!.Response;
            response.Clear();
            response.StatusCode = StatusCodes.Status500InternalServerError;
            await response.WriteAsJsonAsync(
                new { error = $"internal error; the log has its details under error id {errorId}", field = (string?)null, errorId },
                context.CancellationToken);
        }
    }
}
