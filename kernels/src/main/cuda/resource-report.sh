#!/usr/bin/env bash
# Prints, per kernel, what ptxas reports for one target: registers, spills, stack frame, static
# shared memory. Spills or a stack frame in a kernel meant to be spill-free are bugs to fix before
# timing anything. Usage: resource-report.sh [sm_90a|sm_100a]   (default sm_90a)
set -euo pipefail
arch=${1:-sm_90a}
here=$(cd "$(dirname "$0")" && pwd)
nvcc -cubin -std=c++17 -O3 -gencode "arch=compute_${arch#sm_},code=$arch" -Xptxas -v \
  -o /dev/null "$here/decodefleet.cu" 2>&1 \
  | sed -n "s/.*Compiling entry function '\([a-z0-9_]*\)'.*/\1/p; s/.*[^0-9]\([0-9][0-9]* bytes stack frame.*\)/  \1/p; s/.*\(Used [0-9]* registers.*\)/  \1/p" \
  | paste - - -
