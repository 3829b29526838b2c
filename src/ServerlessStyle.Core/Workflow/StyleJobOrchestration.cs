using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Core.Workflow;

/// <summary>Orchestration names, for the starters, the Functions triggers and the local runner.</summary>
public static class StyleOrchestrationNames
{
    public const string StyleJob = nameof(StyleJob);
    public const string StylePair = nameof(StylePair);
}

/// <summary>
/// The StyleJob orchestration: validate (fail fast, no retry) -> one StylePair per pair (fan out) -> fan in -> summary.
/// A failed pair fails the job with its reason while the other pairs still finish.
/// </summary>
public static class StyleJobOrchestration
{
    public static async Task<JobSummary> RunAsync(TaskOrchestrationContext context, JobInput input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(StyleJobOrchestration));
        var retry = WorkflowRetry.Options(input.Settings);
        context.SetCustomStatus(new JobStatus("Validating", []));

        JobPlan plan;
        try
        {
            plan = await context.CallActivityAsync<JobPlan>(StyleActivityNames.ValidateJob, input);
        }
        catch (TaskFailedException e) when (WorkflowRetry.IsCanceled(e.FailureDetails))
        {
            return await EndAsync(context, new JobSummary(input.JobId, JobState.Canceled, CanceledReason, []), [], retry);
        }
        catch (TaskFailedException e)
        {
            var reason = WorkflowRetry.Reason(e.FailureDetails);
            logger.LogWarning("Job {JobId} rejected: {Reason}", input.JobId, reason);
            return await EndAsync(context, new JobSummary(input.JobId, JobState.Failed, reason, []), [], retry);
        }

        var pairIds = plan.Pairs.Select(p => JobIds.Pair(input.JobId, p.Index)).ToArray();
        context.SetCustomStatus(new JobStatus("Running", pairIds));
        logger.LogInformation("Job {JobId}: {Pairs} pair(s) started", input.JobId, plan.Pairs.Count);

        var pairs = await Task.WhenAll(plan.Pairs.Select((pair, k) => RunPairAsync(context, input, pair, pairIds[k])));

        var firstFailure = pairs.FirstOrDefault(p => p.State == JobState.Failed);
        var summary = firstFailure is not null
            ? new JobSummary(input.JobId, JobState.Failed, $"pair {firstFailure.PairId} failed: {firstFailure.Error}", pairs)
            : pairs.Any(p => p.State == JobState.Canceled)
                ? new JobSummary(input.JobId, JobState.Canceled, CanceledReason, pairs)
                : new JobSummary(input.JobId, JobState.Completed, null, pairs);
        return await EndAsync(context, summary, pairIds, retry);
    }

    private static async Task<PairSummary> RunPairAsync(TaskOrchestrationContext context, JobInput input, PairPlan pair, string instanceId)
    {
        try
        {
            var result = await context.CallSubOrchestratorAsync<PairResult?>(
                StyleOrchestrationNames.StylePair,
                new PairInput(input.JobId, pair, input.Request, input.Settings),
                new SubOrchestrationOptions { InstanceId = instanceId });
            return result is null
                ? new PairSummary(pair.PairId, JobState.Canceled, null, CanceledReason)
                : new PairSummary(pair.PairId, JobState.Completed, result, null);
        }
        catch (TaskFailedException e) when (WorkflowRetry.IsCanceled(e.FailureDetails))
        {
            return new PairSummary(pair.PairId, JobState.Canceled, null, CanceledReason);
        }
        catch (TaskFailedException e)
        {
            return new PairSummary(pair.PairId, JobState.Failed, null, WorkflowRetry.Reason(e.FailureDetails));
        }
    }

    private static async Task<JobSummary> EndAsync(
        TaskOrchestrationContext context, JobSummary summary, IReadOnlyList<string> pairIds, TaskOptions retry)
    {
        try
        {
            await context.CallActivityAsync(StyleActivityNames.WriteSummary, summary, retry);
        }
        catch (TaskFailedException e) when (WorkflowRetry.IsCanceled(e.FailureDetails))
        {
            // Canceled while it ran: job.json already says Canceled, which is what the summary would not overwrite.
            summary = summary with { State = JobState.Canceled, Reason = CanceledReason };
        }

        context.SetCustomStatus(new JobStatus(summary.State.ToString(), pairIds));
        return summary;
    }

    private const string CanceledReason = "canceled by request";
}

/// <summary>The retry policy for transient activity faults and the reading of failure reasons.</summary>
public static class WorkflowRetry
{
    /// <summary>
    /// Retries everything except bad input (<see cref="JobRequestException"/>), which would fail again, and the work of a
    /// canceled job (<see cref="JobCanceledException"/>), which would be refused again.
    /// </summary>
    public static TaskOptions Options(WorkflowSettings settings) =>
        TaskOptions.FromRetryPolicy(new RetryPolicy(
            settings.RetryAttempts,
            TimeSpan.FromSeconds(settings.RetryFirstIntervalSeconds),
            settings.RetryBackoffCoefficient)
        {
            HandleFailure = failure => !IsBadInput(failure) && !IsCanceled(failure),
        });

    /// <summary>True when the failure, or what caused it, is a <see cref="JobRequestException"/>.</summary>
    public static bool IsBadInput(TaskFailureDetails? failure) => Is<JobRequestException>(failure);

    /// <summary>True when the failure, or what caused it, is a <see cref="JobCanceledException"/>: the job was canceled.</summary>
    public static bool IsCanceled(TaskFailureDetails? failure) => Is<JobCanceledException>(failure);

    private static bool Is<TException>(TaskFailureDetails? failure)
    {
        for (var f = failure; f is not null; f = f.InnerFailure)
        {
            if (f.ErrorType == typeof(TException).FullName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The message a user can act on: that of the outermost <see cref="JobRequestException"/> (it names the field and the
    /// blob; what it wraps, such as the image decoder's message, does not), else that of the innermost failure (a
    /// sub-orchestration's failure wraps the activity's).
    /// </summary>
    public static string Reason(TaskFailureDetails? failure)
    {
        if (failure is null)
        {
            return "unknown failure";
        }

        while (failure.InnerFailure is not null && failure.ErrorType != typeof(JobRequestException).FullName)
        {
            failure = failure.InnerFailure;
        }

        return failure.ErrorMessage;
    }
}
