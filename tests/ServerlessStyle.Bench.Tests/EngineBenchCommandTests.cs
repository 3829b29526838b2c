using ServerlessStyle.Core.Tests;
using ServerlessStyle.Tests.Shared;

// Console redirection is process-wide: run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ServerlessStyle.Bench.Tests;

public sealed class EngineBenchCommandTests
{
    [Fact]
    public void Evaluation_TinyImage_PrintsTimingsWorkAndMemory()
    {
        var json = AppRunner.RunJson(Program.CreateApp, "evaluation", "--network", "random-vgg19", "--height", "16", "--width", "16", "--evaluations", "3");

        Assert.Equal(16, json.GetProperty("height").GetInt32());
        Assert.Equal(3, json.GetProperty("evaluations").GetInt32());
        Assert.Equal("cpu", json.GetProperty("provider").GetString());
        Assert.True(json.GetProperty("minMs").GetDouble() > 0);
        Assert.True(json.GetProperty("medianMs").GetDouble() >= json.GetProperty("minMs").GetDouble());
        Assert.True(json.GetProperty("peakRssMb").GetDouble() > 0);
        Assert.True(json.GetProperty("gigaMultiplyAdds").GetDouble() > 0);
    }

    [Fact]
    public void Evaluation_Profile_SummarisesKernelTimeByOpType()
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"bench-profile-{Guid.NewGuid():N}");

        var json = AppRunner.RunJson(Program.CreateApp, "evaluation", "--height", "16", "--width", "16", "--evaluations", "1", "--profile", prefix);

        var file = json.GetProperty("profileFile").GetString()!;
        try
        {
            var ops = json.GetProperty("profileMsByOp").EnumerateObject().Select(p => p.Name).ToList();

            // Random VGG19's evaluation graph runs convolutions, Gram MatMuls and the max-pool gradient.
            Assert.Contains("Conv", ops);
            Assert.Contains("MatMul", ops);
            Assert.Contains("MaxUnpool", ops);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Evaluation_ZeroEvaluations_FailsWithMessage()
    {
        var (code, _, error) = AppRunner.Run(Program.CreateApp, "evaluation", "--evaluations", "0");

        Assert.NotEqual(0, code);
        Assert.Contains("--evaluations", error);
    }

    [Fact]
    public void Optimizer_TinyRun_BothModesLowerTheStartLoss()
    {
        var json = AppRunner.RunJson(
            Program.CreateApp,
            "optimizer", "--content", TestPaths.Sample("content/chelsea.png"), "--style", TestPaths.Sample("styles/starry_night.jpg"),
            "--height", "16", "--iterations", "2", "--evaluations-per-iteration", "4");

        var start = json.GetProperty("startLoss").GetDouble();
        Assert.Equal(2, json.GetProperty("iterations").GetArrayLength());
        Assert.InRange(json.GetProperty("finalMemoryKept").GetDouble(), 0, start * 0.999);
        Assert.InRange(json.GetProperty("finalRestart").GetDouble(), 0, start * 0.999);
    }

    [Fact]
    public void Gemm_SmallMatrices_PrintsAPositiveRate()
    {
        var json = AppRunner.RunJson(Program.CreateApp, "gemm", "--size", "64");

        Assert.Equal(64, json.GetProperty("n").GetInt32());
        Assert.True(json.GetProperty("gflops").GetDouble() > 0);
    }
}
