using ServerlessStyle.Core.Jobs;
using ServerlessStyle.Core.Networks;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>A network the app can run, as <c>GET /api/models</c> lists it.</summary>
public sealed record AvailableNetwork(string Name, string? Sha256, NetworkOrigin Origin, string Location, string Preprocess, long Bytes, string Source);

/// <summary>
/// Finds and loads loss networks in the order a deployment needs: the storage account's models container first (when
/// there is one), then the local model store and Keras' cache folders (<see cref="NetworkCatalog.FindLocalVgg19"/>), then
/// the bundled ResNet18. The Functions app and the runner (given storage) resolve through this one class, so a VGG19
/// uploaded with <c>models upload</c> is what both run.
/// </summary>
public sealed class NetworkResolver(ModelStore store, ModelContainer? models = null)
{
    // Hashing the bundled file (45 MB) once per process is enough: it ships inside the deployment and never changes there.
    private static readonly Lazy<string> BundledSha256 = new(() => ModelDigest.OfFile(ResNet18.DefaultPath));

    public ModelStore Store { get; } = store;

    /// <summary>The models container, or null where there is no storage account (the engine tools).</summary>
    public ModelContainer? Models { get; } = models;

    /// <summary>
    /// What <c>auto</c> resolves to now: <c>vgg19</c> with the identity of the one that would run, or <c>resnet18</c>;
    /// <c>Note</c> is the one line that tells the user which, and how to get VGG19 when it is ResNet18.
    /// </summary>
    public async Task<(NetworkSpec Spec, NetworkIdentity Identity, string Note)> ResolveAutoAsync(CancellationToken cancellationToken = default)
    {
        if (await FindVgg19Async(cancellationToken).ConfigureAwait(false) is { } found)
        {
            var where = found.Identity.Origin switch
            {
                NetworkOrigin.ModelsContainer => $"{found.Identity.Location} in the storage account",
                NetworkOrigin.ModelStore => $"imported, {found.Identity.Location}",
                _ => found.Identity.Location,
            };
            return (NetworkSpec.Vgg19, found.Identity, $"network: vgg19 ({where}, sha256 {found.Identity.Sha256})");
        }

        return (NetworkSpec.ResNet18, BundledIdentity(), $"network: resnet18 (bundled). No VGG19 is available. {NetworkCatalog.HowToAddVgg19}");
    }

    /// <summary>
    /// Loads the network <paramref name="spec"/> names, with its identity: the one place a spec becomes a network.
    /// <paramref name="preprocess"/> overrides the input normalisation of a network file and of ResNet18; a stored or
    /// uploaded network keeps the one recorded with it. Throws <see cref="NetworkLoadException"/> when vgg19 is asked for
    /// and none is available (<see cref="NetworkLoadFailure.NotAvailable"/>, saying how to add one) or when a model's
    /// bytes do not match its SHA-256 (<see cref="NetworkLoadFailure.DigestMismatch"/>).
    /// </summary>
    public async Task<ResolvedNetwork> LoadAsync(NetworkSpec spec, InputNormalization? preprocess = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (spec.Kind)
        {
            case NetworkKind.Auto:
                return await FindVgg19Async(cancellationToken).ConfigureAwait(false) is { } vgg19
                    ? await LoadVgg19Async(vgg19, preprocess, cancellationToken).ConfigureAwait(false)
                    : new ResolvedNetwork(ResNet18.Load(input: preprocess), BundledIdentity());
            case NetworkKind.Vgg19:
                var found = await FindVgg19Async(cancellationToken).ConfigureAwait(false)
                    ?? throw new NetworkLoadException(NetworkLoadFailure.NotAvailable, $"No VGG19 is available: {WhereVgg19IsLookedFor()} hold none. {NetworkCatalog.HowToAddVgg19}");
                return await LoadVgg19Async(found, preprocess, cancellationToken).ConfigureAwait(false);
            case NetworkKind.ResNet18:
                return new ResolvedNetwork(ResNet18.Load(input: preprocess), BundledIdentity());
            case NetworkKind.RandomVgg19:
                var random = RandomVgg19.Create();
                return new ResolvedNetwork(random, new NetworkIdentity(random.Name, null, NetworkOrigin.Generated, "RandomVgg19.Create(seed: 19)"));
            default:
                var path = spec.FilePath!;
                var network = NetworkCatalog.LoadFile(path, preprocess);
                return new ResolvedNetwork(network, new NetworkIdentity(network.Name, ModelDigest.OfFile(path), NetworkOrigin.File, Path.GetFullPath(path)));
        }
    }

    /// <summary>
    /// Loads <paramref name="spec"/> on this machine alone, with no storage account (the engine tools: <c>eval</c>, the
    /// benchmarks): the same lookup as <see cref="LoadAsync"/> without the models container.
    /// </summary>
    public static Task<ResolvedNetwork> LoadOfflineAsync(
        NetworkSpec spec, ModelStore store, InputNormalization? preprocess = null, CancellationToken cancellationToken = default) =>
        new NetworkResolver(store).LoadAsync(spec, preprocess, cancellationToken);

    /// <summary>What <c>auto</c> resolves to on this machine alone (<c>models list</c>), as <see cref="ResolveAutoAsync"/> says it.</summary>
    public static Task<(NetworkSpec Spec, NetworkIdentity Identity, string Note)> ResolveAutoOfflineAsync(ModelStore store, CancellationToken cancellationToken = default) =>
        new NetworkResolver(store).ResolveAutoAsync(cancellationToken);

    /// <summary>Every network this app can run, with its digest: the models container's, the local store's, a Keras file, the bundled ResNet18.</summary>
    public async Task<IReadOnlyList<AvailableNetwork>> ListAsync(CancellationToken cancellationToken = default)
    {
        var networks = new List<AvailableNetwork>();
        if (Models is not null)
        {
            networks.AddRange((await Models.ListAsync(cancellationToken).ConfigureAwait(false)).Select(m => new AvailableNetwork(
                m.Name, m.Sha256, NetworkOrigin.ModelsContainer, $"{Models.ContainerName}/{m.BlobName}", m.Preprocess, m.Bytes, m.Source)));
        }

        networks.AddRange(Store.List().Select(m => new AvailableNetwork(m.Name, m.Sha256, NetworkOrigin.ModelStore, m.OnnxPath, m.Preprocess, m.Bytes, m.Source)));
        if (NetworkCatalog.FindLocalVgg19(null) is { } keras)
        {
            networks.Add(new AvailableNetwork("vgg19", ModelDigest.OfFile(keras.Path), NetworkOrigin.File, keras.Path, "caffe", new FileInfo(keras.Path).Length, "Keras file"));
        }

        var bundled = BundledIdentity();
        networks.Add(new AvailableNetwork(
            bundled.Name, bundled.Sha256, bundled.Origin, bundled.Location, "caffe", new FileInfo(ResNet18.DefaultPath).Length, "Microsoft.ML.DnnImageFeaturizer.ResNet18"));
        return networks;
    }

    private async Task<Vgg19Candidate?> FindVgg19Async(CancellationToken cancellationToken)
    {
        if (Models is not null && await Models.TryGetAsync("vgg19", cancellationToken).ConfigureAwait(false) is { } blob)
        {
            // A blob without a digest is still found (not skipped for a local file): loading it then fails and says why.
            return new Vgg19Candidate(new NetworkIdentity("vgg19", blob.Sha256, NetworkOrigin.ModelsContainer, $"{Models.ContainerName}/{blob.BlobName}"), blob);
        }

        return NetworkCatalog.FindLocalVgg19(Store) is { } local
            ? new Vgg19Candidate(new NetworkIdentity("vgg19", local.Sha256 ?? ModelDigest.OfFile(local.Path), local.Origin, local.Path), null)
            : null;
    }

    private async Task<ResolvedNetwork> LoadVgg19Async(Vgg19Candidate found, InputNormalization? preprocess, CancellationToken cancellationToken)
    {
        if (found.Blob is { } blob)
        {
            var path = await Models!.DownloadAsync(blob, cancellationToken).ConfigureAwait(false);
            return new ResolvedNetwork(NetworkCatalog.LoadFile(path, Preprocessing.Parse(blob.Preprocess)), found.Identity);
        }

        var local = new LocalVgg19(found.Identity.Origin, found.Identity.Location, found.Identity.Sha256);
        return new ResolvedNetwork(NetworkCatalog.LoadLocal(local, preprocess, Store), found.Identity);
    }

    private string WhereVgg19IsLookedFor() =>
        (Models is null ? "" : $"the models container ({Models.ContainerName}/vgg19.onnx), ") +
        $"the model store ({Store.Folder}) and Keras' folders ({string.Join(", ", NetworkCatalog.Vgg19SearchFolders)})";

    private static NetworkIdentity BundledIdentity() =>
        new("resnet18", BundledSha256.Value, NetworkOrigin.Bundled, ResNet18.DefaultPath);

    private sealed record Vgg19Candidate(NetworkIdentity Identity, ModelBlob? Blob);
}
