namespace ServerlessStyle.Functions;

/// <summary>How the HTTP API is reached from outside: the base of the URLs it hands out (status, cancel).</summary>
public sealed class HttpApiOptions
{
    public const string SectionName = "ServerlessStyle:Http";

    /// <summary>
    /// The app's public https address, for example https://func-x.region.azurecontainerapps.io (set by the Bicep).
    /// Behind Container Apps' ingress, which ends TLS, a request reaches the app as plain http, so URLs built from the
    /// request would say http and a DELETE sent there would be redirected; empty (func start) = the request's own address.
    /// </summary>
    public Uri? PublicBaseUri { get; set; }
}
