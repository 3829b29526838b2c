using ServerlessStyle.Cli.Commands;
using Spectre.Console.Cli;

namespace ServerlessStyle.Cli;

/// <summary>Entry point of the local runner and engine tools.</summary>
public static class Program
{
    public static int Main(string[] args) => CreateApp().Run(args);

    /// <summary>The command tree; tests run it with their own arguments.</summary>
    public static CommandApp CreateApp()
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("serverless-style");
            config.AddCommand<RunCommand>("run").WithDescription("Stylise photos end to end on the local durable engine over Azurite.");
            config.AddCommand<ControlsSheetCommand>("sheet-controls").WithDescription("Render each artistic control on the sample photos into docs/images/controls.png, through the durable host (under scripts/with-azurite.sh).");
            config.AddCommand<SheetCommand>("sheet").WithDescription("Put images side by side in one labelled row (PNG).");
            config.AddCommand<EvalCommand>("eval").WithDescription("One loss and gradient evaluation: JSON terms on stdout, the gradient as .npy.");
            config.AddBranch("models", models =>
            {
                models.SetDescription("Manage loss networks (VGG19 import and download).");
                models.AddCommand<ModelsListCommand>("list").WithDescription("List the imported networks and what 'auto' resolves to.");
                models.AddCommand<ModelsImportCommand>("import").WithDescription("Convert a Keras .h5 or an ONNX VGG19 and store it for later runs.");
                models.AddCommand<ModelsFetchCommand>("fetch").WithDescription("Download the Keras VGG19 weights (needs internet), check their MD5 and import them.");
                models.AddCommand<ModelsUploadCommand>("upload").WithDescription("Put an imported network into the storage account's models container, with its SHA-256.");
            });
            config.SetExceptionHandler((exception, _) => CliErrors.Report(exception));
        });
        return app;
    }
}
