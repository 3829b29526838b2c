namespace ServerlessStyle.Core.Tests.Workflow;

/// <summary>
/// A port for the in-memory durable host's gRPC sidecar: its own default is a random guess in 30000-40000, inside
/// Linux's range for outgoing connections, which the suite's many storage connections (task hub polling, worker
/// processes) may hold at that moment ("address already in use").
/// </summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
