using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;
using ServerlessStyle.Functions.Triggers;
using ServerlessStyle.Hosting;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// Simultaneous <c>POST /api/jobs</c> with one Idempotency-Key, against the durable engine the app uses: Durable
/// Task's Azure Storage backend on the test run's Azurite (a task hub of this test's own, no worker, so nothing runs).
/// Every caller gets 202 and the same job; exactly one is told it created it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConcurrentStartTests
{
    // Enough callers, in enough rounds, that several of them pass the "does it exist?" read before any has created the
    // instance: on the code before the fix every round of 8 had losers of that race.
    private const int Callers = 8;
    private const int Rounds = 3;

    private static readonly LimitsOptions Limits = new() { MaxStyles = 2, MaxInputBytes = 100_000 };

    [Fact]
    public async Task Start_SameKeyAtOnce_AllAccepted_OneCreates()
    {
        var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } s ? s : "UseDevelopmentStorage=true";
        var hub = $"c{Guid.NewGuid():N}"[..11];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessStyle:Storage:ConnectionString"] = connection,
            ["ServerlessStyle:Durable:TaskHub"] = hub,
            ["ServerlessStyle:Durable:PartitionCount"] = "1",
            ["ServerlessStyle:Durable:DeleteTaskHubOnStop"] = "true",
        }).Build();
        await using var durable = LocalDurableHost.Connect(configuration);
        var storage = new JobStorage(Azurite.CreateStore(), Options.Create(Azurite.IsolatedStorage("cs")), NullLogger<JobStorage>.Instance);
        var functions = new StyleJobFunctions(
            new JobIntake(storage, Options.Create(Limits), Options.Create(new WorkflowOptions())), storage, Options.Create(Limits), NullLogger<StyleJobFunctions>.Instance);

        for (var round = 0; round < Rounds; round++)
        {
            var key = $"order-{round}-{Guid.NewGuid():N}";
            var requests = new List<HttpRequest>();
            for (var i = 0; i < Callers; i++)
            {
                requests.Add(await MultipartAsync(key));
            }

            using var go = new ManualResetEventSlim();
            var calls = requests.Select(r => Task.Run(() =>
            {
                go.Wait();
                return functions.StyleJob_HttpStart(r, durable.Client, CancellationToken.None);
            })).ToList();
            go.Set();
            var answers = await Task.WhenAll(calls);

            var bodies = answers.Select(a =>
            {
                var accepted = Assert.IsType<AcceptedResult>(a);
                using var json = JsonDocument.Parse(JsonSerializer.Serialize(accepted.Value));
                return (Id: json.RootElement.GetProperty("id").GetString(), Created: !json.RootElement.GetProperty("alreadyExisted").GetBoolean());
            }).ToList();
            Assert.All(bodies, b => Assert.Equal(JobIds.FromIdempotencyKey(key), b.Id));
            Assert.Equal(1, bodies.Count(b => b.Created));
            Assert.NotNull(await durable.Client.GetInstanceAsync(JobIds.FromIdempotencyKey(key)));
        }
    }

    private static async Task<HttpRequest> MultipartAsync(string key)
    {
        using var form = new MultipartFormDataContent();
        foreach (var field in new[] { "content", "style" })
        {
            var part = new ByteArrayContent(Png());
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(part, field, $"{field}.png");
        }

        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = form.Headers.ContentType!.ToString();
        context.Request.Body = new MemoryStream(await form.ReadAsByteArrayAsync());
        context.Request.Headers[StyleJobFunctions.IdempotencyKeyHeader] = key;
        return context.Request;
    }

    private static byte[] Png()
    {
        using var image = new Image<Rgb24>(40, 32, new Rgb24(90, 140, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
