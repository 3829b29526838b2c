namespace ServerlessStyle.Core.Jobs;

/// <summary>
/// An activity of a job its user canceled: it did no work, or stopped without writing. The orchestrations never retry
/// it and end the pair (and the job) as Canceled; an <see cref="OperationCanceledException"/> of any other cause (a
/// storage call timing out, a host shutting down) stays transient.
/// </summary>
public sealed class JobCanceledException(string message, Exception? inner = null) : OperationCanceledException(message, inner);
