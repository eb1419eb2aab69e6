#!/usr/bin/env bash
# Configures and builds hpsearch (Release, -O3, -march=native) into build/.
# Usage: scripts/build.sh [extra cmake -D options...]   e.g. -DHPSEARCH_NATIVE=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
