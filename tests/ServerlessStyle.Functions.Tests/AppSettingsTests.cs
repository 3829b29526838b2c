using System.Text.Json;
using System.Text.RegularExpressions;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// Every app setting the Functions host resolves for a binding (<c>%NAME%</c> in functions.metadata or host.json, and the
/// storage connection a trigger uses) must be set where the app runs: by the Bicep in Azure (infra/main.bicep, compiled at
/// build time into infra/main.json next to these tests) and by local.settings.sample.json under func start. A missing one
/// stops the host from indexing the function, which only shows once deployed.
/// </summary>
public sealed partial class AppSettingsTests
{
    private static readonly string[] StorageBindingTypes = ["blobTrigger", "blob", "queueTrigger", "queue"];

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex SettingReference();

    /// <summary>The settings the bindings need: name and whether it is a connection (then NAME__* settings also satisfy it).</summary>
    private static List<(string Name, bool Connection, string UsedBy)> RequiredSettings()
    {
        var required = new List<(string, bool, string)> { ("AzureWebJobsStorage", true, "the host and the Durable task hub") };
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")));
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            var name = function.GetProperty("name").GetString()!;
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                foreach (var property in binding.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                {
                    required.AddRange(SettingReference().Matches(property.Value.GetString()!).Select(m => (m.Groups[1].Value, false, $"{name}.{property.Name}")));
                }

                if (StorageBindingTypes.Contains(binding.GetProperty("type").GetString()))
                {
                    var connection = binding.TryGetProperty("connection", out var c) && c.GetString() is { Length: > 0 } given ? given : "AzureWebJobsStorage";
                    required.Add((connection, true, $"{name} connection"));
                }
            }
        }

        var host = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json"));
        required.AddRange(SettingReference().Matches(host).Select(m => (m.Groups[1].Value, false, "host.json")));
        return required.Distinct().ToList();
    }

    /// <summary>The container env of the compiled Bicep: every {name, value|secretRef} object in an array called "env".</summary>
    internal static Dictionary<string, string> BicepEnvironment()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "infra", "main.json");
        Assert.True(File.Exists(path), $"{path} is missing: the test project's CompileInfraBicep target compiles infra/main.bicep there.");
        using var template = JsonDocument.Parse(File.ReadAllText(path));
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "env" && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var variable in property.Value.EnumerateArray())
                        {
                            env[variable.GetProperty("name").GetString()!] = variable.TryGetProperty("value", out var value) ? value.ToString() : "(secret)";
                        }
                    }

                    Walk(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }
            }
        }

        Walk(template.RootElement);
        return env;
    }

    private static HashSet<string> SampleSettings()
    {
        var path = RepositoryFiles.Path("local.settings.sample.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
    }

    private static bool IsSet(IReadOnlyCollection<string> names, string setting, bool connection) =>
        names.Contains(setting) || (connection && names.Any(n => n.StartsWith(setting + "__", StringComparison.Ordinal)));

    [Fact]
    public void BindingSettings_EveryOne_IsSetByTheBicepAndTheSampleSettings()
    {
        var required = RequiredSettings();
        var bicep = BicepEnvironment().Keys.ToList();
        var sample = SampleSettings();

        var missing = required
            .Where(r => !IsSet(bicep, r.Name, r.Connection)).Select(r => $"{r.Name} (used by {r.UsedBy}) is not set in infra/ (compiled Bicep)")
            .Concat(required.Where(r => !IsSet(sample, r.Name, r.Connection)).Select(r => $"{r.Name} (used by {r.UsedBy}) is not in local.settings.sample.json"))
            .ToList();

        Assert.Contains(required, r => r.Name == "INBOX_QUEUE");
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public void CompiledBicep_InboxQueue_IsThePrefixedQueueOfTheEventGridSubscription()
    {
        var env = BicepEnvironment();

        Assert.True(env.TryGetValue("INBOX_QUEUE", out var inbox), "bicep build sets no INBOX_QUEUE");
        Assert.Contains("inboxQueueName", inbox);
        Assert.False(env.ContainsKey("INBOX_CONTAINER"), "INBOX_CONTAINER is left from the blob trigger the queue replaced");
    }

    /// <summary>Every nested template of the compiled Bicep (the modules), with the resources it declares.</summary>
    private static List<JsonElement> ModuleTemplates(JsonElement element)
    {
        var found = new List<JsonElement>();
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("resources", out _) && element.TryGetProperty("$schema", out _))
            {
                found.Add(element);
            }

            foreach (var property in element.EnumerateObject())
            {
                found.AddRange(ModuleTemplates(property.Value));
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                found.AddRange(ModuleTemplates(item));
            }
        }

        return found;
    }

    [Fact]
    public void CompiledBicep_ApplicationInsights_TakesOnlyEntraTelemetryFromTheAppIdentity()
    {
        // Monitoring Metrics Publisher, the role Entra-authenticated ingestion needs (it publishes all telemetry).
        const string publisherRole = "3913510d-42f4-4e42-8a64-420c390055eb";
        using var template = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "infra", "main.json")));

        var monitoring = Assert.Single(ModuleTemplates(template.RootElement), t =>
            t.GetProperty("resources").EnumerateArray().Any(r => r.GetProperty("type").GetString() == "Microsoft.Insights/components"));
        var resources = monitoring.GetProperty("resources").EnumerateArray().ToList();
        var component = resources.Single(r => r.GetProperty("type").GetString() == "Microsoft.Insights/components");
        Assert.True(component.GetProperty("properties").GetProperty("DisableLocalAuth").GetBoolean(), "Application Insights accepts key-authenticated telemetry");
        Assert.Contains(resources, r => r.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments");
        Assert.Contains(publisherRole, monitoring.ToString());

        Assert.True(BicepEnvironment().TryGetValue("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", out var authentication), "the app sets no APPLICATIONINSIGHTS_AUTHENTICATION_STRING");
        Assert.Contains("Authorization=AAD;ClientId=", authentication);
        Assert.Contains("identityClientId", authentication);
    }
}
