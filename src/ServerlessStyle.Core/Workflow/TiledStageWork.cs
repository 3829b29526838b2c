using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Optimization;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The work of a tiled stage (docs/contracts.md, "Tiled stages"): PrepareTargets writes each tile's targets and start
/// crop; every iteration runs one <see cref="RunTileAsync"/> per tile, then <see cref="BlendAsync"/> blends them into
/// the iteration's whole image and crops the next iteration's starts. Each tile carries its own L-BFGS state across
/// iterations: unchanged while the crop it gets is its own last iterate bit for bit (always, for a single tile, which
/// therefore runs exactly as an untiled stage), else moved to the crop with its (s, y) memory kept. Every step is
/// idempotent: its done marker (the tile's next state, the stage's outcome) is written last, and a re-run finds it.
/// Like <see cref="StyleWork"/> it runs inside <see cref="StyleWorkStack"/>'s decorators, which refuse a canceled job's
/// work before it starts; its own <see cref="JobCancellation"/> only stops a tile under way.
/// </summary>
public sealed class TiledStageWork(JobStorage storage, InputImages images, StyleEngine engine, JobCancellation cancellation, ILogger logger)
{
    private WorkStore Work => storage.Work;

    /// <summary>Prepares a stage as tiles when the request tiles it; null when the stage runs whole (as chunks).</summary>
    public async Task<PairPrepared?> TryPrepareAsync(
        PairInput input, Func<ImageTensor, CancellationToken, Task<ImageTensor>> startPoint, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request) = (input.JobId, input.Pair, input.Request);
        if (request.Tile <= 0)
        {
            return null;
        }

        if (await Work.TryReadTileGridAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return new PairPrepared(pair.PairId, AlreadyPresent: true, stored.Tiles.Count);
        }

        var content = await images.ContentAsync(jobId, pair, request.Height, cancellationToken).ConfigureAwait(false);
        if (!Tiling.IsTiled(request, content.Height, content.Width, input.EarlierStage))
        {
            return null;
        }

        var grid = new TileGridDocument(content.Height, content.Width, Tiling.Grid(request, content.Height, content.Width), Tiling.Halo);
        grid = grid with { SharedStyle = grid.Tiles.Count > 1 };
        var optimised = grid.Optimised;

        var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        var styles = await images.StylesAsync(jobId, pair, content, request.StyleScale, cancellationToken).ConfigureAwait(false);
        var start = await startPoint(content, cancellationToken).ConfigureAwait(false);
        images.KeepWhatPngsNeed(jobId, pair, request);
        var gramTile = Tiling.GramTile(request);
        var stage = engine.Evaluator.ComputeTileTargets(network, content, styles, optimised, gramTile);
        var t = 0;
        foreach (var targets in stage.Tiles)
        {
            await Task.WhenAll(
                Work.WriteTargetsAsync(jobId, BlobLayout.TilePair(pair.PairId, t), targets, cancellationToken),
                Work.WriteImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, 0), Tiles.Crop(start, optimised[t]), cancellationToken)).ConfigureAwait(false);
            Work.ForgetTargets(jobId, BlobLayout.TilePair(pair.PairId, t));
            GarbageBudget.Check();
            t++;
        }

        var writes = new List<Task>
        {
            Work.WriteImageAsync(BlobLayout.TiledImage(jobId, pair.PairId, 0), start, cancellationToken),
            storage.Results.StartLossLogAsync(jobId, pair.PairId, cancellationToken),
        };
        if (grid.SharedStyle)
        {
            writes.Add(Work.WriteGramsAsync(BlobLayout.TiledStyle(jobId, pair.PairId), network.Name, content.Height, content.Width, stage.StylePerPosition, cancellationToken));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        if (grid.SharedStyle)
        {
            // Alone, after the rest: the pass over the image's pieces builds a session of its own.
            NativeHeap.CollectAndTrim();
            await WriteResidualAsync(jobId, pair.PairId, 0, network, start, stage.StylePerPosition, gramTile, cancellationToken).ConfigureAwait(false);
        }

        // Last: the stage counts as prepared once its grid is stored.
        await Work.WriteTileGridAsync(jobId, pair.PairId, grid, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Stage {PairId}: {Height}x{Width} as {Tiles} tiles of at most {Tile} px", pair.PairId, content.Height, content.Width, grid.Tiles.Count, request.Tile);
        return new PairPrepared(pair.PairId, AlreadyPresent: false, grid.Tiles.Count);
    }

    /// <summary>
    /// Runs one tile's iteration: at most evaluationsPerIteration evaluations from its start crop; writes its loss rows,
    /// its outcome, then its state (the done marker). A re-run after that returns the stored outcome.
    /// </summary>
    public async Task<TileOutcome> RunTileAsync(TileInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request, i, t) = (input.JobId, input.Pair, input.Request, input.Iteration, input.Tile);
        var what = $"tile {t} of iteration {i} of {pair.PairId}";
        var tilePair = BlobLayout.TilePair(pair.PairId, t);
        var checkpoints = new PairCheckpoints(Work, logger);
        if (await checkpoints.TryReadDoneAsync(jobId, tilePair, i, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return new TileOutcome(t, i, stored.Evaluations, stored.Loss, 0, stored.Converged, Reused: true);
        }

        var grid = await GridAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        var targets = await Work.ReadTargetsAsync(jobId, tilePair, cancellationToken).ConfigureAwait(false);
        var crop = await Work.TryReadImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, i), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work.Container}/{BlobLayout.TileStart(jobId, pair.PairId, t, i)} is missing: iteration {i - 1} was not blended.");
        var objectiveChanged = false;
        if (grid.SharedStyle)
        {
            var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
            var residual = await Work.ReadGramsAsync(BlobLayout.TiledResidual(jobId, pair.PairId, i), cancellationToken).ConfigureAwait(false);
            targets = engine.Evaluator.ShareStyleResidual(network, targets, crop, residual);

            // That pass built a session for the crop (the model's bytes, ONNX Runtime's copy of the weights, the
            // activations): its memory goes back before the tile's L-BFGS state and evaluations take theirs, or the
            // two add up in the tile's peak.
            NativeHeap.CollectAndTrim();

            // The objective changes with the residual every iteration, unless no tile moved (a line search longer than an
            // iteration's evaluations): then the same targets come back, and the tile's line search may go on.
            var objectiveHash = ObjectiveHash(targets);
            objectiveChanged = i == 0 || await Work.TryReadTextAsync(BlobLayout.TileObjective(jobId, pair.PairId, t, i - 1), cancellationToken).ConfigureAwait(false) != objectiveHash;
            await Work.WriteTextAsync(BlobLayout.TileObjective(jobId, pair.PairId, t, i), objectiveHash, cancellationToken).ConfigureAwait(false);
        }

        var state = await StartStateAsync(jobId, tilePair, request, i, crop, objectiveChanged, cancellationToken).ConfigureAwait(false);

        var rows = new LossCsvRows(i, 0);
        var run = await RecordedChunk.RunAsync(engine, cancellation, jobId, request, targets, state, rows, () => $"{what} stopped", cancellationToken).ConfigureAwait(false);
        var result = run.Chunk;
        var count = result.Losses.Count;
        var outcome = new ChunkOutcome(
            i, count, result.State.Loss ?? (count > 0 ? result.Losses[^1] : double.NaN), string.Empty, run.Seconds,
            run.SecondsPerEvaluation, result.State.Converged, Reused: false);
        await Task.WhenAll(
            Work.WriteTextAsync(BlobLayout.TileRows(jobId, pair.PairId, t, i), $"{LossCsv.Header}\n{rows}", cancellationToken),
            Work.WriteImageAsync(BlobLayout.TileEnd(jobId, pair.PairId, t, i), Blended(grid, t, new ImageTensor(crop.Height, crop.Width, result.State.X)), cancellationToken),
            Work.WriteOutcomeAsync(jobId, tilePair, i, outcome, cancellationToken)).ConfigureAwait(false);

        // The state (the L-BFGS memory, many times the tile's pixels) is not kept in memory: the tile's next iteration
        // may run anywhere, and a worker runs many tiles.
        var next = BlobLayout.State(jobId, tilePair, i + 1);
        await Work.Checkpoints.WriteAsync(next, result.State, cancellationToken).ConfigureAwait(false);
        Work.Checkpoints.Forget(next);
        if (i > 0)
        {
            await Work.DeleteStateAsync(jobId, tilePair, i - 1, CancellationToken.None).ConfigureAwait(false);
        }

        return new TileOutcome(t, i, count, outcome.Loss, outcome.Seconds, outcome.Converged, Reused: false);
    }

    /// <summary>
    /// Blends iteration i's tiles into the stage's image: writes it raw (the next iteration's start, cropped per tile) and
    /// as res_at_iteration_i.png, the loss rows (each row the sum of the tiles' terms at that evaluation), then the
    /// stage's outcome (the done marker).
    /// </summary>
    public async Task<ChunkOutcome> BlendAsync(ChunkInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair, request, i) = (input.JobId, input.Pair, input.Request, input.Iteration);
        if (await Work.TryReadOutcomeAsync(jobId, pair.PairId, i, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored with { Reused = true, Seconds = 0 };
        }

        var clock = Stopwatch.StartNew();
        var grid = await GridAsync(jobId, pair.PairId, cancellationToken).ConfigureAwait(false);
        var blender = new TileBlender(grid.Height, grid.Width, grid.Tiles);
        var tileRows = new List<IReadOnlyList<LossRow>>();
        var (loss, seconds, evaluations, converged) = (0.0, 0.0, 0, true);
        for (var t = 0; t < grid.Tiles.Count; t++)
        {
            var tilePair = BlobLayout.TilePair(pair.PairId, t);
            var rect = grid.Tiles[t];
            blender.Add(t, await Work.TryReadImageAsync(BlobLayout.TileEnd(jobId, pair.PairId, t, i), cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{Work.Container}/{BlobLayout.TileEnd(jobId, pair.PairId, t, i)} is missing: tile {t} of iteration {i} did not finish."));
            var outcome = await Work.TryReadOutcomeAsync(jobId, tilePair, i, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Tile {t} of iteration {i} of {pair.PairId} has no stored outcome.");
            (loss, seconds, evaluations, converged) = (loss + outcome.Loss, seconds + outcome.Seconds, Math.Max(evaluations, outcome.Evaluations), converged && outcome.Converged);
            tileRows.Add(LossCsv.Parse(await Work.TryReadTextAsync(BlobLayout.TileRows(jobId, pair.PairId, t, i), cancellationToken).ConfigureAwait(false) ?? string.Empty));
            GarbageBudget.Check();
        }

        var before = i == 0 ? 0 : (await Work.TryReadOutcomeAsync(jobId, pair.PairId, i - 1, cancellationToken).ConfigureAwait(false))?.Evaluations ?? 0;
        var rows = new LossCsvRows(i, before);
        foreach (var terms in SumRows(tileRows))
        {
            rows.Add(terms);
        }

        var image = blender.Blend();
        var png = BlobLayout.IterationImage(jobId, pair.PairId, i);
        var writes = new List<Task>
        {
            Work.WriteImageAsync(BlobLayout.TiledImage(jobId, pair.PairId, i + 1), image, cancellationToken),
            Task.Run(async () => await storage.Results.WriteImageAsync(png, await images.ToPngAsync(jobId, pair, request, image, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false), cancellationToken),
            storage.Results.WriteLossRowsAsync(jobId, pair.PairId, i, rows.ToString(), cancellationToken),
        };
        if (i + 1 < request.Iterations)
        {
            // One crop at a time: all at once held every tile's pixels (and their upload buffers) again beside the image.
            var starts = grid.Optimised;
            writes.Add(Task.Run(async () =>
            {
                for (var t = 0; t < starts.Count; t++)
                {
                    await Work.WriteImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, i + 1), Tiles.Crop(image, starts[t]), cancellationToken).ConfigureAwait(false);
                    GarbageBudget.Check();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        if (i + 1 < request.Iterations && grid.SharedStyle)
        {
            // Alone, after the PNG and the crops: the pass over the image's pieces builds a session of its own, and
            // beside the encoder's buffers it was the blend's peak.
            NativeHeap.CollectAndTrim();
            var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
            var style = await Work.ReadGramsAsync(BlobLayout.TiledStyle(jobId, pair.PairId), cancellationToken).ConfigureAwait(false);
            await WriteResidualAsync(jobId, pair.PairId, i + 1, network, image, style, Tiling.GramTile(request), cancellationToken).ConfigureAwait(false);
        }
        var result = new ChunkOutcome(
            i, before + evaluations, loss, $"{storage.Results.LogicalContainer}/{png}", clock.Elapsed.TotalSeconds + seconds,
            evaluations > 0 ? seconds / grid.Tiles.Count / evaluations : 0, converged, Reused: false);
        await Work.WriteOutcomeAsync(jobId, pair.PairId, i, result, cancellationToken).ConfigureAwait(false);

        // What no step needs any more: the image before this iteration, the crops it started from and the tiles it blended.
        await Task.WhenAll(grid.Tiles
            .SelectMany((_, t) => new[] { BlobLayout.TileStart(jobId, pair.PairId, t, i), BlobLayout.TileEnd(jobId, pair.PairId, t, i) })
            .Concat(i > 0 ? grid.Tiles.Select((_, t) => BlobLayout.TileObjective(jobId, pair.PairId, t, i - 1)) : [])
            .Append(BlobLayout.TiledImage(jobId, pair.PairId, i))
            .Append(BlobLayout.TiledResidual(jobId, pair.PairId, i))
            .Select(name => Work.DeleteAsync(name, CancellationToken.None))).ConfigureAwait(false);
        return result;
    }

    /// <summary>Writes final.png from the stage's last blended image.</summary>
    public async Task<PairResult> FinalizeAsync(PairInput input, CancellationToken cancellationToken = default)
    {
        var (jobId, pair) = (input.JobId, input.Pair);
        var image = await Work.TryReadImageAsync(BlobLayout.TiledImage(jobId, pair.PairId, input.NextChunk), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work.Container}/{BlobLayout.TiledImage(jobId, pair.PairId, input.NextChunk)} is missing: the stage's last iteration was not blended.");
        var png = await images.ToPngAsync(jobId, pair, input.Request, image, cancellationToken).ConfigureAwait(false);
        var final = await storage.Results.WriteFinalImageAsync(jobId, pair.PairId, pair.LastStageOf, png, cancellationToken).ConfigureAwait(false);
        images.Forget(jobId, pair);
        return new PairResult(
            pair.PairId, final, $"{storage.Results.LogicalContainer}/{BlobLayout.LossLog(jobId, pair.PairId)}",
            input.NextChunk, input.LastOutcome?.Evaluations ?? 0, input.LastOutcome?.Loss ?? double.NaN);
    }

    /// <summary>
    /// Where the tile's iteration starts: its own state as it left it when the objective is unchanged
    /// (<paramref name="objectiveChanged"/> false) and the crop is its last iterate bit for bit (a
    /// single tile, or neighbours that agree); else that state moved to the crop, keeping its L-BFGS memory and
    /// evaluating there first (<see cref="OptimizerState.MoveTo"/>); a fresh state from the crop in the first iteration.
    /// </summary>
    private async Task<OptimizerState> StartStateAsync(string jobId, string tilePair, JobRequest request, int i, ImageTensor crop, bool objectiveChanged, CancellationToken cancellationToken)
    {
        var previous = i > 0 ? await Work.Checkpoints.TryTakeAsync(BlobLayout.State(jobId, tilePair, i), crop.Length, cancellationToken).ConfigureAwait(false) : null;
        if (previous is null)
        {
            return OptimizerState.Create(StyleEngine.OptimizerSettings(request), crop.Data);
        }

        if (objectiveChanged || !MemoryMarshal.AsBytes(previous.X.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(crop.Data.AsSpan())))
        {
            previous.MoveTo(crop.Data);
        }

        return previous;
    }

    /// <summary>
    /// The stage's style residual per position at <paramref name="image"/>, the stage's image before iteration
    /// <paramref name="iteration"/>: what every tile of that iteration shares (<see cref="StyleEvaluator.ShareStyleResidual"/>).
    /// </summary>
    private Task WriteResidualAsync(
        string jobId, string pairId, int iteration, LossNetwork network, ImageTensor image, IReadOnlyList<float[]> stylePerPosition, int gramTile, CancellationToken cancellationToken)
    {
        var grams = engine.Evaluator.GramsPerPosition(network, image, gramTile);
        for (var l = 0; l < grams.Length; l++)
        {
            for (var k = 0; k < grams[l].Length; k++)
            {
                grams[l][k] = stylePerPosition[l][k] - grams[l][k];
            }
        }

        return Work.WriteGramsAsync(BlobLayout.TiledResidual(jobId, pairId, iteration), network.Name, image.Height, image.Width, grams, cancellationToken);
    }

    private static string ObjectiveHash(StyleTargets targets)
    {
        var hash = new XxHash128();
        foreach (var gram in targets.Grams)
        {
            hash.Append(MemoryMarshal.AsBytes(gram.AsSpan()));
        }

        return Convert.ToHexString(hash.GetCurrentHash());
    }

    /// <summary>Tile <paramref name="t"/>'s blended rectangle of its optimised <paramref name="end"/> (without its halo).</summary>
    private static ImageTensor Blended(TileGridDocument grid, int t, ImageTensor end)
    {
        var (rect, optimised) = (grid.Tiles[t], grid.Optimised[t]);
        return rect == optimised ? end : Tiles.Crop(end, new TileRect(rect.Top - optimised.Top, rect.Left - optimised.Left, rect.Height, rect.Width));
    }

    private async Task<TileGridDocument> GridAsync(string jobId, string pairId, CancellationToken cancellationToken) =>
        await Work.TryReadTileGridAsync(jobId, pairId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work.Container}/{BlobLayout.TileGrid(jobId, pairId)} is missing: PrepareTargets did not run for this stage.");

    /// <summary>
    /// The iteration's loss rows: row n sums every tile's n-th evaluation; a tile that stopped early (converged) counts
    /// with its last row.
    /// </summary>
    private static IEnumerable<LossTerms> SumRows(IReadOnlyList<IReadOnlyList<LossRow>> tiles)
    {
        var count = tiles.Max(r => r.Count);
        for (var n = 0; n < count; n++)
        {
            var (content, style, tv, total) = (0.0, 0.0, 0.0, 0.0);
            foreach (var rows in tiles.Where(r => r.Count > 0))
            {
                var row = rows[Math.Min(n, rows.Count - 1)];
                (content, style, tv, total) = (content + row.Content, style + row.Style, tv + row.Tv, total + row.Loss);
            }

            yield return new LossTerms(total, content, style, tv);
        }
    }
}
