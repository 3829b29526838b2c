using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Cli.Tests.Commands;

/// <summary>`eval` end to end: real loss and gradient evaluations of real networks, seconds each (Category Slow).</summary>
[Trait("Category", "Slow")]
public sealed class EvalCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("eval-tests-").FullName;

    private static string Content => TestPaths.Sample("content/chelsea.png");

    private static string Style => TestPaths.Sample("styles/starry_night.jpg");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Eval_AtTheContentImageWithWinograd_ContentTermIsNegligible()
    {
        var json = CliRunner.RunJson("eval", "--network", "random-vgg19", "--content", Content, "--style", Style, "--height", "24", "--width", "40");

        // The targets are computed with direct convolutions and the evaluation with Winograd F(4x4,3x3), whose features
        // differ by about 1e-5 relative; squared, the content term at the content image is ~1e-10 of the features'
        // scale. 1e-6 of the whole loss leaves four orders of margin and still fails for any real mismatch.
        var content = json.GetProperty("content").GetDouble();
        Assert.InRange(content, 0.0, 1e-6 * json.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void Eval_AtTheContentImage_ContentTermIsZeroAndTermsAddUp()
    {
        var gradientFile = Path.Combine(_folder, "g.npy");

        var json = CliRunner.RunJson(
            "eval", "--network", "random-vgg19", "--content", Content, "--style", Style, "--height", "24", "--width", "40", "--grad-out", gradientFile, "--winograd", "off");

        // At x = content the content features equal their target exactly (same convolutions, same input), so the term is 0.
        Assert.Equal(0.0, json.GetProperty("content").GetDouble());
        var sum = json.GetProperty("style").GetDouble() + json.GetProperty("tv").GetDouble();
        Assert.True(sum > 0);

        // The graph adds float32 terms: the total may differ from the double sum by a few float32 ulps (1e-6 relative).
        Assert.Equal(1.0, json.GetProperty("loss").GetDouble() / sum, 6);
        var (gradient, shape) = Npy.ReadFloat32(gradientFile);
        Assert.Equal([1L, 3L, 24L, 40L], shape);
        Assert.Contains(gradient, g => g != 0);
    }

    [Fact]
    public void Eval_GradientFile_MatchesCentralDifferenceOfPrintedLoss()
    {
        var inputs = Path.Combine(_folder, "inputs");
        var gradientFile = Path.Combine(_folder, "g.npy");
        string[] common = ["eval", "--network", "random-vgg19", "--content", Content, "--style", Style, "--height", "16", "--width", "20"];

        // Evaluate away from the content image so that all three terms are active, at x = content + a fixed pattern.
        CliRunner.RunJson([.. common, "--inputs-out", inputs]);
        var (content, shape) = Npy.ReadFloat32(Path.Combine(inputs, "content.npy"));
        var x = content.Select((v, i) => v + (float)(20 * Math.Sin(i * 0.37))).ToArray();
        var xFile = Path.Combine(_folder, "x.npy");
        Npy.WriteFloat32(xFile, x, shape);
        CliRunner.RunJson([.. common, "-x", xFile, "--grad-out", gradientFile]);
        var (gradient, _) = Npy.ReadFloat32(gradientFile);

        // Along d = g / |g| the directional derivative is |g|. A step of 0.5 (pixel units) changes the loss by about
        // 0.5 |g|, far above float32 rounding of the loss, while the curvature term stays small next to it.
        var norm = Math.Sqrt(gradient.Sum(g => (double)g * g));
        const double Step = 0.5;
        double LossAt(double sign)
        {
            var file = Path.Combine(_folder, $"x{sign}.npy");
            Npy.WriteFloat32(file, x.Select((v, i) => (float)(v + (sign * Step * gradient[i] / norm))).ToArray(), shape);
            return CliRunner.RunJson([.. common, "-x", file]).GetProperty("loss").GetDouble();
        }

        var difference = (LossAt(1) - LossAt(-1)) / (2 * Step);

        // 2%: the central difference of a float32 loss through 16 ReLU layers (kinks crossed by the step) is not exact.
        Assert.InRange(difference / norm, 0.98, 1.02);
    }

    [Fact]
    public void Eval_XOfAnotherSize_FailsNamingBothShapes()
    {
        var xFile = Path.Combine(_folder, "x.npy");
        Npy.WriteFloat32(xFile, new float[3 * 8 * 8], [1, 3, 8, 8]);

        var (code, output, error) = CliRunner.Run("eval", "--network", "random-vgg19", "--content", Content, "--style", Style, "--height", "16", "--width", "20", "-x", xFile);

        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        Assert.Contains("(1, 3, 8, 8)", error);
        Assert.Contains("(1, 3, 16, 20)", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Theory]
    [InlineData("--content-weight", "-1")]
    [InlineData("--tv-weight", "NaN")]
    public void Eval_NegativeOrNaNWeight_FailsNamingTheOption(string option, string value)
    {
        var (code, output, error) = CliRunner.Run("eval", "--content", Content, "--style", Style, "--height", "16", option, value);

        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        Assert.Equal($"serverless-style: {option} {value} must be a finite non-negative number.", error.TrimEnd('\n'));
    }

    [Fact]
    public void Eval_MissingContentFile_FailsNamingTheFile()
    {
        var (code, _, error) = CliRunner.Run("eval", "--content", Path.Combine(_folder, "nope.png"), "--style", Style, "--height", "16");

        Assert.NotEqual(0, code);
        Assert.Contains("nope.png", error);
    }

    [Fact]
    public void Eval_ExportedRandomVgg19File_GivesTheSameLossAsTheBuiltIn()
    {
        var onnx = Path.Combine(_folder, "random_vgg19.onnx");
        OnnxModels.WriteForward(RandomVgg19.Create(), onnx);
        string[] common = ["--content", Content, "--style", Style, "--height", "16", "--width", "20"];

        var builtIn = CliRunner.RunJson(["eval", "--network", "random-vgg19", .. common]);
        var exported = CliRunner.RunJson(["eval", "--network", onnx, "--preprocess", "caffe", .. common]);

        // Same weights and the same graph builder: the float32 results are bitwise equal.
        Assert.Equal(builtIn.GetProperty("loss").GetDouble(), exported.GetProperty("loss").GetDouble());
    }
}
