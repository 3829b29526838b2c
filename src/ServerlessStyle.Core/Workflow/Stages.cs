namespace ServerlessStyle.Core.Workflow;

/// <summary>Where a later coarse-to-fine stage begins: the previous stage's pair id and the checkpoint after its last chunk.</summary>
public sealed record StageStart(string PairId, int Chunk);

/// <summary>One stage of a pair: its output height and iterations.</summary>
public sealed record StagePlan(int Index, int Height, int Iterations);

/// <summary>The coarse-to-fine stages of a request (DESIGN.md leaves them open; see docs/artistic-controls.md).</summary>
public static class Stages
{
    /// <summary>The stages; a request without <see cref="JobRequest.Scales"/> has none (the pair runs as before).</summary>
    public static IReadOnlyList<StagePlan> Of(JobRequest request) =>
        request.Scales is not { } scales
            ? []
            : scales.Select((height, k) => new StagePlan(k, height, request.StageIterations?[k] ?? request.Iterations)).ToArray();

    /// <summary>A stage's blobs live in a folder of the pair: results/{job}/{pair}/stage-{k}-{height}/..., the same under work/.</summary>
    public static string PairId(string pairId, StagePlan stage) => $"{pairId}/stage-{stage.Index}-{stage.Height}";

    /// <summary>The input of one stage: the pair with the stage's id and start, the request with the stage's height and iterations.</summary>
    public static PairInput StageInput(PairInput input, StagePlan stage) => input with
    {
        Pair = input.Pair with { PairId = PairId(input.Pair.PairId, stage), Start = input.StageStart },
        Request = input.Request with { Height = stage.Height, Iterations = stage.Iterations, Scales = null, StageIterations = null },
    };
}
