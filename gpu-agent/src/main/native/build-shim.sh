#!/usr/bin/env bash
# Builds one JNI shim (NCCL's, cuBLASLt's or the tensor-map encoder's) into the module's classes, so
# that it ships inside the gpu-agent jar; run by the module's Maven build (generate-resources), once per shim.
#   build-shim.sh <native source dir> <JDK home> <output .so> [<C source file name>]
# The source defaults to decodefleet_nccl.c.
#
# - gcc is $CC when set, else gcc on PATH. Without it, or on a build host that is not Linux
#   x86-64 (the one platform the jar carries a shim for), the build goes on without the shim and
#   says so in exactly one line; Nccl.unavailabilityCause() then names the missing shim.
# - Neither NCCL, cuBLASLt nor the CUDA driver is needed: each shim dlopens its library at run time.
# - The shim is rebuilt only when a source (or this script) is newer than it.
set -euo pipefail
src=$1
jdk=$2
out=$3
source_file=${4:-decodefleet_nccl.c}
name=${source_file#decodefleet_}
name=${name%.c}
case $name in nccl) name=NCCL ;; cublaslt) name=cuBLASLt ;; tensormap) name=tensor-map ;; esac

cc=${CC:-$(command -v gcc || true)}
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
  echo "[decodefleet-gpu-agent] gcc not found (\$CC, PATH): no $name shim in this build"
  exit 0
fi
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "[decodefleet-gpu-agent] build host is $(uname -s)/$(uname -m), not Linux/x86_64: no $name shim in this build"
  exit 0
fi
if [ ! -f "$jdk/include/jni.h" ]; then
  echo "[decodefleet-gpu-agent] $jdk/include/jni.h not found (a JRE, not a JDK?): no $name shim in this build"
  exit 0
fi

if [ -f "$out" ] && [ -z "$(find "$src" -type f \( -name "$source_file" -o -name '*.h' -o -name '*.sh' \) -newer "$out" -print -quit)" ]; then
  exit 0
fi

mkdir -p "$(dirname "$out")"
"$cc" -shared -fPIC -O2 -Wall -Werror -fvisibility=hidden \
  -I"$jdk/include" -I"$jdk/include/linux" \
  -o "$out.tmp" "$src/$source_file" -ldl
mv "$out.tmp" "$out"
