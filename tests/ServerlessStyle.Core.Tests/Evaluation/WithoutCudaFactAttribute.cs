using System.Runtime.InteropServices;

namespace ServerlessStyle.Core.Tests.Evaluation;

/// <summary>
/// A fact about machines without CUDA (the provider's fallback and its error): reported as skipped, with the reason,
/// where the CUDA provider's own dependency loads, instead of passing without checking anything.
/// </summary>
public sealed class WithoutCudaFactAttribute : FactAttribute
{
    public WithoutCudaFactAttribute()
    {
        if (NativeLibrary.TryLoad("libcublasLt.so.13", out var handle))
        {
            NativeLibrary.Free(handle);
            Skip = "libcublasLt.so.13 loads on this machine: this test is about machines without CUDA.";
        }
    }
}
