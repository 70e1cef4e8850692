#!/usr/bin/env bash
# Builds the NCCL JNI shim into the module's classes, so that it ships inside the gpu-agent jar;
# run by the module's Maven build (generate-resources).
#   build-shim.sh <native source dir> <JDK home> <output .so>
#
# - gcc is $CC when set, else gcc on PATH. Without it, or on a build host that is not Linux
#   x86-64 (the one platform the jar carries a shim for), the build goes on without the shim and
#   says so in exactly one line; Nccl.unavailabilityCause() then names the missing shim.
# - NCCL itself is not needed: the shim dlopens libnccl.so.2 at run time.
# - The shim is rebuilt only when a source (or this script) is newer than it.
set -euo pipefail
src=$1
jdk=$2
out=$3

cc=${CC:-$(command -v gcc || true)}
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
  echo "[decodefleet-gpu-agent] gcc not found (\$CC, PATH): no NCCL shim in this build"
  exit 0
fi
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "[decodefleet-gpu-agent] build host is $(uname -s)/$(uname -m), not Linux/x86_64: no NCCL shim in this build"
  exit 0
fi
if [ ! -f "$jdk/include/jni.h" ]; then
  echo "[decodefleet-gpu-agent] $jdk/include/jni.h not found (a JRE, not a JDK?): no NCCL shim in this build"
  exit 0
fi

if [ -f "$out" ] && [ -z "$(find "$src" -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' \) -newer "$out" -print -quit)" ]; then
  exit 0
fi

mkdir -p "$(dirname "$out")"
"$cc" -shared -fPIC -O2 -Wall -Werror -fvisibility=hidden \
  -I"$jdk/include" -I"$jdk/include/linux" \
  -o "$out.tmp" "$src/decodefleet_nccl.c" -ldl
mv "$out.tmp" "$out"
