using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Imaging;
using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>Where the bytes of an input image come from: a blob the request names (tests wrap it to count downloads).</summary>
public interface IInputImageSource
{
    /// <summary>The blob's bytes; throws <see cref="InputBlobException"/> when it is missing or over <paramref name="maxBytes"/>.</summary>
    Task<byte[]> DownloadAsync(string blob, long maxBytes, CancellationToken cancellationToken = default);
}

/// <summary>The inputs in the storage account (<see cref="InputStore"/>).</summary>
public sealed class StorageInputImageSource(JobStorage storage) : IInputImageSource
{
    public Task<byte[]> DownloadAsync(string blob, long maxBytes, CancellationToken cancellationToken = default) =>
        storage.Inputs.ReadAsync(blob, maxBytes, cancellationToken);
}

/// <summary>
/// The input images of the pairs this process works on: each input is downloaded once per pair and kept, with the
/// content decoded at the output size, for the pair's later activities (a chunk that preserves colours needs the
/// content at every iteration, for its PNG). Bad input becomes a <see cref="JobRequestException"/> that names the field.
/// </summary>
public sealed class InputImages(IInputImageSource source, IOptions<LimitsOptions> limits)
{
    private readonly ConcurrentDictionary<string, PairImages> _pairs = new(StringComparer.Ordinal);

    private ImageLimits Limits => limits.Value.InputImageLimits;

    /// <summary>Checks that an input exists and decodes within the limits (validation: nothing is kept); returns its size.</summary>
    public async Task<(int Width, int Height)> CheckAsync(string blob, string field, CancellationToken cancellationToken = default)
    {
        var bytes = await DownloadAsync(blob, field, cancellationToken).ConfigureAwait(false);
        return Decode(blob, field, () =>
        {
            using var image = ImageLoader.Decode(bytes, Limits);
            return (image.Width, image.Height);
        });
    }

    /// <summary>
    /// Checks every input of a request (contents, styles, an init image) exists and decodes within the limits; returns
    /// the contents' sizes, in order.
    /// </summary>
    public async Task<IReadOnlyList<(int Width, int Height)>> CheckRequestAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sizes = new List<(int Width, int Height)>();
        for (var i = 0; i < request.Content.Count; i++)
        {
            sizes.Add(await CheckAsync(request.Content[i], request.Content.Count == 1 ? "content" : $"content[{i}]", cancellationToken).ConfigureAwait(false));
        }

        for (var i = 0; i < request.Styles.Count; i++)
        {
            await CheckAsync(request.Styles[i].Blob, $"styles[{i}].blob", cancellationToken).ConfigureAwait(false);
        }

        if (request.Init is not (InitChoices.Content or InitChoices.Noise or InitChoices.Style))
        {
            await CheckAsync(request.Init, "init", cancellationToken).ConfigureAwait(false);
        }

        return sizes;
    }

    /// <summary>The pair's content at <paramref name="height"/>, width by the aspect ratio (the output size).</summary>
    public async Task<ImageTensor> ContentAsync(string jobId, PairPlan pair, int height, CancellationToken cancellationToken = default)
    {
        var images = Of(jobId, pair);
        var key = (pair.Content, height);
        if (images.Content.TryGetValue(key, out var content))
        {
            return content;
        }

        var bytes = await BytesAsync(images, pair.Content, "content", cancellationToken).ConfigureAwait(false);
        content = Decode(pair.Content, "content", () => ImageLoader.LoadToHeight(bytes, height, Limits));
        images.Content[key] = content;
        return content;
    }

    /// <summary>
    /// The pair's style images with their weights, at the size the loss wants: Keras resizes the style image to exactly
    /// the output size before taking its Grams; styleScale resizes it relative to that size (ComputeTargets rescales a
    /// Gram of another size by the ratio of positions). The size is the output's times the scale, rounded, at least 1 px.
    /// </summary>
    public async Task<List<(ImageTensor Image, double Weight)>> StylesAsync(
        string jobId, PairPlan pair, ImageTensor content, double styleScale, CancellationToken cancellationToken = default)
    {
        var height = Math.Max(1, (int)Math.Round(content.Height * styleScale, MidpointRounding.AwayFromZero));
        var width = Math.Max(1, (int)Math.Round(content.Width * styleScale, MidpointRounding.AwayFromZero));
        var styles = new List<(ImageTensor Image, double Weight)>();
        foreach (var style in pair.Styles)
        {
            styles.Add((await ExactAsync(jobId, pair, style.Blob, "styles", height, width, cancellationToken).ConfigureAwait(false), style.Weight));
        }

        return styles;
    }

    /// <summary>An input of the pair (a style, a start image) resized to exactly <paramref name="height"/> x <paramref name="width"/>.</summary>
    public async Task<ImageTensor> ExactAsync(
        string jobId, PairPlan pair, string blob, string field, int height, int width, CancellationToken cancellationToken = default)
    {
        var bytes = await BytesAsync(Of(jobId, pair), blob, field, cancellationToken).ConfigureAwait(false);
        return Decode(blob, field, () => ImageLoader.LoadExact(bytes, height, width, Limits));
    }

    /// <summary>
    /// The optimiser's first point at the content's size, as the request's init says: the content (Keras), uniform noise
    /// from the seed, the pair's heaviest style (the first on ties) or an image blob, both resized to exactly that size.
    /// </summary>
    public async Task<ImageTensor> InitAsync(string jobId, JobRequest request, PairPlan pair, ImageTensor content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(content);
        return request.Init switch
        {
            InitChoices.Content => content,
            InitChoices.Noise => StartPoints.Noise(content.Height, content.Width, request.Seed),
            InitChoices.Style => await ExactAsync(
                jobId, pair, pair.Styles.First(s => s.Weight == pair.Styles.Max(t => t.Weight)).Blob, "styles", content.Height, content.Width, cancellationToken).ConfigureAwait(false),
            _ => await ExactAsync(jobId, pair, request.Init, "init", content.Height, content.Width, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// An output image as PNG, with its preview: the state as it is, or with the content's colours when the request asks
    /// for them.
    /// </summary>
    public async Task<EncodedImage> ToPngAsync(string jobId, PairPlan pair, JobRequest request, ImageTensor image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.PreserveColors)
        {
            return ImageWriter.ToPngWithPreview(image);
        }

        var content = await ContentAsync(jobId, pair, request.Height, cancellationToken).ConfigureAwait(false);
        return ImageWriter.ToPngWithPreview(ColorPreservation.Apply(image, content));
    }

    /// <summary>
    /// Drops the pair's downloaded bytes once its targets are computed, and its decoded content too unless the request
    /// preserves colours (every PNG of the pair needs the content then): a poster's content is 12 bytes a pixel that a
    /// worker would otherwise keep beside every tile it runs.
    /// </summary>
    public void KeepWhatPngsNeed(string jobId, PairPlan pair, JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.PreserveColors)
        {
            Forget(jobId, pair);
        }
        else if (_pairs.TryGetValue(Key(jobId, pair), out var images))
        {
            images.Bytes.Clear();
        }
    }

    /// <summary>Forgets a finished pair's images.</summary>
    public void Forget(string jobId, PairPlan pair) => _pairs.TryRemove(Key(jobId, pair), out _);

    // Keyed by the pair's index, not its id: the stages of a coarse-to-fine pair (ids of their own) share the inputs.
    private PairImages Of(string jobId, PairPlan pair)
    {
        var key = Key(jobId, pair);
        if (_pairs.TryGetValue(key, out var images))
        {
            return images;
        }

        images = new PairImages();
        BoundedCache.Remember(_pairs, key, images);
        return images;
    }

    private static string Key(string jobId, PairPlan pair) => $"{jobId}/{pair.Index}";

    private async Task<byte[]> BytesAsync(PairImages images, string blob, string field, CancellationToken cancellationToken)
    {
        if (images.Bytes.TryGetValue(blob, out var bytes))
        {
            return bytes;
        }

        bytes = await DownloadAsync(blob, field, cancellationToken).ConfigureAwait(false);
        images.Bytes[blob] = bytes;
        return bytes;
    }

    private async Task<byte[]> DownloadAsync(string blob, string field, CancellationToken cancellationToken)
    {
        try
        {
            return await source.DownloadAsync(blob, limits.Value.MaxInputBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (InputBlobException e)
        {
            throw new JobRequestException(field, e.Message, e);
        }
    }

    private static T Decode<T>(string blob, string field, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (InvalidImageException e)
        {
            throw new JobRequestException(field, $"{blob}: {e.Message}", e);
        }
    }

    private sealed class PairImages
    {
        public ConcurrentDictionary<string, byte[]> Bytes { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<(string Blob, int Height), ImageTensor> Content { get; } = new();
    }
}
