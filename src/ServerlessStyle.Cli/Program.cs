using ServerlessStyle.Cli.Commands;
using ServerlessStyle.CommandLine;
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
            UnknownOptions.MakeStrict(config);
            config.AddCommand<RunCommand>("run").WithDescription("Stylise photos end to end: submit the job to the durable task hub (Azurite or a storage account), work on it in this process, follow it and download the results.");
            config.AddCommand<WorkerCommand>("worker").WithDescription("Join the durable task hub and run the jobs in it until Ctrl-C or SIGTERM; start one per machine (or GPU) to scale out.");
            config.AddBranch("jobs", jobs =>
            {
                jobs.SetDescription("Jobs in the durable task hub: list, show, wait for, cancel.");
                jobs.AddCommand<JobsListCommand>("list").WithDescription("List the task hub's jobs, newest first.");
                jobs.AddCommand<JobsShowCommand>("show").WithDescription("Print a job's progress as JSON: its state and each pair's iteration and loss.");
                jobs.AddCommand<JobsWaitCommand>("wait").WithDescription("Wait for a job to end: exit 0 when it completed (results in DIR/{job}/ with --out), else 1 with the reason, or 2 after --timeout.");
                jobs.AddCommand<JobsCancelCommand>("cancel").WithDescription("Cancel a running job and its pairs, for good; what it made so far stays in its results.");
            });
            config.AddBranch("inbox", inbox =>
            {
                inbox.SetDescription("The inbox queue, as Event Grid fills it in Azure.");
                inbox.AddCommand<InboxDropCommand>("drop").WithDescription("Drop a photo into inbox/{styles}/ and queue its BlobCreated event: a worker starts the job, as the Functions app does in Azure.");
            });
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
            config.SetExceptionHandler((exception, _) => CliErrors.Report(exception, typeof(Program).Assembly));
        });
        return app;
    }
}
