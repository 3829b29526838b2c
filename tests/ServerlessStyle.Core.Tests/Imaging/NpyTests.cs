using System.Text;
using ServerlessStyle.Core.Imaging;

namespace ServerlessStyle.Core.Tests.Imaging;

public sealed class NpyTests
{
    // Bytes written by numpy 1.24.2: np.save(f, np.array([[1.5, -2.0, 3.25]], dtype='<f4')).
    private const string NumpyFloat32 =
        "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c2033292c207d" +
        "202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c000005040";

    // np.save(f, np.array([0.5, 7.0], dtype='<f8')): float64, which the reader must refuse.
    private const string NumpyFloat64 =
        "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d" +
        "2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000e03f0000000000001c40";

    [Fact]
    public void ReadFloat32_NumpyFile_GivesValuesAndShape()
    {
        var (data, shape) = Npy.ReadFloat32(new MemoryStream(Convert.FromHexString(NumpyFloat32)));

        Assert.Equal([1L, 3L], shape);
        Assert.Equal([1.5f, -2.0f, 3.25f], data);
    }

    [Fact]
    public void WriteFloat32_AnyShape_HeaderIsNumpyV1AndDataIs64ByteAligned()
    {
        var stream = new MemoryStream();
        Npy.WriteFloat32(stream, [1.5f, -2.0f, 3.25f, 0f, 1f, 2f], [1, 3, 1, 2]);
        var bytes = stream.ToArray();

        var headerLength = bytes[8] | (bytes[9] << 8);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Equal(Convert.FromHexString("934e554d50590100"), bytes[..8]);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.EndsWith("\n", header);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1, 2), }", header);

        // The payload is the IEEE bits of 1.5 and -2.0, little-endian, as in the numpy file above.
        Assert.Equal(Convert.FromHexString("0000c03f000000c0"), bytes[(10 + headerLength)..(18 + headerLength)]);
    }

    [Fact]
    public void WriteFloat32_OneDimension_UsesPythonTupleSyntax()
    {
        var stream = new MemoryStream();
        Npy.WriteFloat32(stream, [0.5f, 7f], [2]);

        Assert.Contains("'shape': (2,), }", Encoding.ASCII.GetString(stream.ToArray()));
    }

    [Fact]
    public void ReadFloat32_WhatWriteWrote_RoundTripsBitwise()
    {
        float[] values = [float.Epsilon, -0f, float.MaxValue, 123.456f, float.NaN];
        var stream = new MemoryStream();
        Npy.WriteFloat32(stream, values, [5, 1]);
        stream.Position = 0;

        var (data, shape) = Npy.ReadFloat32(stream);

        Assert.Equal([5L, 1L], shape);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), data.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ReadFloat32_Float64File_ThrowsNamingTheDtype()
    {
        var error = Assert.Throws<NpyFormatException>(() => Npy.ReadFloat32(new MemoryStream(Convert.FromHexString(NumpyFloat64))));

        Assert.Contains("'<f8'", error.Message);
    }

    [Fact]
    public void ReadFloat32_TruncatedData_ThrowsNamingTheShape()
    {
        var bytes = Convert.FromHexString(NumpyFloat32);

        var error = Assert.Throws<NpyFormatException>(() => Npy.ReadFloat32(new MemoryStream(bytes[..^4])));

        Assert.Contains("shape (1, 3)", error.Message);
    }

    [Fact]
    public void ReadFloat32_NotNpy_ThrowsNpyFormatException()
    {
        var error = Assert.Throws<NpyFormatException>(() => Npy.ReadFloat32(new MemoryStream(Encoding.ASCII.GetBytes("PK\u0003\u0004 a zip file"))));

        Assert.Contains("NUMPY", error.Message);
    }

    [Fact]
    public void WriteFloat32_ShapeMismatch_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Npy.WriteFloat32(new MemoryStream(), [1f, 2f, 3f], [2, 2]));
    }
}
