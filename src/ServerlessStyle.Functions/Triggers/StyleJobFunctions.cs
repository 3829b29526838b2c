using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>The StyleJob workflow's triggers: the HTTP starter, status and cancel, the orchestrators (the inbox: <see cref="InboxFunctions"/>).</summary>
public sealed class StyleJobFunctions(
    JobIntake intake, JobStorage storage, IOptions<LimitsOptions> limits, ILogger<StyleJobFunctions> logger, IOptions<HttpApiOptions>? http = null)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    [Function(nameof(StyleJob_HttpStart))]
    public async Task<IActionResult> StyleJob_HttpStart(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        try
        {
            var kind = HttpBody.KindOf(request);
            if (kind == BodyKind.Unsupported)
            {
                return HttpErrors.UnsupportedMediaType(
                    $"Content-Type '{HttpErrors.Echo(request.ContentType)}' is not accepted; send application/json (a request naming stored images) or multipart/form-data (the images themselves)");
            }

            // A repeated key finds its job before anything of the body is read, and never touches that job's inputs.
            var key = request.Headers[IdempotencyKeyHeader].FirstOrDefault();
            var started = await StyleJobClient.FindAsync(client, key, cancellationToken)
                ?? await JobStartClaim.StartOnceAsync(client, storage, await ReadRequestAsync(request, kind, key, cancellationToken), cancellationToken);
            logger.LogInformation("HTTP request: job {JobId} {How}", started.JobId, started.AlreadyExisted ? "already exists" : "started");
            var status = $"{PublicBase(request)}/api/jobs/{started.JobId}";
            return new AcceptedResult(status, new
            {
                id = started.JobId,
                alreadyExisted = started.AlreadyExisted,
                statusQueryGetUri = status,
                terminateDeleteUri = status,
                results = $"results/{BlobLayout.ResultsPrefix(started.JobId)}",
            });
        }
        catch (JobRequestException e)
        {
            return HttpErrors.BadRequest(e.Message, e.Field);
        }
        catch (RequestTooLargeException e)
        {
            return HttpErrors.TooLarge(e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The worker's server limit (HttpLimits.AddHttpLimits sets it to the routes' own): met by a body that declared no length.
            var max = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? HttpLimits.MaxBodyBytes(limits.Value);
            return HttpErrors.TooLarge(HttpBody.TooLarge($"over {max} bytes", max, "the server's request-body limit"));
        }
    }

    [Function(nameof(StyleJob_Get))]
    public static async Task<IActionResult> StyleJob_Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var progress = JobIds.IsValid(id) ? await StyleJobClient.GetProgressAsync(client, id, cancellationToken) : null;
        return progress is null ? HttpErrors.NotFound($"no job '{HttpErrors.Echo(id)}'") : new OkObjectResult(progress);
    }

    /// <summary><c>DELETE /api/jobs/{id}[?purge=true]</c>: cancels the job (job.json says Canceled); purge also deletes its blobs and history.</summary>
    [Function(nameof(StyleJob_Cancel))]
    public async Task<IActionResult> StyleJob_Cancel(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "jobs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var purge = string.Equals(request.Query["purge"], "true", StringComparison.OrdinalIgnoreCase);
        var found = JobIds.IsValid(id) && await StyleJobClient.CancelAsync(client, storage, id, purge, cancellationToken);
        return found ? new AcceptedResult() : HttpErrors.NotFound($"no job '{HttpErrors.Echo(id)}'");
    }

    [Function(StyleOrchestrationNames.StyleJob)]
    public static Task<JobSummary> StyleJob([OrchestrationTrigger] TaskOrchestrationContext context) =>
        StyleJobOrchestration.RunAsync(context, context.GetInput<JobInput>()!);

    [Function(StyleOrchestrationNames.StylePair)]
    public static Task<PairResult?> StylePair([OrchestrationTrigger] TaskOrchestrationContext context) =>
        StylePairOrchestration.RunAsync(context, context.GetInput<PairInput>()!);

    private async Task<JobInput> ReadRequestAsync(HttpRequest request, BodyKind kind, string? key, CancellationToken cancellationToken)
    {
        if (kind == BodyKind.Json)
        {
            return intake.FromJson(await HttpBody.ReadJsonAsync(request, cancellationToken), key);
        }

        var (content, styles, options) = await MultipartUpload.ReadAsync(request, limits.Value, cancellationToken);
        return await intake.FromUploadAsync(content, styles, options, key, cancellationToken);
    }

    /// <summary>The configured public address (https, in Azure); only without one, as under func start, the request's own.</summary>
    private string PublicBase(HttpRequest request) =>
        http?.Value.PublicBaseUri is { } configured
            ? configured.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : $"{request.Scheme}://{request.Host}{request.PathBase}";
}
