namespace ServerlessStyle.Cli.Tests;

/// <summary>Bad command-line input ends with one clear line on standard error, a non-zero exit and no stack trace, before any storage is touched.</summary>
[Collection(CliCollection.Name)]
public sealed class RunInputTests
{
    [Theory]
    [InlineData(new[] { "run", "--content", "/nonexistent/photo.jpg" }, "--content /nonexistent/photo.jpg: file not found.")]
    [InlineData(new[] { "run", "--style", "/nonexistent/style.png" }, "--style /nonexistent/style.png: file not found.")]
    [InlineData(new[] { "run", "--height", "5" }, "--height: 5 is out of range; allowed: 32..1024")]
    [InlineData(new[] { "run", "--iterations", "0" }, "--iterations: 0 is out of range; allowed: 1..1000")]
    [InlineData(new[] { "run", "--style-mode", "sideways" }, "--style-mode 'sideways' is not each or blend.")]
    [InlineData(new[] { "run", "--provider", "gpu" }, "--provider 'gpu' is not auto, cpu or cuda.")]
    [InlineData(new[] { "run", "--network", "alexnet" }, "--network 'alexnet' is not auto, vgg19, resnet18, random-vgg19 or a path")]
    [InlineData(new[] { "run", "--network", "/nonexistent/vgg19.onnx" }, "--network /nonexistent/vgg19.onnx: file not found.")]
    [InlineData(new[] { "worker", "--network", "/nonexistent/vgg19.h5" }, "--network /nonexistent/vgg19.h5: file not found.")]
    [InlineData(new[] { "run", "--resume", "Not_An_Id" }, "--resume 'Not_An_Id' is not a job id")]
    [InlineData(new[] { "run", "--resume", "job-1", "--height", "64" }, "--resume continues the job as it was requested")]
    public async Task Run_BadInput_ExitsNonZeroWithOneClearLine(string[] args, string expected)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync(args);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        AssertOneLine(error);
    }

    [Fact]
    public async Task Run_ContentIsNotAnImage_NamesTheFileAndTheProblem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"serverless-style-{Guid.NewGuid():N}.jpg");
        await File.WriteAllTextAsync(path, "this is text, not a picture");
        try
        {
            var (code, _, error) = await CliProcess.RunInProcessAsync("run", "--content", path);

            Assert.NotEqual(0, code);
            Assert.Contains($"--content {path}: ", error);
            Assert.Contains("not an image", error);
            AssertOneLine(error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertOneLine(string error)
    {
        Assert.StartsWith("serverless-style: ", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
