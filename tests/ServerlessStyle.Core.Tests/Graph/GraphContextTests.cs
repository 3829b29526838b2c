using ServerlessStyle.Core.Graph;
using static ServerlessStyle.Core.Graph.OnnxProtos;

namespace ServerlessStyle.Core.Tests.Graph;

public sealed class GraphContextTests
{
    [Fact]
    public void DeferredFloats_UnusedByTheGraph_NeverComputed()
    {
        // The Winograd rewrite replaces most flipped input-gradient convs; their weights must not be computed (and
        // copied into initializers) for a graph that no longer uses them.
        var ctx = new GraphContext(ConvInputGradient.FlippedConv);
        var unusedCalls = 0;
        var usedCalls = 0;
        var unused = ctx.DeferredFloats([2], () => { unusedCalls++; return [1f, 2f]; }, "unused");
        var used = ctx.DeferredFloats([2], () => { usedCalls++; return [3f, 4f]; }, "used");
        ctx.Shapes["x"] = [2];
        var sum = ctx.Emit("Add", ["x", used], [2], "sum");

        var graph = ctx.ToGraph("deferred", [FloatValue("x", [2])], [FloatValue(sum, [2])]);

        Assert.True(ctx.IsConstant(unused));
        Assert.Equal(0, unusedCalls);
        Assert.Equal(1, usedCalls);
        Assert.Equal([3f, 4f], ReadFloats(graph.Initializer.Single(t => t.Name == used)));
        Assert.DoesNotContain(graph.Initializer, t => t.Name == unused);
    }

    [Fact]
    public void FedFloats_UsedByTheGraph_BecomeTheLastInputsNotInitializers()
    {
        var ctx = new GraphContext(ConvInputGradient.FlippedConv);
        float[] values = [5f, 6f];
        var fed = ctx.FedFloats([2], values, "fed");
        ctx.FedFloats([2], [7f, 8f], "unused_fed");
        ctx.Shapes["x"] = [2];
        var sum = ctx.Emit("Add", ["x", fed], [2], "sum");

        var graph = ctx.ToGraph("fed", [FloatValue("x", [2])], [FloatValue(sum, [2])]);

        // The evaluator feeds these arrays on every run, so the very array given must be the one handed back.
        Assert.Equal(["x", fed], graph.Input.Select(i => i.Name));
        Assert.Empty(graph.Initializer);
        Assert.Same(values, Assert.Single(ctx.UsedFed()).Values);
    }
}
