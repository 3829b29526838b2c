using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessStyle.Cli.Local;
using ServerlessStyle.CommandLine;
using ServerlessStyle.Core.Graph;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;
using ServerlessStyle.Core.Workflow;

namespace ServerlessStyle.Cli.Tests;

/// <summary>
/// <c>run --resume JOB --network N</c>: a job recorded before requests named their network says <c>auto</c>, and runs
/// N again; a job whose request names its network keeps it and refuses another.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class RunResumeNetworkTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-resume-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static JobInput Recorded(NetworkSpec network) =>
        new("job-1", new JobRequest { Content = ["uploads/job-1/a.png"], Styles = [new StyleInput("uploads/job-1/s.jpg")], Network = network }, new WorkflowSettings());

    [Fact]
    public void ResumedNetwork_RecordedAutoAndAFile_IsTheFileByItsFullPath()
    {
        var onnx = Path.Combine(_folder, "my-vgg19.onnx");
        File.WriteAllBytes(onnx, [0]);

        Assert.Equal(NetworkSpec.File(onnx), RunPlan.ResumedNetwork(Recorded(NetworkSpec.Auto), Path.GetRelativePath(Environment.CurrentDirectory, onnx)));
        Assert.Null(RunPlan.ResumedNetwork(Recorded(NetworkSpec.Auto), "auto"));
        Assert.Null(RunPlan.ResumedNetwork(Recorded(NetworkSpec.ResNet18), "resnet18"));
    }

    [Fact]
    public void ResumedNetwork_RecordedNetworkAndAnother_IsRefusedNamingBoth()
    {
        var e = Assert.Throws<CliUsageException>(() => RunPlan.ResumedNetwork(Recorded(NetworkSpec.Vgg19), "resnet18"));

        Assert.Equal("--network resnet18: job job-1 runs vgg19, as its request records; leave out --network.", e.Message);
    }

    [Fact]
    [Trait("Category", "Process")]
    public async Task Run_ResumeOfAJobRecordedWithAutoAndANetworkFile_RunsTheFile()
    {
        var connection = CliProcess.EnvironmentStorage;
        Assert.False(connection is null, "AZURITE_CONNECTION_STRING is not set: run the tests under scripts/with-azurite.sh.");
        var storage = new JobStorage(BlobStore.FromConnectionString(connection), Options.Create(new StorageOptions()), NullLogger<JobStorage>.Instance);
        var onnx = Path.Combine(_folder, "exported_vgg19.onnx");
        OnnxModels.WriteForward(RandomVgg19.Create(), onnx);

        // As such a job was recorded: its inputs uploaded, job.json submitted with "auto", no orchestration yet.
        var job = $"resume-auto-{Guid.NewGuid():N}"[..24];
        var request = new JobRequest
        {
            Content = [$"uploads/{job}/content/chelsea.png"], Styles = [new StyleInput($"uploads/{job}/styles/starry_night.jpg")],
            Height = 32, Iterations = 1, EvaluationsPerIteration = 2, Network = NetworkSpec.Auto,
        };
        await storage.Inputs.UploadAsync(request.Content[0], BinaryData.FromBytes(await File.ReadAllBytesAsync(TestPaths.Sample("content/chelsea.png"))));
        await storage.Inputs.UploadAsync(request.Styles[0].Blob, BinaryData.FromBytes(await File.ReadAllBytesAsync(TestPaths.Sample("styles/starry_night.jpg"))));
        await storage.Documents.UpdateAsync(job, _ => JobDocument.Submitted(job, request));

        var (code, output, error) = await CliProcess.RunInProcessAsync(
            "run", "--resume", job, "--network", onnx, "--preprocess", "caffe", "--storage", connection, "--out", Path.Combine(_folder, "out"));

        Assert.True(code == 0, $"exit {code}: {error}");
        Assert.Contains($"network: {onnx} (the job's request says auto)", output);
        var document = await storage.Documents.ReadAsync(job);
        Assert.Equal((NetworkOrigin.File, onnx), (document!.Network!.Origin, document.Network.Location));
    }
}
