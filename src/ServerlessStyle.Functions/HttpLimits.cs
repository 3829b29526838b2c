using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;

namespace ServerlessStyle.Functions;

/// <summary>
/// The request-body limits of the HTTP API, all derived here from <see cref="LimitsOptions"/>: what the routes accept,
/// the worker's own server limit (Kestrel, set by <see cref="AddHttpLimits"/>), and the Functions host's
/// (<c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c>, written in infra/app/function-app.bicep; a test checks it equals
/// <see cref="HostBodyBytes"/>). docs/workflow.md's limits table gives the numbers.
/// </summary>
public static class HttpLimits
{
    /// <summary>The most bytes of a JSON request, as the JSON route's body or as a multipart request's <c>request</c> field.</summary>
    public const int MaxJsonBytes = 64 * 1024;

    /// <summary>Room for a multipart body's boundaries and part headers.</summary>
    private const int MultipartOverheadBytes = 64 * 1024;

    /// <summary>
    /// The largest body the API takes: every file a multipart request may carry at its largest (one content and
    /// <see cref="LimitsOptions.MaxStyles"/> styles of <see cref="LimitsOptions.MaxInputBytes"/>), its request field and
    /// the multipart framing. 188,874,752 bytes with the defaults. A larger body is answered 413.
    /// </summary>
    public static long MaxBodyBytes(LimitsOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return ((limits.MaxStyles + 1) * limits.MaxInputBytes) + MaxJsonBytes + MultipartOverheadBytes;
    }

    /// <summary>
    /// The Functions host's limit: twice <see cref="MaxBodyBytes"/>. The host refuses a body over its own limit itself,
    /// with an empty 500 the app never sees; above the app's limit, so that a body a little over the limit reaches the
    /// app, which answers 413 with the limit before reading it.
    /// </summary>
    public static long HostBodyBytes(LimitsOptions limits) => 2 * MaxBodyBytes(limits);

    /// <summary>Sets the worker's Kestrel limit to <see cref="MaxBodyBytes"/> (its default, 30,000,000 bytes, refused valid uploads).</summary>
    public static IServiceCollection AddHttpLimits(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>(
            (kestrel, limits) => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes(limits.Value));
        return services;
    }
}
