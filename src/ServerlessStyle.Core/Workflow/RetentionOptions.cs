namespace ServerlessStyle.Core.Workflow;

/// <summary>How long a job's files and history outlive the job, counted from its end (job.json's Ended), never its start.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "ServerlessStyle:Retention";

    /// <summary>
    /// Days after a job ended that its uploads, inbox drop, internal state and Durable history are deleted; 0 keeps them.
    /// A week: long enough to look into a job that failed (its inputs, its history through <c>GET /api/jobs/{id}</c>)
    /// after a weekend, short enough that inputs do not pile up. Once the history is gone, <c>GET /api/jobs/{id}</c> no
    /// longer finds the job (its page still does) and its Idempotency-Key may start a new job.
    /// </summary>
    public int InputDays { get; set; } = 7;

    /// <summary>
    /// Days after a job ended that its results (every iteration's image, final.png, loss.csv, the contact sheet) are
    /// deleted, leaving job.json as a small record that says so; 0 keeps them until deleted by hand. A month: results
    /// are what a user came for and may fetch later, but with a PNG per iteration they are most of what a deployment
    /// stores.
    /// </summary>
    public int ResultDays { get; set; } = 30;
}
