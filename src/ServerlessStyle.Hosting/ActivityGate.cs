using DurableTask.Core.Exceptions;

namespace ServerlessStyle.Hosting;

/// <summary>
/// The activities running in one worker, and the signal that stops them. Stopping cancels the token the work gets
/// (a chunk checks it between evaluations), and the host disposes the engine only once no activity runs: disposing
/// native ONNX Runtime sessions while a Run is in flight crashes the process.
/// </summary>
internal sealed class ActivityGate : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _lock = new();
    private int _running;
    private TaskCompletionSource _idle = Completed();

    /// <summary>Cancelled when the worker stops: the running activities give up and their messages go back to the queue.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Marks an activity as running until the returned handle is disposed; refused once the worker is stopping.</summary>
    public IDisposable Enter()
    {
        lock (_lock)
        {
            if (IsStopping)
            {
                throw new SessionAbortedException("the worker is stopping; the activity goes back to the queue for another worker.");
            }

            if (_running++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        return new Exit(this);
    }

    public void Stop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>True once no activity runs; false when one still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WhenIdleAsync(TimeSpan timeout)
    {
        Task idle;
        lock (_lock)
        {
            idle = _idle.Task;
        }

        return await Task.WhenAny(idle, Task.Delay(timeout)).ConfigureAwait(false) == idle;
    }

    public void Dispose() => _stopping.Dispose();

    private static TaskCompletionSource Completed()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    private void Leave()
    {
        lock (_lock)
        {
            if (--_running == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private sealed class Exit(ActivityGate gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.Leave();
            }
        }
    }
}
