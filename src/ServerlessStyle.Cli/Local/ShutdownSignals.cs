using System.Runtime.InteropServices;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM as a cancellation: the first one stops the command cleanly (the worker abandons its
/// chunk, the engine is disposed once no evaluation runs, the runner's Azurite stops last); a second one ends the
/// process at once. Registered with the runtime, not Console.CancelKeyPress, so that SIGTERM (systemd, Kubernetes,
/// kill) takes the same path as Ctrl-C.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    public ShutdownSignals(CancellationToken cancellationToken = default)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _stop.Token;

    /// <summary>The first signal received, if any.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>The shell's convention: 128 + the signal number (130 after Ctrl-C, 143 after SIGTERM).</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            // The second signal: the default action (the process ends now).
            return;
        }

        context.Cancel = true;
        Signal = context.Signal;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
