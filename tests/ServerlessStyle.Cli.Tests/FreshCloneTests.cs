using System.Runtime.InteropServices;
using ServerlessStyle.Core.Tests.Evaluation;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// What a newcomer sees first, in a child process so that native output (ONNX Runtime writes its errors straight to
/// the process's stderr) is captured too: a quiet CPU fallback, and a checkout without Azurite or without Node.js.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Process")]
public sealed class FreshCloneTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-fresh-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static bool CudaLibrariesPresent => NativeLibrary.TryLoad("libcublasLt.so.13", out _);

    /// <summary>A tiny job: the drawn pictures, 32 px, one iteration of two evaluations on the seeded test network.</summary>
    private string[] TinyRun(params string[] extra) =>
        ["run", "--network", "random-vgg19", "--height", "32", "--iterations", "1", "--evaluations", "2", "--out", Path.Combine(_folder, "out"), .. extra];

    /// <summary>No storage in the environment, as on a new user's machine.</summary>
    private static Dictionary<string, string?> NoStorage(string? path = null)
    {
        var environment = new Dictionary<string, string?> { ["AZURITE_CONNECTION_STRING"] = null, ["ServerlessStyle__Storage__ConnectionString"] = null };
        if (path is not null)
        {
            environment["PATH"] = path;
        }

        return environment;
    }

    /// <summary>A checkout with nothing installed yet: the repository's package.json and lock file, no node_modules.</summary>
    private string FreshCheckout()
    {
        var checkout = Directory.CreateDirectory(Path.Combine(_folder, "checkout")).FullName;
        foreach (var file in new[] { "package.json", "package-lock.json" })
        {
            File.Copy(Path.Combine(TestPaths.RepositoryRoot, file), Path.Combine(checkout, file));
        }

        return checkout;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Run_DefaultProviderOnACpuMachine_PrintsOnePlainLineAndNoOnnxRuntimeError()
    {
        using var child = CliProcess.Start(TinyRun());

        var code = await child.WaitForExitAsync(Timeout);

        Assert.True(code == 0, $"exit {code}: {child.Error}");
        var everything = child.Output + child.Error;
        Assert.DoesNotContain("[E:onnxruntime", everything);
        if (!CudaLibrariesPresent)
        {
            Assert.Single(Lines(everything), l => l == "CUDA not available: using the CPU");
            // The reason is for --verbose only.
            Assert.DoesNotContain("libcublasLt", everything);
        }
    }

    [WithoutCudaFact]
    public async Task Eval_AutoProviderVerboseWithoutCuda_PrintsTheReasonNamingTheMissingLibraries()
    {
        using var child = CliProcess.Start(
            ["eval", "--provider", "auto", "--verbose", "--content", TestPaths.Sample("content/chelsea.png"), "--style", TestPaths.Sample("styles/starry_night.jpg"), "--height", "16"]);

        var code = await child.WaitForExitAsync(Timeout);

        Assert.True(code == 0, $"exit {code}: {child.Error}");
        Assert.DoesNotContain("[E:onnxruntime", child.Output + child.Error);
        Assert.Equal("CUDA not available: using the CPU", Lines(child.Error)[0]);
        var why = Assert.Single(Lines(child.Error), l => l.StartsWith("why: ", StringComparison.Ordinal));
        Assert.Contains("Not found: ", why);
        Assert.Contains("libcublasLt.so.13", why[why.IndexOf("Not found: ", StringComparison.Ordinal)..]);
    }

    [WithoutCudaFact]
    public async Task Run_ProviderCudaWithoutCuda_FailsWithOneLineNamingTheMissingLibraries()
    {
        using var child = CliProcess.Start(TinyRun("--provider", "cuda"));

        var code = await child.WaitForExitAsync(Timeout);

        Assert.Equal(1, code);
        var line = Assert.Single(Lines(child.Output + child.Error));
        Assert.StartsWith("serverless-style: CUDA was required but cannot be used", line);
        Assert.Contains("Not found: ", line);
        Assert.Contains("ONNX Runtime said: ", line);
    }

    [Fact]
    public async Task Run_FreshCheckoutWithoutNode_FailsWithOneLineNamingWhatToInstall()
    {
        var checkout = FreshCheckout();

        // Neither node nor npm on the PATH (the child's dotnet is started by its full path).
        using var child = CliProcess.Start(TinyRun(), checkout, NoStorage(path: Path.Combine(_folder, "empty-path")));
        var code = await child.WaitForExitAsync(Timeout);

        Assert.Equal(1, code);
        var error = Assert.Single(Lines(child.Error));
        Assert.Equal(
            "serverless-style: Azurite is not installed and node was not found: install Node.js 20 (from nodejs.org or your package manager, e.g. apt-get install nodejs npm), or pass --storage CONNECTION_STRING.",
            error);
        Assert.Contains("storage: installing Azurite from package-lock.json", child.Output);
        Assert.False(Directory.Exists(Path.Combine(checkout, "node_modules")));
    }

    [Fact]
    public async Task Run_FreshCheckoutWithoutAzurite_InstallsItWithNpmCiAndMakesThePictures()
    {
        var checkout = FreshCheckout();

        using var child = CliProcess.Start(TinyRun(), checkout, NoStorage());
        var code = await child.WaitForExitAsync(Timeout);

        Assert.True(code == 0, $"exit {code}: {child.Output} {child.Error}");
        Assert.Single(Lines(child.Output), l => l.StartsWith("storage: installing Azurite from package-lock.json (npm ci in ", StringComparison.Ordinal));
        Assert.Contains("storage: Azurite on 127.0.0.1:", child.Output);
        Assert.True(File.Exists(Path.Combine(checkout, "node_modules", ".bin", "azurite-blob")));
        var final = Assert.Single(Directory.GetFiles(Path.Combine(_folder, "out"), "final.png", SearchOption.AllDirectories));
        Assert.True(new FileInfo(final).Length > 0);
        Assert.DoesNotContain(" at ", child.Error);
    }
}
