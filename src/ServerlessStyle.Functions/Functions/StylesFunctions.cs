using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Functions.Functions;

/// <summary>The style library: <c>GET /api/styles</c> lists the blobs of the styles container.</summary>
public sealed class StylesFunctions(BlobStore store, IOptions<StorageOptions> options)
{
    [Function(nameof(Styles_List))]
    public async Task<IActionResult> Styles_List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "styles")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var names = await store.ListAsync(options.Value.Container(options.Value.Styles), cancellationToken: cancellationToken);
        return new OkObjectResult(new { styles = names.Select(n => new { name = Path.GetFileNameWithoutExtension(n), blob = $"{options.Value.Styles}/{n}" }) });
    }
}
