using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
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

/// <summary>The StyleJob workflow's triggers: starters (inbox blob, HTTP), status and cancel, the orchestrators.</summary>
public sealed class StyleJobFunctions(
    JobIntake intake, JobStorage storage, IOptions<LimitsOptions> limits, ILogger<StyleJobFunctions> logger, IOptions<HttpApiOptions>? http = null)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    [Function(nameof(StyleJob_InboxStart))]
    public async Task StyleJob_InboxStart(
        [BlobTrigger("%INBOX_CONTAINER%/{styles}/{name}")] BlobClient blob,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        try
        {
            var input = await intake.FromInboxBlobAsync(blob.Name, properties.ETag.ToString(), properties.Metadata.AsReadOnly(), cancellationToken);
            var started = await StyleJobClient.StartAsync(client, input, cancellationToken);
            logger.LogInformation("Inbox blob {Blob}: job {JobId} {How}", blob.Name, started.JobId, started.AlreadyExisted ? "already exists" : "started");
        }
        catch (JobRequestException e)
        {
            // A bad drop must not be retried by the blob trigger (it would fail the same way five times).
            logger.LogError("Inbox blob {Blob} rejected: {Reason}", blob.Name, e.Message);
        }
    }

    [Function(nameof(StyleJob_HttpStart))]
    public async Task<IActionResult> StyleJob_HttpStart(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        try
        {
            // A repeated key finds its job before anything of the body is read, and never touches that job's inputs.
            var key = request.Headers[IdempotencyKeyHeader].FirstOrDefault();
            var started = await StyleJobClient.FindAsync(client, key, cancellationToken)
                ?? await StyleJobClient.StartAsync(client, await ReadRequestAsync(request, key, cancellationToken), cancellationToken);
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
            return new BadRequestObjectResult(new { error = e.Message, field = e.Field });
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
        return progress is null ? new NotFoundObjectResult(new { error = $"no job '{id}'" }) : new OkObjectResult(progress);
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
        return found ? new AcceptedResult() : new NotFoundObjectResult(new { error = $"no job '{id}'" });
    }

    [Function(StyleOrchestrationNames.StyleJob)]
    public static Task<JobSummary> StyleJob([OrchestrationTrigger] TaskOrchestrationContext context) =>
        StyleJobOrchestration.RunAsync(context, context.GetInput<JobInput>()!);

    [Function(StyleOrchestrationNames.StylePair)]
    public static Task<PairResult?> StylePair([OrchestrationTrigger] TaskOrchestrationContext context) =>
        StylePairOrchestration.RunAsync(context, context.GetInput<PairInput>()!);

    private async Task<JobInput> ReadRequestAsync(HttpRequest request, string? key, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return intake.FromJson(await new StreamReader(request.Body).ReadToEndAsync(cancellationToken), key);
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
