#!/usr/bin/env bash
# The first run: installs what is missing, builds, and runs the embedded default search
# (configs/quickstart.yaml: 16 trials on a Fashion-MNIST subset) on every core, into a new
# file under results/, then prints its leaderboard and scores the best model on the test set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
source scripts/env.sh
mkdir -p results
out="results/quickstart-$(date +%Y%m%d-%H%M%S).h5"
mpirun -np "$(nproc)" build/hpsearch run configs/quickstart.yaml --out "$out"
build/hpsearch inspect "$out" --top 5
build/hpsearch evaluate "$out"
