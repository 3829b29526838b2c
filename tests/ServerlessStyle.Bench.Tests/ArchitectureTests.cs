using ServerlessStyle.Tests.Shared;

namespace ServerlessStyle.Bench.Tests;

/// <summary>
/// The benchmarks reach storage only through Core's storage layer, as every host does, and build on libraries only:
/// no executable (docs/architecture.md).
/// </summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void BlobClients_AreNotUsed() =>
        Assert.Empty(ArchitectureRules.TypesOutsideUsing(typeof(Program).Assembly, "ServerlessStyle.Core.Storage", "Azure.Storage.Blobs"));

    [Fact]
    public void StorageAndEngineServices_ComeOnlyFromAddServerlessStyle() =>
        Assert.Empty(ArchitectureRules.ServicesBuiltByHand(typeof(Program).Assembly));

    [Fact]
    public void ProjectReferences_AreLibrariesOnly()
    {
        // The build's dependency file lists every project the benchmarks reference, used or not (the compiler drops
        // an unused reference from the assembly's own metadata, so that would miss one).
        var deps = Path.Combine(AppContext.BaseDirectory, "serverless-style-bench.deps.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(deps));
        var projects = json.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "project")
            .Select(l => l.Name.Split('/')[0])
            .Where(name => name != "serverless-style-bench")
            .ToList();

        Assert.Contains("ServerlessStyle.Core", projects);
        var executables = projects
            .Where(name =>
            {
                using var module = Mono.Cecil.ModuleDefinition.ReadModule(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
                return module.EntryPoint is not null;
            })
            .ToList();
        Assert.Empty(executables);
    }
}
