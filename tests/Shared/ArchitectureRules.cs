using System.Reflection;
using Mono.Cecil;
using Mono.Cecil.Cil;
using NetArchTest.Rules;

namespace ServerlessStyle.Tests.Shared;

/// <summary>
/// The layering of docs/architecture.md, read from the built assemblies: which namespaces a namespace may use, and
/// which method calls count as writing to storage. Each rule returns the offending types (empty when it holds), so a
/// test can show exactly what broke it.
/// </summary>
internal static class ArchitectureRules
{
    /// <summary>Method name prefixes that change stored data (blobs, files), on the storage layer, the Azure SDK or System.IO.</summary>
    private static readonly string[] WriteVerbs = ["Upload", "Write", "Delete", "Commit", "Stage", "Update", "Replace", "Create", "Put", "Append", "Set", "Move", "Copy"];

    private static readonly string[] StorageNamespaces = ["ServerlessStyle.Core.Storage", "Azure.", "System.IO"];

    /// <summary>Types in <paramref name="namespace"/> (and below) of <paramref name="assembly"/> that use any of <paramref name="forbidden"/>.</summary>
    public static IReadOnlyList<string> TypesUsing(Assembly assembly, string @namespace, params string[] forbidden)
    {
        var result = Types.InAssembly(assembly).That().ResideInNamespace(@namespace).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        return result.IsSuccessful ? [] : [.. result.FailingTypeNames ?? []];
    }

    /// <summary>Types of <paramref name="assembly"/> outside <paramref name="allowed"/> that use any of <paramref name="forbidden"/>.</summary>
    public static IReadOnlyList<string> TypesOutsideUsing(Assembly assembly, string allowed, params string[] forbidden)
    {
        var result = Types.InAssembly(assembly).That().DoNotResideInNamespace(allowed).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        return result.IsSuccessful ? [] : [.. result.FailingTypeNames ?? []];
    }

    /// <summary>
    /// "Type.Method calls Callee" for every call, in the types of <paramref name="namespace"/> (compiler-generated state
    /// machines and closures included), to a method that writes: a write verb on a storage, Azure or System.IO type.
    /// </summary>
    public static IReadOnlyList<string> WritesIn(Assembly assembly, string @namespace)
    {
        using var module = ModuleDefinition.ReadModule(assembly.Location);
        var writes = new List<string>();
        foreach (var type in module.GetTypes().Where(t => OuterMost(t).Namespace.StartsWith(@namespace, StringComparison.Ordinal)))
        {
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.OpCode.Code is Code.Call or Code.Callvirt or Code.Newobj && instruction.Operand is MethodReference callee
                        && StorageNamespaces.Any(n => callee.DeclaringType.Namespace.StartsWith(n, StringComparison.Ordinal))
                        && WriteVerbs.Any(v => callee.Name.StartsWith(v, StringComparison.Ordinal)))
                    {
                        writes.Add($"{type.FullName}.{method.Name} calls {callee.DeclaringType.FullName}.{callee.Name}");
                    }
                }
            }
        }

        return writes;
    }

    /// <summary>The services only <c>AddServerlessStyle</c> builds: a host that needs one takes it from DI.</summary>
    public static readonly string[] ComposedServices =
    [
        "ServerlessStyle.Core.Storage.BlobStore", "ServerlessStyle.Core.Storage.JobStorage", "ServerlessStyle.Core.Storage.JobDocumentStore",
        "ServerlessStyle.Core.Storage.InputStore", "ServerlessStyle.Core.Storage.WorkStore", "ServerlessStyle.Core.Storage.ResultStore",
        "ServerlessStyle.Core.Storage.ModelContainer", "ServerlessStyle.Core.Workflow.NetworkResolver", "ServerlessStyle.Core.Workflow.StyleEngine",
    ];

    /// <summary>
    /// "Type.Method builds Service" for every constructor call of a <see cref="ComposedServices"/> type in
    /// <paramref name="assembly"/>, and every static factory that returns one (<c>BlobStore.FromConnectionString</c>).
    /// </summary>
    public static IReadOnlyList<string> ServicesBuiltByHand(Assembly assembly)
    {
        using var module = ModuleDefinition.ReadModule(assembly.Location);
        var built = new List<string>();
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.Operand is MethodReference callee
                        && ((instruction.OpCode.Code == Code.Newobj && ComposedServices.Contains(callee.DeclaringType.FullName))
                            || (instruction.OpCode.Code == Code.Call && !callee.HasThis && ComposedServices.Contains(callee.ReturnType.FullName))))
                    {
                        built.Add($"{type.FullName}.{method.Name} builds {callee.DeclaringType.FullName} ({callee.Name})");
                    }
                }
            }
        }

        return built;
    }

    private static TypeDefinition OuterMost(TypeDefinition type) => type.DeclaringType is null ? type : OuterMost(type.DeclaringType);
}
