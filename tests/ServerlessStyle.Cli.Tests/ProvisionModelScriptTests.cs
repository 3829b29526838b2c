using System.Diagnostics;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// scripts/provision-model.sh, azd's postprovision hook, run for real with the built CLI: when the VGG19 download fails
/// the deployment goes on with one warning line that says how to add the network, and nothing is uploaded.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class ProvisionModelScriptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-hook-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessStyle.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ServerlessStyle.sln above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public async Task Hook_DownloadFails_ExitsZeroWithOneWarningLineSayingHowToAddVgg19()
    {
        // Nothing listens on this loopback port: the download fails at once, as it does on a machine without internet.
        var closedPort = LoopbackPort.Free();
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "scripts", "provision-model.sh"));
        start.Environment["SERVERLESS_STYLE_CLI"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "serverless-style.dll")}";
        start.Environment["SERVERLESS_STYLE_VGG19_URL"] = $"http://127.0.0.1:{closedPort}/vgg19.h5";
        start.Environment["SERVERLESS_STYLE_MODELS"] = Path.Combine(_folder, "store");
        start.Environment["AZURE_STORAGE_ACCOUNT_NAME"] = "stexample";
        start.Environment["SERVERLESS_STYLE_UPLOAD_TRIES"] = "1";

        using var hook = Process.Start(start)!;
        var output = hook.StandardOutput.ReadToEndAsync();
        var error = hook.StandardError.ReadToEndAsync();
        await hook.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);

        Assert.Equal(0, hook.ExitCode);
        var line = Assert.Single((await error).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("warning: VGG19 was not put into the models container (models fetch vgg19 failed: could not download", line);
        Assert.Contains("the app runs the bundled ResNet18", line);
        Assert.Contains("models import --keras-h5 FILE", line);
        Assert.Contains("models upload --account stexample", line);
        Assert.Equal("", await output);
        Assert.False(Directory.Exists(Path.Combine(_folder, "store")) && Directory.EnumerateFiles(Path.Combine(_folder, "store")).Any());
    }

    [Theory]
    [InlineData("public")]
    [InlineData("private")]
    public async Task Hook_StorageNetworkAccess_UploadsOnlyWhenThisMachineCanReachTheAccount(string networkAccess)
    {
        // A stand-in for the CLI that records its arguments and succeeds: what the hook asks of it is the point here.
        var calls = Path.Combine(_folder, "calls.txt");
        var stub = Path.Combine(_folder, "cli.sh");
        await File.WriteAllTextAsync(stub, $"echo \"$*\" >> '{calls}'\n");
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), "scripts", "provision-model.sh"));
        start.Environment["SERVERLESS_STYLE_CLI"] = $"sh {stub}";
        start.Environment["AZURE_STORAGE_ACCOUNT_NAME"] = "stexample";
        start.Environment["SERVERLESS_STYLE_STORAGE_NETWORK_ACCESS"] = networkAccess;

        using var hook = Process.Start(start)!;
        var error = hook.StandardError.ReadToEndAsync();
        await hook.StandardOutput.ReadToEndAsync();
        await hook.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(0, hook.ExitCode);
        var asked = await File.ReadAllLinesAsync(calls);
        if (networkAccess == "public")
        {
            Assert.Equal(["models fetch vgg19 --if-missing", "models upload --account stexample"], asked);
            Assert.Equal("", await error);
        }
        else
        {
            // A private account refuses this machine: no upload tried (ten refusals, five minutes), one line saying what to do.
            Assert.Equal(["models fetch vgg19 --if-missing"], asked);
            var line = Assert.Single((await error).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("warning: VGG19 was not put into the models container (the storage account is private", line);
            Assert.Contains("docs/deploy.md, \"Private storage\"", line);
        }
    }
}
