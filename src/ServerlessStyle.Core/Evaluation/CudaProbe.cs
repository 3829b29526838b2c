using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ServerlessStyle.Core.Evaluation;

/// <summary>
/// Finds out whether ONNX Runtime's CUDA provider loads here, without ONNX Runtime's native error line. Appending the
/// provider on a machine without CUDA makes ONNX Runtime print a red "[E:onnxruntime ...] Failed to load library" line
/// straight to the process's stderr, and its exception then says only "Failed to load shared library". So its log level
/// is raised while it tries, and the libraries the provider needs are tried one by one to name the missing ones.
/// </summary>
public static class CudaProbe
{
    /// <summary>What ONNX Runtime 1.31's CUDA provider needs, for messages.</summary>
    public const string Requirement =
        "the CUDA execution provider of ONNX Runtime 1.31 needs the CUDA 13 and cuDNN 9 libraries (libcublasLt.so.13, libcudart.so.13, libcudnn.so.9) on the library path and an NVIDIA driver";

    // libonnxruntime_providers_cuda.so 1.31.0 links these (readelf -d: NEEDED), libcuda.so.1 being the driver's; it
    // opens cuDNN itself when a session starts.
    private static readonly string[] LinuxLibraries =
        ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];

    /// <summary>
    /// The provider sessions should use: <paramref name="requested"/> itself for CPU or a loadable CUDA, else the CPU
    /// for <see cref="ExecutionProvider.Auto"/> with the reason CUDA was not taken. A required CUDA that does not load
    /// throws <see cref="CudaUnavailableException"/> with that reason.
    /// </summary>
    public static (ExecutionProvider Provider, string? Reason) Resolve(ExecutionProvider requested, int deviceId = 0)
    {
        if (requested == ExecutionProvider.Cpu)
        {
            return (ExecutionProvider.Cpu, null);
        }

        try
        {
            AppendQuietly(deviceId);
            return (ExecutionProvider.Cuda, null);
        }
        catch (OnnxRuntimeException e)
        {
            // ONNX Runtime decides (the libraries may sit where only it looks, beside its provider library); the
            // loader's answer only says what is missing.
            var missing = OperatingSystem.IsLinux() ? LinuxLibraries.Where(name => !Loads(name)).ToList() : [];
            var found = missing.Count > 0 ? $" Not found: {string.Join(", ", missing)}." : "";
            var reason = $"{Requirement}.{found} ONNX Runtime said: {e.Message}";
            if (requested == ExecutionProvider.Cuda)
            {
                throw new CudaUnavailableException($"CUDA was required but cannot be used: {reason}", e);
            }

            return (ExecutionProvider.Cpu, reason);
        }
    }

    private static void AppendQuietly(int deviceId)
    {
        // The level is process-wide: other sessions' warnings are lost for the moment the probe takes, once per evaluator.
        var environment = OrtEnv.Instance();
        var level = environment.EnvLogLevel;
        environment.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(deviceId);
        }
        finally
        {
            environment.EnvLogLevel = level;
        }
    }

    private static bool Loads(string name)
    {
        foreach (var candidate in new[] { name, Path.Combine(AppContext.BaseDirectory, name), Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", name) })
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                NativeLibrary.Free(handle);
                return true;
            }
        }

        return false;
    }
}
