using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>The loss networks: <c>GET /api/models</c> lists what this app can run, with digests, and what <c>auto</c> runs.</summary>
public sealed class ModelsFunctions(NetworkResolver resolver, IOptions<EngineOptions> engine)
{
    [Function(nameof(Models_List))]
    public async Task<IActionResult> Models_List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var networks = await resolver.ListAsync(cancellationToken);
        var configured = engine.Value.Network;
        var (spec, identity, _) = configured == "auto"
            ? await resolver.ResolveAutoAsync(cancellationToken)
            : (NetworkSpec.Parse(configured, "ServerlessStyle:Engine:Network"), null, "");
        var auto = new { network = spec.Name, sha256 = identity?.Sha256, location = identity?.Location ?? configured };
        return new OkObjectResult(new
        {
            auto,
            networks = networks.Select(n => new
            {
                name = n.Name,
                sha256 = n.Sha256,
                origin = n.Origin.ToString(),
                location = n.Location,
                preprocess = n.Preprocess,
                bytes = n.Bytes,
                source = n.Source,
                // A models-container blob without a recorded digest is listed so it can be found, but it is never run.
                usable = n.Sha256 is not null,
            }),
        });
    }
}
