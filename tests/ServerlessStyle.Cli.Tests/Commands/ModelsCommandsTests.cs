using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessStyle.Cli.Commands;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>
/// <c>models fetch</c> checks what it downloads (against a loopback HTTP server, not the internet); <c>models upload</c>
/// puts a network into the models container of real Azurite, where a <c>run --network auto</c> with no local model finds it.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class ModelsCommandsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-models-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task VerifiedDownload_BytesWithThePublishedMd5_KeepsTheFile()
    {
        byte[] bytes = [.. Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31))];
        using var server = new LoopbackServer(bytes);
        var destination = Path.Combine(_folder, "weights.h5");
        using var http = new HttpClient();

        await VerifiedDownload.DownloadAsync(http, server.Url, Convert.ToHexStringLower(MD5.HashData(bytes)), destination);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(destination));
        Assert.Equal([destination], Directory.GetFiles(_folder));
    }

    [Fact]
    public async Task VerifiedDownload_BytesWithAnotherMd5_DeletesThemAndNamesBothDigests()
    {
        byte[] bytes = [1, 2, 3, 4];
        using var server = new LoopbackServer(bytes);
        var destination = Path.Combine(_folder, "weights.h5");
        using var http = new HttpClient();

        var e = await Assert.ThrowsAsync<DownloadVerificationException>(
            () => VerifiedDownload.DownloadAsync(http, server.Url, ModelsFetchCommand.KerasVgg19Md5, destination));

        Assert.Contains(Convert.ToHexStringLower(MD5.HashData(bytes)), e.Message);
        Assert.Contains(ModelsFetchCommand.KerasVgg19Md5, e.Message);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void ModelsFetch_ServerSendsOtherBytes_FailsSayingSoAndImportsNothing()
    {
        using var server = new LoopbackServer([.. "<html>captive portal</html>"u8]);
        var store = Path.Combine(_folder, "store");

        var (code, _, error) = CliRunner.Run("models", "fetch", "vgg19", "--url", server.Url.ToString(), "--models", store);

        Assert.NotEqual(0, code);
        Assert.Contains($"{ModelsFetchCommand.KerasVgg19Md5} is published for it", error);
        Assert.Contains("nothing was imported", error);
        Assert.False(Directory.Exists(store) && Directory.EnumerateFileSystemEntries(store).Any(), "the model store stays empty");
    }

    [Fact]
    public void ModelsUpload_NoTarget_FailsNamingBothOptions()
    {
        var (code, output, error) = CliRunner.Run("models", "upload", "--models", _folder);

        Assert.NotEqual(0, code);
        Assert.Contains("--storage", output + error);
        Assert.Contains("--account", output + error);
    }

    [Fact]
    [Trait("Category", "Process")]
    public async Task ModelsUpload_ThenRunAutoInAProcessWithNoLocalModel_RunsTheUploadedVgg19()
    {
        // The deployer's side: a VGG19-shaped network in its own model store (what 'models import' writes), then uploaded.
        int[] stack = [4, 4, RandomVgg19.Pool, 4, 4, RandomVgg19.Pool, 6, 6, 6, 6, RandomVgg19.Pool, 6, 6, 6, 6, RandomVgg19.Pool, 6, 6];
        var deployerStore = Path.Combine(_folder, "deployer");
        var sha256 = new ModelStore(deployerStore).Import("vgg19", RandomVgg19.CreateVggStyle("tiny", stack, seed: 3), "caffe", "test").Sha256;

        // An Azurite of this test's own: the models container of the shared one would change what other tests' auto runs.
        using var azurite = await LocalAzurite.StartAsync(Path.Combine(_folder, "azurite"), TimeSpan.FromSeconds(60), TextWriter.Null);
        var upload = CliRunner.Run("models", "upload", "--storage", azurite.ConnectionString, "--models", deployerStore);
        Assert.True(upload.ExitCode == 0, upload.Error);
        Assert.Contains($"sha256 {sha256}", upload.Out);

        // The runner's side: no local model at all, its own download cache.
        var cache = Path.Combine(_folder, "cache");
        var outFolder = Path.Combine(_folder, "out");
        var (code, output, error) = await WithEnvironmentAsync(
            new() { ["SERVERLESS_STYLE_MODELS"] = Path.Combine(_folder, "empty-store"), ["SERVERLESS_STYLE_MODEL_CACHE"] = cache },
            () => CliProcess.RunInProcessAsync(
                "run", "--storage", azurite.ConnectionString, "--network", "auto", "--height", "32", "--iterations", "1", "--evaluations", "2", "--out", outFolder));

        Assert.True(code == 0, $"exit {code}: {error}");
        Assert.Contains($"network: vgg19 (models/vgg19.onnx in the storage account, sha256 {sha256})", output);
        Assert.True(File.Exists(Path.Combine(cache, sha256, "vgg19.onnx")), "the runner downloaded the network into its cache");
        var job = Assert.Single(Directory.GetDirectories(outFolder));
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(job, "job.json")));
        Assert.Equal("vgg19", json.RootElement.GetProperty("request").GetProperty("network").GetString());
        Assert.Equal("Completed", json.RootElement.GetProperty("state").GetString());

        // Azurite saves its data as it stops; the folder is deleted next.
        Assert.True(azurite.StopAndWait(TimeSpan.FromSeconds(30)), "this test's Azurite did not stop within 30 s");
    }

    private static async Task<T> WithEnvironmentAsync<T>(Dictionary<string, string> variables, Func<Task<T>> action)
    {
        var previous = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        foreach (var (name, value) in variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        try
        {
            return await action();
        }
        finally
        {
            foreach (var (name, value) in previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    /// <summary>Serves the same bytes for every GET on 127.0.0.1 and a free port until disposed.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public LoopbackServer(byte[] body)
        {
            var port = LoopbackPort.Free();
            Url = new Uri($"http://127.0.0.1:{port}/keras/weights.h5");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
        }

        public Uri Url { get; }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
