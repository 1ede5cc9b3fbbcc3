#!/usr/bin/env bash
# Checks the committed PTX (`npm run check:ptx`, CI): each file is up to date
# with its CUDA sources and assembles with ptxas for sm_80 and sm_90.
set -euo pipefail
cd "$(dirname "$0")"

# ptxas ships beside nvcc; either may be the one on PATH.
PTXAS=${PTXAS:-$(command -v ptxas || true)}
if [ -z "$PTXAS" ] && command -v nvcc >/dev/null 2>&1; then PTXAS="$(dirname "$(command -v nvcc)")/ptxas"; fi

status=0
for ptx in *.ptx; do
  src=${ptx%.ptx}.cu
  want=$(cat "$src" common.cuh | sha256sum | cut -c1-64)
  have=$(sed -n 's|^// source-sha256: \([0-9a-f]*\)$|\1|p' "$ptx")
  if [ "$want" != "$have" ]; then
    echo "check-ptx: $ptx is stale (built from other sources than $src); run npm run build:ptx" >&2
    status=1
  fi
  if [ -n "$PTXAS" ] && [ -x "$PTXAS" ]; then
    for sm in 80 90; do
      if ! "$PTXAS" -arch="sm_$sm" -O3 "$ptx" -o /dev/null; then
        echo "check-ptx: $ptx does not assemble for sm_$sm" >&2
        status=1
      fi
    done
  else
    echo "check-ptx: ptxas not found, only the source hashes were checked" >&2
  fi
done
if [ "$status" -eq 0 ]; then
  if [ -n "$PTXAS" ] && [ -x "$PTXAS" ]; then echo "check-ptx: the PTX is up to date and assembles for sm_80 and sm_90"; else echo "check-ptx: the PTX is up to date (ptxas not found, not assembled)"; fi
fi
exit "$status"
