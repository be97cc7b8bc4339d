#!/usr/bin/env bash
# run_briefly.sh FUZZER TARGET CORPUS SECONDS: fuzz TARGET for SECONDS starting from CORPUS,
# writing new inputs to a scratch folder so the committed corpus stays as it is.
set -euo pipefail
fuzzer=$1 target=$2 corpus=$3 seconds=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
CHAINMESH_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=70000 -print_final_stats=1 "$scratch" "$corpus" 2>&1 | tail -n 20
exit "${PIPESTATUS[0]}"
