using System.ComponentModel;
using System.Diagnostics;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// Finds the Azurite programs a run starts (today azurite-blob; the list may name azurite-queue and azurite-table too) in
/// the checkout's node_modules, and installs them first from the checkout's package-lock.json with <c>npm ci</c> when
/// they are missing, as scripts/test.sh does, so that the README's first command works on a fresh clone.
/// </summary>
internal static class AzuriteInstall
{
    /// <summary>The folder holding <paramref name="programs"/> (node_modules/.bin of the checkout), installing them if needed.</summary>
    public static async Task<string> FindOrInstallAsync(IReadOnlyList<string> programs, TextWriter notes, CancellationToken cancellationToken = default)
    {
        var root = FindCheckout()
            ?? throw new LocalAzuriteException(
                "no storage given, and no ServerlessStyle checkout (a package.json naming azurite) above the current folder or the program to install Azurite in; " +
                "run it inside the repository, or pass --storage CONNECTION_STRING.");
        var bin = Path.Combine(root, "node_modules", ".bin");
        if (programs.All(program => File.Exists(Path.Combine(bin, program))))
        {
            return bin;
        }

        notes.WriteLine($"storage: installing Azurite from package-lock.json (npm ci in {root}; the first run only, up to a minute)");
        await RequireAsync("node", "Node.js 20 (from nodejs.org or your package manager, e.g. apt-get install nodejs npm)", cancellationToken).ConfigureAwait(false);
        await RequireAsync("npm", "npm, which comes with Node.js 20 (e.g. apt-get install npm)", cancellationToken).ConfigureAwait(false);
        var (code, log) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], root, cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            var last = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
            throw new LocalAzuriteException($"installing Azurite with 'npm ci' in {root} failed (exit {code}): {last}; fix that and run again, or pass --storage CONNECTION_STRING.");
        }

        var missing = programs.Where(program => !File.Exists(Path.Combine(bin, program))).ToList();
        return missing.Count == 0
            ? bin
            : throw new LocalAzuriteException($"'npm ci' in {root} did not install {string.Join(", ", missing)}; does package.json still list azurite?");
    }

    /// <summary>
    /// The checkout to use: the nearest folder above the current one whose package.json names azurite, else the one
    /// above the program itself (so <c>dotnet run</c> from elsewhere and the built dll both find it); null when none.
    /// </summary>
    public static string? FindCheckout()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var package = Path.Combine(folder.FullName, "package.json");
                if (File.Exists(package) && File.ReadAllText(package).Contains("\"azurite\"", StringComparison.Ordinal))
                {
                    return folder.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>Fails with one line naming what to install when <paramref name="program"/> cannot be started.</summary>
    private static async Task RequireAsync(string program, string install, CancellationToken cancellationToken)
    {
        int code;
        try
        {
            (code, _) = await RunAsync(program, ["--version"], Directory.GetCurrentDirectory(), cancellationToken).ConfigureAwait(false);
        }
        catch (Win32Exception)
        {
            code = -1;
        }

        if (code != 0)
        {
            throw new LocalAzuriteException($"Azurite is not installed and {program} was not found: install {install}, or pass --storage CONNECTION_STRING.");
        }
    }

    private static async Task<(int Code, string Log)> RunAsync(string program, string[] arguments, string folder, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new Win32Exception($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output.ConfigureAwait(false) + await error.ConfigureAwait(false));
    }
}
