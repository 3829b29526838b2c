using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>The style library: <c>GET /api/styles</c> lists the blobs of the styles container.</summary>
public sealed class StylesFunctions(JobStorage storage)
{
    [Function(nameof(Styles_List))]
    public async Task<IActionResult> Styles_List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "styles")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var names = await storage.Inputs.ListStylesAsync(cancellationToken);
        return new OkObjectResult(new { styles = names.Select(n => new { name = Path.GetFileNameWithoutExtension(n), blob = $"styles/{n}" }) });
    }
}
