using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>Retention: on a schedule (daily by default), deletes what ended jobs left, counted from each job's end.</summary>
public sealed class RetentionFunctions(JobStorage storage, IOptions<RetentionOptions> options, ILogger<RetentionFunctions> logger)
{
    [Function(nameof(Retention_Purge))]
    public async Task Retention_Purge(
        [TimerTrigger("%RETENTION_SCHEDULE%")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var run = await JobRetention.ApplyAsync(storage, client, options.Value, DateTimeOffset.UtcNow, cancellationToken);
        logger.LogInformation(
            "Retention{PastDue}: inputs, state and history of {Inputs} ended jobs deleted, results of {Results} ({Settings})",
            timer.IsPastDue ? " (past due)" : "", run.InputsDeleted.Count, run.ResultsDeleted.Count,
            $"InputDays={options.Value.InputDays}, ResultDays={options.Value.ResultDays}");
    }
}
