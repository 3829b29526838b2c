using System.Globalization;
using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Jobs;

/// <summary>
/// The checks that need the content images' sizes (read from their headers, nothing decoded): each output's aspect
/// ratio and pixels, each style image's pixels at its style scale, and the job's total work, against
/// <see cref="LimitsOptions"/>. The CLI, the multipart starter and ValidateJob run them before any engine work.
/// </summary>
public static class JobSizes
{
    /// <summary>
    /// Checks a valid request against its contents' sizes (one per content, in order) and returns the largest image one
    /// worker optimises, in pixels (what the memory estimate needs: a tiled stage's largest tile); throws <see cref="JobRequestException"/> naming the field.
    /// </summary>
    public static long Check(JobRequest request, IReadOnlyList<(int Width, int Height)> contents, LimitsOptions limits) =>
        Check(request, contents, limits, out _);

    /// <summary>
    /// <see cref="Check(JobRequest, IReadOnlyList{ValueTuple{int, int}}, LimitsOptions)"/>, also giving the largest tiled
    /// stage's pixels (0 when nothing is tiled): a worker that prepares or blends that stage holds it whole.
    /// </summary>
    public static long Check(JobRequest request, IReadOnlyList<(int Width, int Height)> contents, LimitsOptions limits, out long largestTiledStage)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(contents);
        ArgumentNullException.ThrowIfNull(limits);
        if (contents.Count != request.Content.Count)
        {
            throw new ArgumentException($"{contents.Count} sizes for {request.Content.Count} contents.", nameof(contents));
        }

        var stages = Stages.Of(request);
        var heights = stages.Count == 0 ? [(request.Height, request.Iterations)] : stages.Select(s => (s.Height, s.Iterations)).ToList();
        var pairsPerContent = request.StyleMode == StyleMode.Each ? request.Styles.Count : 1;
        var largest = 0L;
        largestTiledStage = 0L;
        var work = 0.0;
        for (var i = 0; i < contents.Count; i++)
        {
            var field = request.Content.Count == 1 ? "content" : $"content[{i}]";
            var (sourceWidth, sourceHeight) = contents[i];
            var aspect = Math.Max((double)sourceWidth / sourceHeight, (double)sourceHeight / sourceWidth);
            if (aspect > limits.MaxAspectRatio)
            {
                throw new JobRequestException(
                    field, $"{request.Content[i]} is {sourceWidth}x{sourceHeight} px, an aspect ratio of {Format(aspect)}:1; allowed: up to {Format(limits.MaxAspectRatio)}:1 (crop it first)");
            }

            for (var k = 0; k < heights.Count; k++)
            {
                var (height, iterations) = heights[k];
                var (h, w) = ImageLoader.SizeForHeight(sourceHeight, sourceWidth, height);
                var pixels = (long)h * w;
                var tiled = Tiling.IsTiled(request, h, w, earlierStage: k < heights.Count - 1);
                var limit = tiled ? limits.MaxTiledOutputPixels : limits.MaxOutputPixels;
                if (pixels > limit)
                {
                    var hint = tiled ? "lower the height" : $"lower the height, or set tile (e.g. 1024) to run it as tiles, up to {limits.MaxTiledOutputPixels} px";
                    throw new JobRequestException(field, $"the output would be {w}x{h} = {pixels} px at height {height}; allowed: up to {limit} px{(tiled ? " with tiles" : "")} ({hint})");
                }

                var stylePixels = pixels * request.StyleScale * request.StyleScale;
                if (stylePixels > limit)
                {
                    throw new JobRequestException(
                        "styleScale", $"{Format(request.StyleScale)} makes the style images {Format(stylePixels)} px for a {w}x{h} output; allowed: up to {limit} px (lower the style scale or the height)");
                }

                // A tiled stage's memory is one tile's with its halo; its work is every tile's pixels, overlaps and halos counted as often as they run.
                var grid = tiled ? Tiling.Optimised(Tiling.Grid(request, h, w), Tiling.Halo, h, w) : null;
                largest = Math.Max(largest, grid?.Max(t => t.Pixels) ?? pixels);
                largestTiledStage = Math.Max(largestTiledStage, tiled ? pixels : 0);
                work += (double)(grid?.Sum(t => t.Pixels) ?? pixels) * iterations * request.EvaluationsPerIteration * pairsPerContent;
            }
        }

        if (work > limits.MaxJobPixelEvaluations)
        {
            throw new JobRequestException(
                "iterations", $"the job asks for {Scientific(work)} pixel-evaluations (output pixels x iterations x evaluations, over every result and stage); allowed: up to {Scientific(limits.MaxJobPixelEvaluations)} (fewer iterations, results or pixels)");
        }

        return largest;
    }

    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Scientific(double value) => value.ToString("0.###e0", CultureInfo.InvariantCulture);
}
