#!/usr/bin/env bash
# How much one network's test accuracy moves with the seed alone, in hpsearch and in the
# PyTorch peer of the search benchmark (see seed_spread.py). Installs what is missing, builds,
# and runs it; arguments go to seed_spread.py (default: configs/seed_spread.yaml, seeds 1-8).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh python3-torch libopenblas0-openmp python3-optuna python3-yaml \
  python3-h5py
scripts/build.sh >/dev/null
/usr/bin/python3 scripts/seed_spread.py --build-dir build "$@"
