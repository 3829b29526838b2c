using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ServerlessStyle.Core.Evaluation;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
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

        var grid = Tiling.Grid(request, content.Height, content.Width);

        var network = await engine.GetNetworkAsync(request, cancellationToken).ConfigureAwait(false);
        var styles = await images.StylesAsync(jobId, pair, content, request.StyleScale, cancellationToken).ConfigureAwait(false);
        var start = await startPoint(content, cancellationToken).ConfigureAwait(false);
        images.KeepWhatPngsNeed(jobId, pair, request);
        var t = 0;
        foreach (var targets in engine.Evaluator.ComputeTileTargets(network, content, styles, grid, Tiling.GramTile(request)))
        {
            await Task.WhenAll(
                Work.WriteTargetsAsync(jobId, BlobLayout.TilePair(pair.PairId, t), targets, cancellationToken),
                Work.WriteImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, 0), Tiles.Crop(start, grid[t]), cancellationToken)).ConfigureAwait(false);
            Work.ForgetTargets(jobId, BlobLayout.TilePair(pair.PairId, t));
            GarbageBudget.Check();
            t++;
        }

        await Task.WhenAll(
            Work.WriteImageAsync(BlobLayout.TiledImage(jobId, pair.PairId, 0), start, cancellationToken),
            storage.Results.StartLossLogAsync(jobId, pair.PairId, cancellationToken)).ConfigureAwait(false);

        // Last: the stage counts as prepared once its grid is stored.
        await Work.WriteTileGridAsync(jobId, pair.PairId, new TileGridDocument(content.Height, content.Width, grid), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Stage {PairId}: {Height}x{Width} as {Tiles} tiles of at most {Tile} px", pair.PairId, content.Height, content.Width, grid.Count, request.Tile);
        return new PairPrepared(pair.PairId, AlreadyPresent: false, grid.Count);
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

        var targets = await Work.ReadTargetsAsync(jobId, tilePair, cancellationToken).ConfigureAwait(false);
        var crop = await Work.TryReadImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, i), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Work.Container}/{BlobLayout.TileStart(jobId, pair.PairId, t, i)} is missing: iteration {i - 1} was not blended.");
        var state = await StartStateAsync(jobId, tilePair, request, i, crop, cancellationToken).ConfigureAwait(false);

        var rows = new LossCsvRows(i, 0);
        var seconds = 0.0;
        var clock = Stopwatch.StartNew();
        var objective = await engine.ObjectiveAsync(request, targets, (terms, s) =>
        {
            rows.Add(terms);
            seconds += s;
        }, cancellationToken).ConfigureAwait(false);
        var result = await cancellation.RunWatchedAsync(
            jobId, () => $"{what} stopped", token => ChunkRunner.RunChunkAsync(state, objective, request.EvaluationsPerIteration, token), cancellationToken).ConfigureAwait(false);
        var count = result.Losses.Count;
        var outcome = new ChunkOutcome(
            i, count, result.State.Loss ?? (count > 0 ? result.Losses[^1] : double.NaN), string.Empty, clock.Elapsed.TotalSeconds,
            count > 0 ? seconds / count : 0, result.State.Converged, Reused: false);
        await Task.WhenAll(
            Work.WriteTextAsync(BlobLayout.TileRows(jobId, pair.PairId, t, i), $"{LossCsv.Header}\n{rows}", cancellationToken),
            Work.WriteImageAsync(BlobLayout.TileEnd(jobId, pair.PairId, t, i), new ImageTensor(crop.Height, crop.Width, result.State.X), cancellationToken),
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
            writes.Add(Task.Run(async () =>
            {
                for (var t = 0; t < grid.Tiles.Count; t++)
                {
                    await Work.WriteImageAsync(BlobLayout.TileStart(jobId, pair.PairId, t, i + 1), Tiles.Crop(image, grid.Tiles[t]), cancellationToken).ConfigureAwait(false);
                    GarbageBudget.Check();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        var result = new ChunkOutcome(
            i, before + evaluations, loss, $"{storage.Results.LogicalContainer}/{png}", clock.Elapsed.TotalSeconds + seconds,
            evaluations > 0 ? seconds / grid.Tiles.Count / evaluations : 0, converged, Reused: false);
        await Work.WriteOutcomeAsync(jobId, pair.PairId, i, result, cancellationToken).ConfigureAwait(false);

        // What no step needs any more: the image before this iteration, the crops it started from and the tiles it blended.
        await Task.WhenAll(grid.Tiles
            .SelectMany((_, t) => new[] { BlobLayout.TileStart(jobId, pair.PairId, t, i), BlobLayout.TileEnd(jobId, pair.PairId, t, i) })
            .Append(BlobLayout.TiledImage(jobId, pair.PairId, i))
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
    /// Where the tile's iteration starts: its own state as it left it when the crop is its last iterate bit for bit
    /// (a single tile, or neighbours that agree); else that state moved to the crop, keeping its L-BFGS memory and
    /// evaluating there first (<see cref="OptimizerState.MoveTo"/>); a fresh state from the crop in the first iteration.
    /// </summary>
    private async Task<OptimizerState> StartStateAsync(string jobId, string tilePair, JobRequest request, int i, ImageTensor crop, CancellationToken cancellationToken)
    {
        var previous = i > 0 ? await Work.Checkpoints.TryTakeAsync(BlobLayout.State(jobId, tilePair, i), crop.Length, cancellationToken).ConfigureAwait(false) : null;
        if (previous is null)
        {
            return OptimizerState.Create(StyleEngine.OptimizerSettings(request), crop.Data);
        }

        if (!MemoryMarshal.AsBytes(previous.X.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(crop.Data.AsSpan())))
        {
            previous.MoveTo(crop.Data);
        }

        return previous;
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
