#!/usr/bin/env bash
# Runs the same search of equal trials (configs/scaling_benchmark.yaml) with -np 1 and with
# -np N (default: the number of cores) and reports the speedup and the coordinator's CPU share
# (rank 0's coordinating loop, measured with its thread CPU clock and stored in the result).
# Usage: scripts/scaling_benchmark.sh [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="${1:-$(nproc)}"
scripts/install_deps.sh
scripts/build.sh >/dev/null
source scripts/env.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
declare -A wall
for np in 1 "$ranks"; do
  start=$(date +%s.%N)
  mpirun -np "$np" build/hpsearch run configs/scaling_benchmark.yaml --out "$work/np$np.h5" \
    > "$work/np$np.log" 2>&1 || { cat "$work/np$np.log"; exit 1; }
  wall[$np]=$(echo "$(date +%s.%N) - $start" | bc)
  share=$(/usr/bin/python3 -c "import h5py,sys; print('%.2f' % (100*h5py.File(sys.argv[1])['/'].attrs['coordinator_cpu_share']))" "$work/np$np.h5")
  printf -- "-np %-3s %6.1f s wall, coordinator CPU %s%% of a core\n" "$np" "${wall[$np]}" "$share"
done
printf "speedup -np %s over -np 1: %.2fx\n" "$ranks" "$(echo "${wall[1]} / ${wall[$ranks]}" | bc -l)"
