namespace ServerlessStyle.Core.Workflow;

/// <summary>How the orchestrations run: history bound and retry policy for transient activity faults.</summary>
public sealed class WorkflowOptions
{
    public const string SectionName = "ServerlessStyle:Workflow";

    /// <summary>A pair orchestration calls ContinueAsNew after this many chunks, so its history stays bounded.</summary>
    public int ChunksPerGeneration { get; set; } = 20;

    /// <summary>Attempts per activity call, the first included.</summary>
    public int RetryAttempts { get; set; } = 3;

    public double RetryFirstIntervalSeconds { get; set; } = 5;

    public double RetryBackoffCoefficient { get; set; } = 2;

    /// <summary>
    /// An activity whose worker died this many times while running it (an out-of-memory kill, a native crash: failures
    /// the retry policy never sees, which the backend would redeliver for ever) fails its job instead of starting again.
    /// </summary>
    public int MaxWorkerDeaths { get; set; } = 3;

    /// <summary>How often a running chunk reads its job.json to notice a cancel (it stops before its next evaluation).</summary>
    public double CancelCheckIntervalSeconds { get; set; } = 0.5;

    /// <summary>The settings that travel in the orchestration input, so orchestrators never read configuration.</summary>
    public WorkflowSettings ToSettings() =>
        new(ChunksPerGeneration, RetryAttempts, RetryFirstIntervalSeconds, RetryBackoffCoefficient);
}
