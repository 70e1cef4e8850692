#!/usr/bin/env bash
# Builds decodefleet.fatbin from the kernels in this folder; run by the kernels module's Maven
# build (generate-resources). Usage: build-fatbin.sh <cuda source dir> <output fatbin>
#
# - nvcc is looked up on PATH, then in $CUDA_HOME/bin and /usr/local/cuda/bin. Without it the
#   build is CPU-only: exactly one line says so, and the build succeeds.
# - The fatbin is rebuilt only when a source (or this script) is newer than it.
# - Targets: sm_90a and sm_100a machine code, compute_90 PTX for anything newer.
set -euo pipefail
src=$1
out=$2

nvcc=$(command -v nvcc || true)
for dir in "${CUDA_HOME:-}/bin" /usr/local/cuda/bin; do
  if [ -z "$nvcc" ] && [ -x "$dir/nvcc" ]; then nvcc="$dir/nvcc"; fi
done
if [ -z "$nvcc" ]; then
  echo "[decodefleet-kernels] nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin): CPU-only build, no fatbin"
  exit 0
fi

if [ -f "$out" ] && [ -z "$(find "$src" -type f \( -name '*.cu' -o -name '*.cuh' -o -name '*.sh' \) -newer "$out" -print -quit)" ]; then
  exit 0
fi

mkdir -p "$(dirname "$out")"
"$nvcc" -fatbin -std=c++17 -O3 --threads 2 \
  -Xptxas -warn-spills -Xptxas -warn-lmem-usage \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_100a,code=sm_100a \
  -gencode arch=compute_90,code=compute_90 \
  -o "$out.tmp" "$src/decodefleet.cu"
mv "$out.tmp" "$out"
echo "[decodefleet-kernels] built $(basename "$out") ($(wc -c < "$out") bytes) with $("$nvcc" --version | tail -1)"
