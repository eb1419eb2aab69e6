#!/usr/bin/env bash
# Side-by-side training throughput of hpsearch and PyTorch on one core (see compare_pytorch.py).
# Installs PyTorch from Debian with OpenBLAS (without libopenblas0-openmp PyTorch falls back to
# the slow reference BLAS), builds, and runs the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh python3-torch libopenblas0-openmp
scripts/build.sh
/usr/bin/python3 scripts/compare_pytorch.py --build-dir build "$@"
