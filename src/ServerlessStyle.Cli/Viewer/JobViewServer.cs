using System.Net;
using System.Net.Sockets;
using System.Text;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;

namespace ServerlessStyle.Cli.Viewer;

/// <summary>
/// A small local web server for the command-line runner with the Functions app's viewer routes:
/// <c>/api/jobs/{id}/view</c>, <c>/api/jobs/{id}/view.json</c>, <c>/api/jobs/{id}/files/{path}</c>.
/// It listens on 127.0.0.1 only: it has no authentication.
/// </summary>
public sealed class JobViewServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly JobStorage _storage;
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;

    private JobViewServer(HttpListener listener, JobStorage storage, Uri baseAddress, CancellationToken cancellationToken)
    {
        (_listener, _storage, BaseAddress) = (listener, storage, baseAddress);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = Task.Run(() => AcceptLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:7071/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The page of job <paramref name="jobId"/>.</summary>
    public Uri ViewUri(string jobId) => new(BaseAddress, $"api/jobs/{jobId}/view");

    /// <summary>
    /// Starts serving on 127.0.0.1:<paramref name="port"/> (0 picks a free port) until disposed or until
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static Task<JobViewServer> StartAsync(JobStorage storage, int port = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        cancellationToken.ThrowIfCancellationRequested();

        // HttpListener cannot bind port 0 itself: ask the OS for a free port, release it and bind that.
        if (port == 0)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var listener = new HttpListener();
        listener.Prefixes.Add(baseAddress.ToString());
        try
        {
            listener.Start();
        }
        catch (HttpListenerException e)
        {
            listener.Close();
            throw new InvalidOperationException($"Cannot serve the job viewer on {baseAddress}: {e.Message} (is the port taken?)", e);
        }

        return Task.FromResult(new JobViewServer(listener, storage, baseAddress, cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _listener.Close();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(_listener.Stop);
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context, cancellationToken), CancellationToken.None);
        }
    }

    private async Task HandleAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url?.AbsolutePath ?? "/";
            if (context.Request.HttpMethod != "GET")
            {
                await WriteTextAsync(response, 405, "text/plain; charset=utf-8", "Only GET is served.", cancellationToken).ConfigureAwait(false);
                return;
            }

            var route = ViewerRoute.Parse(path);
            switch (route?.Kind)
            {
                case ViewerRouteKind.Page:
                    await WriteTextAsync(response, 200, JobViewPage.ContentType, JobViewPage.Html, cancellationToken).ConfigureAwait(false);
                    break;
                case ViewerRouteKind.Model:
                    var view = await JobView.LoadAsync(_storage, route.JobId, cancellationToken).ConfigureAwait(false);
                    await (view is null
                        ? WriteTextAsync(response, 404, "text/plain; charset=utf-8", $"No job '{route.JobId}'.", cancellationToken)
                        : WriteTextAsync(response, 200, "application/json; charset=utf-8", view.ToJson(), cancellationToken)).ConfigureAwait(false);
                    break;
                case ViewerRouteKind.File:
                    using (var file = await JobFiles.OpenAsync(_storage, route.JobId, route.FilePath!, cancellationToken).ConfigureAwait(false))
                    {
                        if (file is null)
                        {
                            await WriteTextAsync(response, 404, "text/plain; charset=utf-8", $"No file '{route.FilePath}' in job '{route.JobId}'.", cancellationToken).ConfigureAwait(false);
                            break;
                        }

                        response.StatusCode = 200;
                        response.ContentType = file.ContentType;
                        response.ContentLength64 = file.Length;
                        response.Headers["Cache-Control"] = "no-cache";
                        await file.Content.CopyToAsync(response.OutputStream, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                default:
                    await WriteTextAsync(response, 404, "text/plain; charset=utf-8", $"Nothing at {path}; a job's page is /api/jobs/{{id}}/view.", cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (InvalidJobPathException e)
        {
            await TryWriteErrorAsync(response, 400, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await TryWriteErrorAsync(response, 500, e.Message).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // The browser went away; nothing to tell it.
            }
        }
    }

    private static async Task TryWriteErrorAsync(HttpListenerResponse response, int status, string message)
    {
        try
        {
            await WriteTextAsync(response, status, "text/plain; charset=utf-8", message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // Headers already sent (a failure mid-stream): the truncated response is all the client gets.
        }
    }

    private static async Task WriteTextAsync(HttpListenerResponse response, int status, string contentType, string text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        response.Headers["Cache-Control"] = "no-cache";
        await response.OutputStream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Which viewer route a request path names.</summary>
public enum ViewerRouteKind
{
    Page,
    Model,
    File,
}

/// <summary>A parsed viewer route: <c>/api/jobs/{id}/view</c>, <c>.../view.json</c> or <c>.../files/{path}</c> (the path URL-decoded).</summary>
public sealed record ViewerRoute(ViewerRouteKind Kind, string JobId, string? FilePath)
{
    /// <summary>The route of an absolute, still URL-encoded request path, or null when it is not one of the viewer's.</summary>
    public static ViewerRoute? Parse(string absolutePath)
    {
        ArgumentNullException.ThrowIfNull(absolutePath);
        var segments = absolutePath.Split('/');
        if (segments.Length < 5 || segments[0] != "" || segments[1] != "api" || segments[2] != "jobs")
        {
            return null;
        }

        var jobId = Uri.UnescapeDataString(segments[3]);
        return segments[4..] switch
        {
            ["view"] => new ViewerRoute(ViewerRouteKind.Page, jobId, null),
            ["view.json"] => new ViewerRoute(ViewerRouteKind.Model, jobId, null),
            ["files", .. var rest] when rest.Length > 0 => new ViewerRoute(ViewerRouteKind.File, jobId, string.Join('/', rest.Select(Uri.UnescapeDataString))),
            _ => null,
        };
    }
}
