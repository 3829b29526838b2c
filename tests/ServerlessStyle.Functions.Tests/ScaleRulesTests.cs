using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ServerlessStyle.Functions.Tests;

/// <summary>
/// infra/scale-rules.json (the KEDA rules, written once) against host.json (the task hub they watch) and against the
/// compiled Bicep (infra/main.json, built next to these tests), which must expand exactly those rules.
/// </summary>
public sealed partial class ScaleRulesTests
{
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex HubName();

    private static JsonNode Load(params string[] parts) => JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path(parts)))!;

    private static JsonNode CompiledTemplate()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "infra", "main.json");
        Assert.True(File.Exists(path), $"{path} is missing: the test project's CompileInfraBicep target compiles infra/main.bicep there.");
        return JsonNode.Parse(File.ReadAllText(path))!;
    }

    /// <summary>The queue names the rules watch, expanded as infra/app/function-app.bicep does: {hub} and {partition} 00..N-1.</summary>
    private static List<string> ExpandQueues(JsonNode rules, string hub, int partitionCount) =>
        [.. rules["queues"]!.AsArray().SelectMany(rule =>
        {
            var queue = rule!["queue"]!.GetValue<string>().Replace("{hub}", hub.ToLowerInvariant(), StringComparison.Ordinal);
            return rule["forEachPartition"]?.GetValue<bool>() == true
                ? Enumerable.Range(0, partitionCount).Select(p => queue.Replace("{partition}", p.ToString("00"), StringComparison.Ordinal))
                : [queue];
        })];

    /// <summary>Where the rules and host.json disagree; empty when the rules watch the hub's real queues as host.json configures them.</summary>
    private static List<string> Disagreements(JsonNode host, JsonNode rules)
    {
        var found = new List<string>();
        var durable = host["extensions"]?["durableTask"];
        var hub = durable?["hubName"]?.GetValue<string>() ?? "";
        if (!HubName().IsMatch(hub))
        {
            found.Add($"host.json extensions.durableTask.hubName is '{hub}': the rules need the hub pinned there, 3 to 45 letters and digits (not an app setting)");
        }

        var partitions = durable?["storageProvider"]?["partitionCount"]?.GetValue<int>() ?? 0;
        if (partitions is < 1 or > 16)
        {
            found.Add($"host.json extensions.durableTask.storageProvider.partitionCount is {partitions}: pin it (1 to 16); the rules watch one control queue per partition");
        }

        var activities = durable?["maxConcurrentActivityFunctions"]?.GetValue<int>() ?? 0;
        var workItems = rules["queues"]!.AsArray().SingleOrDefault(r => r!["name"]!.GetValue<string>() == "workitems");
        var queueLength = workItems?["queueLength"]?.GetValue<int>() ?? 0;
        if (activities != queueLength)
        {
            found.Add($"the workitems rule's queueLength is {queueLength} but host.json maxConcurrentActivityFunctions is {activities}: one replica per {activities} running chunk(s) needs queueLength {activities}");
        }

        if (workItems?["queueLengthStrategy"]?.GetValue<string>() != "all")
        {
            found.Add("the workitems rule must count invisible messages (queueLengthStrategy all): a running chunk's message is invisible, and without it KEDA scales its replica in");
        }

        // The queues DurableTask.AzureStorage creates for that hub: {hub}-workitems and {hub}-control-00..NN, lower-cased.
        var expected = Enumerable.Range(0, Math.Max(partitions, 0)).Select(p => $"{hub.ToLowerInvariant()}-control-{p:00}").Append($"{hub.ToLowerInvariant()}-workitems").Order().ToList();
        var watched = ExpandQueues(rules, hub, partitions).Where(q => q.StartsWith(hub.ToLowerInvariant() + "-", StringComparison.Ordinal)).Order().ToList();
        if (!expected.SequenceEqual(watched))
        {
            found.Add($"the rules watch [{string.Join(", ", watched)}] but the hub's queues are [{string.Join(", ", expected)}]");
        }

        return found;
    }

    [Fact]
    public void ScaleRules_AgreeWithHostJson_HubPartitionsAndActivitiesPerReplica()
    {
        var problems = Disagreements(Load("host.json"), Load("infra", "scale-rules.json"));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [InlineData("hubName", "\"%TASKHUB_NAME%\"", "hubName is '%TASKHUB_NAME%'")]
    [InlineData("storageProvider", "{}", "partitionCount is 0")]
    [InlineData("maxConcurrentActivityFunctions", "2", "queueLength is 1 but host.json maxConcurrentActivityFunctions is 2")]
    public void Disagreements_AHostJsonThatDiffers_IsFound(string field, string value, string named)
    {
        var host = Load("host.json");
        host["extensions"]!["durableTask"]![field] = JsonNode.Parse(value);

        Assert.Contains(Disagreements(host, Load("infra", "scale-rules.json")), p => p.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void Disagreements_RulesThatMissAControlQueue_AreFound()
    {
        var rules = Load("infra", "scale-rules.json");
        rules["queues"]!.AsArray().Single(r => r!["forEachPartition"] is not null)!["forEachPartition"] = false;

        Assert.Contains(Disagreements(Load("host.json"), rules), p => p.Contains("-control-01", StringComparison.Ordinal));
    }

    /// <summary>Every object in <paramref name="node"/>, depth first.</summary>
    private static IEnumerable<JsonObject> Objects(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            yield return obj;
            foreach (var child in obj.SelectMany(p => Objects(p.Value)))
            {
                yield return child;
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array.SelectMany(Objects))
            {
                yield return child;
            }
        }
    }

    private static JsonObject Resource(JsonNode template, string type) =>
        Assert.Single(Objects(template), o => o["type"] is JsonValue t && t.ToString() == type && o["properties"] is not null);

    [Fact]
    public void CompiledBicep_InlinesHostJsonAndTheRulesFile_SoTheRulesWatchHostJsonsHub()
    {
        var template = CompiledTemplate();
        var variables = Objects(template).Where(o => o["variables"] is JsonObject).Select(o => o["variables"]!.AsObject()).ToList();
        var durable = Load("host.json")["extensions"]!["durableTask"]!;
        var rules = Load("infra", "scale-rules.json");

        // loadJsonContent puts the files' content into the template at build time: this main.json was built from them.
        Assert.Contains(variables.SelectMany(v => v), v => JsonNode.DeepEquals(v.Value, durable));
        Assert.Contains(variables.SelectMany(v => v), v => JsonNode.DeepEquals(v.Value, rules));
        var app = variables.Single(v => v.ContainsKey("queueRules"));
        Assert.Contains("hostDurable').hubName", app["hub"]!.ToString());
        Assert.Contains("hostDurable').storageProvider.partitionCount", app["partitionCount"]!.ToString());
    }

    [Fact]
    public void CompiledBicep_ScalesFromZeroToEight_OnQueueRulesWithTheAppIdentity_HttpAndARetentionWindow()
    {
        var template = CompiledTemplate();
        var main = template["parameters"]!;
        Assert.Equal(0, main["minReplicas"]!["defaultValue"]!.GetValue<int>());
        Assert.Equal(8, main["maxReplicas"]!["defaultValue"]!.GetValue<int>());

        var app = Resource(template, "Microsoft.App/containerApps");
        Assert.Equal("2026-03-02-preview", app["apiVersion"]!.GetValue<string>());
        var scale = app["properties"]!["template"]!["scale"]!;
        Assert.True(scale["allowScalingRuleOverride"]!.GetValue<bool>());
        Assert.Equal("[variables('scaleRuleList')]", scale["rules"]!.GetValue<string>());

        var variables = Objects(template).Select(o => o["variables"]).OfType<JsonObject>().Single(v => v.ContainsKey("queueRules"));
        var rulesExpression = variables["scaleRuleList"]!.GetValue<string>();
        Assert.Contains("variables('queueRules')", rulesExpression);
        Assert.Contains("variables('httpRule')", rulesExpression);
        Assert.Contains("variables('retentionRule')", rulesExpression);
        var queueRules = variables["queueRules"]!.GetValue<string>();
        Assert.Contains("'type', 'azure-queue'", queueRules);
        Assert.Contains("'identity', parameters('identityId')", queueRules);
        Assert.Contains("'accountName', parameters('storageAccountName')", queueRules);
        Assert.Contains("'queueLengthStrategy'", queueRules);
        // The cron window comes from the rules file too: its name, timezone, replicas and lead before the schedule.
        var retention = variables["retentionRule"]!;
        Assert.Contains("variables('scaleRules').retention.name", retention["name"]!.ToString());
        Assert.Equal("cron", retention["custom"]!["type"]!.GetValue<string>());
        Assert.Contains("variables('scaleRules').retention.timezone", retention["custom"]!["metadata"]!["timezone"]!.ToString());
        Assert.Contains("variables('scaleRules').retention.desiredReplicas", retention["custom"]!["metadata"]!["desiredReplicas"]!.ToString());
        Assert.Contains("variables('scaleRules').retention.leadMinutes", variables["retentionStartMinute"]!.ToString());
    }

    [Fact]
    public void CompiledBicep_EventGridSystemTopic_DeliversInboxBlobCreatedToTheQueueWithItsOwnIdentity()
    {
        var template = CompiledTemplate();

        var topic = Resource(template, "Microsoft.EventGrid/systemTopics");
        Assert.Equal("SystemAssigned", topic["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("Microsoft.Storage.StorageAccounts", topic["properties"]!["topicType"]!.GetValue<string>());

        var subscription = Resource(template, "Microsoft.EventGrid/systemTopics/eventSubscriptions")["properties"]!;
        var delivery = subscription["deliveryWithResourceIdentity"]!;
        Assert.Equal("SystemAssigned", delivery["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("StorageQueue", delivery["destination"]!["endpointType"]!.GetValue<string>());
        Assert.Contains("inboxQueueName", delivery["destination"]!["properties"]!["queueName"]!.ToString());
        Assert.Equal(["Microsoft.Storage.BlobCreated"], subscription["filter"]!["includedEventTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        var subject = subscription["filter"]!["subjectBeginsWith"]!.GetValue<string>();
        Assert.Contains("/blobServices/default/containers/", subject);
        Assert.Contains("containerPrefix", subject);
        Assert.Contains("inbox", subject);

        // Storage Queue Data Message Sender, given to the topic's identity in the template itself.
        var assignment = Assert.Single(Objects(template), o => o["type"]?.ToString() == "Microsoft.Authorization/roleAssignments"
            && o["properties"]?["principalId"]?.ToString().Contains("systemTopics", StringComparison.Ordinal) == true);
        Assert.Contains("variables('queueMessageSender')", assignment["properties"]!["roleDefinitionId"]!.ToString());
        Assert.Contains(Objects(template), o => o["variables"]?["queueMessageSender"]?.ToString() == "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a");
        // A firewalled (private) account lets Event Grid in only as a trusted service.
        Assert.Equal("AzureServices", Resource(template, "Microsoft.Storage/storageAccounts")["properties"]!["networkAcls"]!["bypass"]!.GetValue<string>());
    }

    private const string IdentityId = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-example";

    /// <summary>
    /// The rules infra/app/function-app.bicep gives the app, as Bicep itself evaluates them: its variable block from
    /// <c>hostDurable</c> to <c>scaleRuleList</c>, fed to <c>bicep console</c> (the CLI version of Directory.Build.props)
    /// with stand-ins for the module's parameters.
    /// </summary>
    private static async Task<JsonArray> EvaluatedRulesAsync(
        string containerPrefix, string taskHubName, string retentionSchedule, int retentionWakeMinutes, Action<JsonNode>? editRules = null)
    {
        var module = await File.ReadAllLinesAsync(RepositoryFiles.Path("infra", "app", "function-app.bicep"));
        var first = Array.FindIndex(module, l => l.StartsWith("var hostDurable ", StringComparison.Ordinal));
        var last = Array.FindIndex(module, l => l.StartsWith("var scaleRuleList ", StringComparison.Ordinal));
        Assert.True(first >= 0 && last > first, "function-app.bicep no longer has the block var hostDurable ... var scaleRuleList");
        var input = new List<string>
        {
            "var storageAccountName = 'stexample'",
            $"var identityId = '{IdentityId}'",
            $"var containerPrefix = '{containerPrefix}'",
            $"var taskHubName = '{taskHubName}'",
            $"var retentionSchedule = '{retentionSchedule}'",
            $"var retentionWakeMinutes = {retentionWakeMinutes}",
        };
        input.AddRange(module[first..(last + 1)].Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
        input.Add("string(scaleRuleList)");

        var cli = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "infra", "bicep-cli.txt"))).Trim();
        // loadJsonContent resolves its paths from the working folder, as from the module's own. Edited rules go into a
        // copy of the repository's layout (host.json, infra/scale-rules.json, infra/app/).
        var folder = RepositoryFiles.Path("infra", "app");
        var copy = editRules is null ? null : Directory.CreateTempSubdirectory("scale-rules-");
        if (copy is not null)
        {
            folder = Directory.CreateDirectory(Path.Combine(copy.FullName, "infra", "app")).FullName;
            File.Copy(RepositoryFiles.Path("host.json"), Path.Combine(copy.FullName, "host.json"));
            var rules = Load("infra", "scale-rules.json");
            editRules!(rules);
            await File.WriteAllTextAsync(Path.Combine(copy.FullName, "infra", "scale-rules.json"), rules.ToJsonString());
        }

        var start = new System.Diagnostics.ProcessStartInfo(cli, "console")
        {
            WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var console = System.Diagnostics.Process.Start(start)!;
        var output = console.StandardOutput.ReadToEndAsync();
        var error = console.StandardError.ReadToEndAsync();
        await console.StandardInput.WriteAsync(string.Join('\n', input) + "\n");
        console.StandardInput.Close();
        await console.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        copy?.Delete(recursive: true);

        // The last line is the JSON as a Bicep string literal: '...', with ' and \ escaped.
        var literal = (await output).Trim().Split('\n')[^1].Trim();
        Assert.True(literal.StartsWith('\'') && literal.EndsWith('\''), $"bicep console printed no string: {await output} {await error}");
        return JsonNode.Parse(literal[1..^1].Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal))!.AsArray();
    }

    [Fact]
    public async Task BicepExpansion_GivesOneIdentityQueueRulePerHubQueueAndTheInbox_HttpAndTheRetentionWindow()
    {
        var rules = await EvaluatedRulesAsync("dev-", "", "0 30 3 * * *", 10);

        Assert.Equal(["workitems", "control-00", "control-01", "control-02", "control-03", "inbox", "http", "retention"], rules.Select(r => r!["name"]!.GetValue<string>()));
        var queues = rules.Where(r => r!["custom"]?["type"]?.GetValue<string>() == "azure-queue").Select(r => r!["custom"]!).ToList();
        Assert.Equal(
            ["serverlessstyle-workitems", "serverlessstyle-control-00", "serverlessstyle-control-01", "serverlessstyle-control-02", "serverlessstyle-control-03", "dev-inbox-events"],
            queues.Select(q => q["metadata"]!["queueName"]!.GetValue<string>()));
        Assert.All(queues, q =>
        {
            Assert.Equal(IdentityId, q["identity"]!.GetValue<string>());
            Assert.Equal("stexample", q["metadata"]!["accountName"]!.GetValue<string>());
        });
        Assert.Equal(("1", "all"), (queues[0]["metadata"]!["queueLength"]!.GetValue<string>(), queues[0]["metadata"]!["queueLengthStrategy"]!.GetValue<string>()));
        Assert.Equal("20", rules[6]!["http"]!["metadata"]!["concurrentRequests"]!.GetValue<string>());
        var cron = rules[7]!["custom"]!["metadata"]!;
        Assert.Equal(("25 3 * * *", "40 3 * * *", "1", "Etc/UTC"), (cron["start"]!.GetValue<string>(), cron["end"]!.GetValue<string>(), cron["desiredReplicas"]!.GetValue<string>(), cron["timezone"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BicepExpansion_RetentionEntryOfTheRulesFile_DecidesTheCronWindow()
    {
        var rules = await EvaluatedRulesAsync("", "", "0 30 3 * * *", 10, r =>
        {
            r["retention"]!["name"] = "nightly";
            r["retention"]!["leadMinutes"] = 15;
            r["retention"]!["desiredReplicas"] = 2;
        });

        var window = rules.Single(r => r!["custom"]?["type"]?.GetValue<string>() == "cron")!;
        var cron = window["custom"]!["metadata"]!;
        Assert.Equal(("nightly", "15 3 * * *", "40 3 * * *", "2"), (window["name"]!.GetValue<string>(), cron["start"]!.GetValue<string>(), cron["end"]!.GetValue<string>(), cron["desiredReplicas"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("0 2 0 * * *", 10, "57 23 * * *", "12 0 * * *")]
    [InlineData("0 55 23 * * *", 30, "50 23 * * *", "25 0 * * *")]
    public async Task BicepExpansion_RetentionWindowAroundMidnight_WrapsTheClock(string schedule, int wakeMinutes, string start, string end)
    {
        var cron = (await EvaluatedRulesAsync("", "", schedule, wakeMinutes)).Single(r => r!["name"]!.GetValue<string>() == "retention")!["custom"]!["metadata"]!;

        Assert.Equal((start, end), (cron["start"]!.GetValue<string>(), cron["end"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BicepExpansion_AnotherTaskHub_IsWatchedLowerCased()
    {
        var rules = await EvaluatedRulesAsync("", "OtherHub", "0 30 3 * * *", 10);

        Assert.Contains(rules, r => r!["custom"]?["metadata"]?["queueName"]?.GetValue<string>() == "otherhub-workitems");
        Assert.Contains(rules, r => r!["custom"]?["metadata"]?["queueName"]?.GetValue<string>() == "otherhub-control-03");
    }
}
