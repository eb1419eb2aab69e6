#!/usr/bin/env bash
# Dispatch throughput with trivial trials and many oversubscribed ranks, at 1,000 and 20,000
# trials: trials dispatched per second and the cost of writing one result (first and last
# 1,000), which must not grow with the number of trials.
# Usage: scripts/dispatch_benchmark.sh [RANKS=8]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="${1:-8}"
scripts/install_deps.sh
scripts/build.sh >/dev/null
source scripts/env.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for trials in 1000 20000; do
  mpirun --oversubscribe -np "$ranks" build/tests/dispatch_benchmark "$trials" "$work"
done
