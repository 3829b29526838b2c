using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Viewer;

namespace ServerlessStyle.Functions.Triggers;

/// <summary>The job viewer: the page, its JSON model and the job's files (streamed from storage: no public container, no SAS).</summary>
public sealed class JobViewFunctions(JobStorage storage)
{
    [Function(nameof(JobView_Page))]
    public static IActionResult JobView_Page(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/view")] HttpRequest request,
        string id) =>
        new ContentResult { Content = JobViewPage.Html, ContentType = JobViewPage.ContentType, StatusCode = StatusCodes.Status200OK };

    [Function(nameof(JobView_Model))]
    public async Task<IActionResult> JobView_Model(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/view.json")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        try
        {
            var view = await JobView.LoadAsync(storage, id, cancellationToken);
            return view is null
                ? HttpErrors.NotFound($"no job '{HttpErrors.Echo(id)}'")
                : new ContentResult { Content = view.ToJson(), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };
        }
        catch (InvalidJobPathException e)
        {
            return HttpErrors.BadRequest(e.Message);
        }
    }

    [Function(nameof(JobView_File))]
    public async Task<IActionResult> JobView_File(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/files/{*path}")] HttpRequest request,
        string id,
        string path,
        CancellationToken cancellationToken)
    {
        try
        {
            var file = await JobFiles.OpenAsync(storage, id, path, cancellationToken);
            return file is null
                ? HttpErrors.NotFound($"no file '{HttpErrors.Echo(path)}' in job '{HttpErrors.Echo(id)}'")
                : new FileStreamResult(file.Content, file.ContentType);
        }
        catch (InvalidJobPathException e)
        {
            return HttpErrors.BadRequest(e.Message);
        }
    }
}
