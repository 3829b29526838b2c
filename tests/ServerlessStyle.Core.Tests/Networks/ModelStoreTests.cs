using ServerlessStyle.Core.Networks;

namespace ServerlessStyle.Core.Tests.Networks;

public sealed class ModelStoreTests : IDisposable
{
    private static readonly int[] TinyVgg19Stack =
        [2, 2, RandomVgg19.Pool, 3, 3, RandomVgg19.Pool, 3, 3, 3, 3, RandomVgg19.Pool, 3, 3, 3, 3, RandomVgg19.Pool, 3, 3];

    private readonly string _folder = Directory.CreateTempSubdirectory("model-store-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Import_Network_RecordsTheFilesSha256AndSource()
    {
        var store = new ModelStore(_folder);

        var stored = store.Import("vgg19", RandomVgg19.CreateVggStyle("vgg19", TinyVgg19Stack, seed: 5), "caffe", "test source");

        var reread = new ModelStore(_folder).TryRead("vgg19")!;
        Assert.Equal(ModelDigest.OfFile(stored.OnnxPath), reread.Sha256);
        Assert.Equal("test source", reread.Source);
        Assert.Equal(stored, reread);
    }

    [Fact]
    public void TryLoad_FileChangedAfterImport_ThrowsDigestMismatchNamingBothDigests()
    {
        var store = new ModelStore(_folder);
        var stored = store.Import("vgg19", RandomVgg19.CreateVggStyle("vgg19", TinyVgg19Stack, seed: 5), "caffe");
        var bytes = File.ReadAllBytes(stored.OnnxPath);
        bytes[^10] ^= 1;
        File.WriteAllBytes(stored.OnnxPath, bytes);

        var e = Assert.Throws<NetworkLoadException>(() => store.TryLoad("vgg19"));

        Assert.Equal(NetworkLoadFailure.DigestMismatch, e.Failure);
        Assert.Contains(stored.Sha256, e.Message);
        Assert.Contains(ModelDigest.OfFile(stored.OnnxPath), e.Message);
    }
}
