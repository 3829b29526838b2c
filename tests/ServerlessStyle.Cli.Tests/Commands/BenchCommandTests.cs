namespace ServerlessStyle.Cli.Tests.Commands;

public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_TinyImage_PrintsTimingsWorkAndMemory()
    {
        var json = CliRunner.RunJson("bench", "--network", "random-vgg19", "--height", "16", "--width", "16", "--evaluations", "3");

        Assert.Equal(16, json.GetProperty("height").GetInt32());
        Assert.Equal(3, json.GetProperty("evaluations").GetInt32());
        Assert.Equal("cpu", json.GetProperty("provider").GetString());
        Assert.True(json.GetProperty("minMs").GetDouble() > 0);
        Assert.True(json.GetProperty("medianMs").GetDouble() >= json.GetProperty("minMs").GetDouble());
        Assert.True(json.GetProperty("peakRssMb").GetDouble() > 0);
        Assert.True(json.GetProperty("gigaMultiplyAdds").GetDouble() > 0);
    }

    [Fact]
    public void Bench_Profile_SummarisesKernelTimeByOpType()
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"bench-profile-{Guid.NewGuid():N}");

        var json = CliRunner.RunJson("bench", "--height", "16", "--width", "16", "--evaluations", "1", "--profile", prefix);

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
    public void Bench_ZeroEvaluations_FailsWithMessage()
    {
        var (code, _, error) = CliRunner.Run("bench", "--evaluations", "0");

        Assert.NotEqual(0, code);
        Assert.Contains("--evaluations", error);
    }

    [Fact]
    public void BenchOptimizer_TinyRun_BothModesLowerTheStartLoss()
    {
        var json = CliRunner.RunJson(
            "bench-optimizer", "--content", TestPaths.Sample("content/chelsea.png"), "--style", TestPaths.Sample("styles/starry_night.jpg"),
            "--height", "16", "--iterations", "2", "--evaluations-per-iteration", "4");

        var start = json.GetProperty("startLoss").GetDouble();
        Assert.Equal(2, json.GetProperty("iterations").GetArrayLength());
        Assert.InRange(json.GetProperty("finalMemoryKept").GetDouble(), 0, start * 0.999);
        Assert.InRange(json.GetProperty("finalRestart").GetDouble(), 0, start * 0.999);
    }

    [Fact]
    public void BenchGemm_SmallMatrices_PrintsAPositiveRate()
    {
        var json = CliRunner.RunJson("bench-gemm", "--size", "64");

        Assert.Equal(64, json.GetProperty("n").GetInt32());
        Assert.True(json.GetProperty("gflops").GetDouble() > 0);
    }
}
