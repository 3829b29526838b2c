#!/usr/bin/env bash
# Publishes the benchmarks (their gpu-check command) self-contained for linux-x64 and packs it with ONNX Runtime's CUDA provider into parts small
# enough to carry to a GPU machine one by one (the provider library alone is 284 MB). Output: .device/p-*.
# On the GPU machine: cat p-* > all.bin; head -c $CUDA_BYTES all.bin | xz -d > libonnxruntime_providers_cuda.so;
# tail -c +$((CUDA_BYTES+1)) all.bin | xz -d | tar x  (CUDA_BYTES is printed below); see docs/gpu.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
dotnet publish "$root/bench/ServerlessStyle.Bench" -c Release -r linux-x64 --self-contained -o "$work/app"
mv "$work/app/libonnxruntime_providers_cuda.so" "$work/cuda.so"
rm -f "$work"/app/*.dll.so "$work"/app/onnxruntime*.dll "$work/app/libonnxruntime_providers_tensorrt.so"
xz -6 -T0 -c "$work/cuda.so" > "$work/cuda.so.xz"
tar cf - -C "$work" app | xz -6 -T0 > "$work/app.tar.xz"
mkdir -p "$root/.device" && rm -f "$root"/.device/p-*
cat "$work/cuda.so.xz" "$work/app.tar.xz" | split -b 57m -d - "$root/.device/p-"
echo "CUDA_BYTES=$(stat -c %s "$work/cuda.so.xz")"; ls -la "$root/.device"
rm -rf "$work"
