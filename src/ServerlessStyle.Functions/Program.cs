using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessStyle.Core;
using ServerlessStyle.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<HttpErrorMiddleware>();
builder.Services.AddServerlessStyle();
builder.Services.AddHttpLimits();
builder.Services.AddOptions<HttpApiOptions>().BindConfiguration(HttpApiOptions.SectionName);
builder.Build().Run();
