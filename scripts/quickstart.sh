#!/usr/bin/env bash
# The first run: installs what is missing, builds, and trains the embedded default
# (configs/quickstart.yaml, a Fashion-MNIST subset) into a new file under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
source scripts/env.sh
mkdir -p results
out="results/quickstart-$(date +%Y%m%d-%H%M%S).h5"
build/hpsearch train configs/quickstart.yaml --out "$out"
echo "inspect it with: h5dump -A $out   (or h5py)"
