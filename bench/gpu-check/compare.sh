#!/usr/bin/env bash
# On a lent GPU machine, after the parts of pack.sh are carried into .device/ (docs/gpu.md): unpacks the benchmarks, runs
# gpu-check (CPU vs CUDA agreement, ms per evaluation, a 20-evaluation chunk and its share outside evaluations), then PyTorch's
# evaluation of the same seeded VGG19 on the same GPU (bench/torch_style_loss.py --device cuda), side by side.
# Usage, from the repository root there: bench/gpu-check/compare.sh CUDA_BYTES [SIZES...]   (CUDA_BYTES: printed by pack.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
CUDA_BYTES=$1
shift
SIZES=("${@:-224 512}")
read -r -a SIZES <<< "${SIZES[*]}"
OUT="${OUT:-$(mktemp -d)}"
cd .device
cat p-* > all.bin
head -c "$CUDA_BYTES" all.bin | xz -d > cuda.so
tail -c +$((CUDA_BYTES + 1)) all.bin | xz -d | tar x
mv cuda.so app/libonnxruntime_providers_cuda.so
rm all.bin
cd ..
PY=$(command -v python3)
SITE=$("$PY" -c "import site; print(site.getsitepackages()[0])")
export LD_LIBRARY_PATH="$SITE/nvidia/cu13/lib:$SITE/nvidia/cudnn/lib:${LD_LIBRARY_PATH:-}"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
.device/app/serverless-style-bench export-random-vgg19 "$OUT/random_vgg19.onnx"
.device/app/serverless-style-bench gpu-check "${SIZES[@]}" 2>&1 | tee "$OUT/ours.txt"
for size in "${SIZES[@]}"; do
  "$PY" bench/torch_style_loss.py --onnx "$OUT/random_vgg19.onnx" --threads "$(nproc)" time --device cuda --size "$size" --runs 20 | tee -a "$OUT/pytorch.txt"
done
