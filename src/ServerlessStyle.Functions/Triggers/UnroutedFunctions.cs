using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>
/// Every <c>/api/...</c> request no other function takes, such as <c>/api/jobs/%2e%2e</c> (the server resolves the
/// dots to <c>/api/</c>): a JSON 404 that lists the routes, instead of the host's empty one.
/// </summary>
public static class UnroutedFunctions
{
    /// <summary>
    /// The function's name sorts after every other HTTP function's on purpose: the Functions host tries routes in the
    /// order of their functions' names, not by how specific they are, so a catch-all that sorted first would take every
    /// request (FunctionRoutesTests checks the order).
    /// </summary>
    public const string Name = "Zz_Unrouted";

    public const string Routes =
        "POST /api/jobs, GET|DELETE /api/jobs/{id}, GET /api/jobs/{id}/view, GET /api/jobs/{id}/view.json, GET /api/jobs/{id}/files/{path}, GET /api/styles, GET /api/models";

    [Function(Name)]
    public static IActionResult Zz_Unrouted(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", "put", "delete", "patch", "head", "options", Route = "{*path}")] HttpRequest request,
        string? path) =>
        HttpErrors.NotFound($"nothing at {request.Method} /api/{HttpErrors.Echo(path)}; the routes are {Routes}");
}
