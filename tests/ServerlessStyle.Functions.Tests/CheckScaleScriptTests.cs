using System.Diagnostics;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// scripts/check-scale.sh, azd's hook after provision and deploy, run for real with a stand-in for the Azure CLI that
/// answers as Container Apps would: the app's scale settings as read back, and a PATCH that may or may not take.
/// </summary>
public sealed class CheckScaleScriptTests : IDisposable
{
    private const string Rules = "workitems control-00 control-01 control-02 control-03 inbox http retention";

    private readonly string _folder = Directory.CreateTempSubdirectory("serverless-style-check-scale-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Calls => Path.Combine(_folder, "calls.txt");

    /// <summary>
    /// A stand-in `az` that records each call. GET answers minReplicas 0, maxReplicas 8, the override as the file
    /// <c>override</c> holds it (empty: the property is absent) and the rule names given; PATCH writes true there when
    /// <paramref name="patchTakes"/>.
    /// </summary>
    private string StandInCli(string overrideValue, string ruleNames, bool patchTakes)
    {
        var state = Path.Combine(_folder, "override");
        File.WriteAllText(state, overrideValue);
        var stub = Path.Combine(_folder, "az.sh");
        File.WriteAllText(stub, $$"""
            echo "$*" >> '{{Calls}}'
            case "$*" in
              *"--method patch"*) {{(patchTakes ? $"echo true > '{state}'" : ":")}} ;;
              *"rules[].name"*) for r in {{ruleNames}}; do echo "$r"; done ;;
              *minReplicas*) printf '0\t8\t%s\n' "$(cat '{{state}}')" ;;
            esac
            """);
        return $"sh {stub}";
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string az, bool withOutputs = true)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(RepositoryFiles.Path("scripts", "check-scale.sh"));
        start.Environment["SERVERLESS_STYLE_AZ"] = az;
        start.Environment["AZURE_SUBSCRIPTION_ID"] = "00000000-0000-0000-0000-000000000000";
        start.Environment["AZURE_RESOURCE_GROUP"] = "rg-example";
        start.Environment["AZURE_FUNCTION_APP_NAME"] = "func-example";
        start.Environment["SERVERLESS_STYLE_MIN_REPLICAS"] = "0";
        start.Environment["SERVERLESS_STYLE_MAX_REPLICAS"] = "8";
        if (withOutputs)
        {
            start.Environment["SERVERLESS_STYLE_SCALE_RULES"] = Rules;
        }

        using var hook = Process.Start(start)!;
        var output = hook.StandardOutput.ReadToEndAsync();
        var error = hook.StandardError.ReadToEndAsync();
        await hook.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return (hook.ExitCode, await output, await error);
    }

    private string[] Asked() => File.Exists(Calls) ? File.ReadAllLines(Calls) : [];

    [Theory]
    [InlineData("true")]
    [InlineData("True")]
    public async Task Deployed_SettingsReadBack_PassesWithoutChangingAnything(string overrideValue)
    {
        var (code, output, error) = await RunAsync(StandInCli(overrideValue, Rules, patchTakes: true));

        Assert.Equal(0, code);
        Assert.Contains("func-example scales as deployed (min=0 max=8 override=true rules=", output);
        Assert.Equal("", error);
        Assert.All(Asked(), call => Assert.Contains("--method get --url /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-example/providers/Microsoft.App/containerApps/func-example?api-version=2026-03-02-preview", call));
    }

    [Fact]
    public async Task OverrideReset_IsSetAgainWithAPatch_ThenPasses()
    {
        var (code, output, error) = await RunAsync(StandInCli("", Rules, patchTakes: true));

        Assert.Equal(0, code);
        Assert.Contains("override=none", error);
        Assert.Contains("after setting allowScalingRuleOverride again", output);
        var patch = Assert.Single(Asked(), c => c.Contains("--method patch", StringComparison.Ordinal));
        Assert.Contains("{\"properties\":{\"template\":{\"scale\":{\"allowScalingRuleOverride\":true}}}}", patch);
    }

    [Fact]
    public async Task OverrideThatDoesNotTake_FailsLoudlyWithOneErrorLine()
    {
        var (code, _, error) = await RunAsync(StandInCli("false", Rules, patchTakes: false));

        Assert.Equal(1, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("override=false", line);
        Assert.Contains("also after setting allowScalingRuleOverride again", line);
        Assert.Contains("docs/deploy.md, \"After azd up\"", line);
    }

    [Fact]
    public async Task RulesThatDiffer_FailLoudly()
    {
        var (code, _, error) = await RunAsync(StandInCli("true", "workitems control-00 inbox http retention", patchTakes: true));

        Assert.Equal(1, code);
        Assert.Contains("rules=control-00 http inbox retention workitems", error);
        Assert.Contains("expected", error);
    }

    [Fact]
    public async Task WithoutTheBicepOutputs_FailsNamingTheMissingVariable()
    {
        var (code, _, error) = await RunAsync(StandInCli("true", Rules, patchTakes: true), withOutputs: false);

        Assert.Equal(1, code);
        Assert.Contains("SERVERLESS_STYLE_SCALE_RULES is not set", error);
        Assert.Empty(Asked());
    }
}
