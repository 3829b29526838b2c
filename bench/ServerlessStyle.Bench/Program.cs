using ServerlessStyle.Bench.Commands;
using ServerlessStyle.CommandLine;
using Spectre.Console.Cli;

namespace ServerlessStyle.Bench;

/// <summary>Entry point of the benchmarks (bench/README.md): each command prints its numbers, JSON where a script reads them.</summary>
public static class Program
{
    public static int Main(string[] args) => CreateApp().Run(args);

    /// <summary>The command tree; tests run it with their own arguments.</summary>
    public static CommandApp CreateApp()
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("serverless-style-bench");
            UnknownOptions.MakeStrict(config);
            config.AddCommand<EvaluationCommand>("evaluation").WithDescription("Median and minimum ms per evaluation (forward + gradient) after warm-up, with peak memory, as JSON.");
            config.AddCommand<GemmCommand>("gemm").WithDescription("float32 GEMM GFLOP/s through ONNX Runtime: the peak for the evaluation figures.");
            config.AddCommand<OptimizerCommand>("optimizer").WithDescription("L-BFGS with memory kept vs restarted every iteration (the seed), losses side by side.");
            config.AddCommand<PipelineCommand>("pipeline").WithDescription("Time one job's chunk activities through the durable host on Azurite: the share spent outside loss evaluations.");
            config.AddCommand<GpuCheckCommand>("gpu-check").WithDescription("The loss and gradient on the CPU and CUDA providers, compared and timed (docs/gpu.md).");
            config.AddCommand<JudgeCommand>("judge").WithDescription("Stylise sample pairs with the engine alone and judge the results by network-free colour, texture and content statistics (docs/networks-and-imaging.md).");
            config.AddCommand<SeamCommand>("seam").WithDescription("How visible a tiled result's seams are: the step between neighbours across tile borders over the step elsewhere, as JSON (docs/performance.md, Posters).");
            config.AddCommand<LossCommand>("loss").WithDescription("The loss of result images under the untiled objective (content, style, network and size as the run had them), one JSON line each.");
            config.AddCommand<TileGapCommand>("tile-gap").WithDescription("Why tiled stages end at a higher loss: untiled and tiled runs in one process (tile style term, overlap, halo, restarts), scored by the untiled objective, and tile vs untiled gradients, as JSON lines.");
            config.AddCommand<EstimateCommand>("estimate").WithDescription("The peak memory MemoryEstimate expects of a worker for an image size (a tile, a whole stage), as JSON.");
            config.AddCommand<ExportRandomVgg19Command>("export-random-vgg19").WithDescription("Write the seeded VGG19-shaped network as .onnx (for the PyTorch comparison).");
            config.SetExceptionHandler((exception, _) => CliErrors.Report(exception, typeof(Program).Assembly));
        });
        return app;
    }
}
