#!/usr/bin/env bash
# What `--resume` costs before any trial runs: the checks of every recorded trial (its group,
# history and best epoch) and the replay of TPE's and ASHA's state from the same reads. Runs a
# TPE + ASHA search of TRIALS small trials (generated data, 2 ranks) to its end, then times
# `hpsearch run ... --resume` on the finished file (it checks, replays and says there is
# nothing to do) RUNS times and prints each time and the median.
# Usage: scripts/resume_benchmark.sh [TRIALS=600] [RUNS=8]
# HPSEARCH_BIN=path times another hpsearch binary (an older build, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-600}"
runs="${2:-8}"
case "$trials$runs" in *[!0-9]*) echo "usage: $0 [TRIALS] [RUNS] (whole numbers)" >&2; exit 2 ;; esac
scripts/install_deps.sh
scripts/build.sh >/dev/null
source scripts/env.sh
root="$PWD"
bin="$(realpath "${HPSEARCH_BIN:-build/hpsearch}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$root/scripts/make_blobs_csv.sh" 1000 >data.csv
cat >search.yaml <<EOF
seed: 3
data:
  task: classification
  train: {format: csv, path: data.csv, label_column: label}
model: {hidden: [16]}
training: {optimizer: adam, batch_size: 64, max_epochs: 30}
early_stopping: {enabled: true, patience: 5}
search:
  strategy: tpe
  trials: $trials
  scheduler: asha
  asha: {reduction_factor: 3, min_epochs: 2}
  space:
    learning_rate: {log_uniform: [1.0e-4, 1.0e-1]}
    dropout: {uniform: [0.0, 0.5]}
    l2: {log_uniform: [1.0e-3, 10]}
    batch_size: [16, 32, 64, 128]
EOF
mpirun -np 2 "$bin" run search.yaml --out search.h5 >search.log 2>&1 ||
  { cat search.log >&2; exit 1; }
counts="$("$bin" inspect search.h5 --json | grep -o '"counts":{[^}]*}')"
echo "resume_benchmark: a finished TPE + ASHA search of $trials trials, $counts"
times=()
for ((i = 0; i < runs; ++i)); do
  start=$(date +%s%N)
  "$bin" run search.yaml --out search.h5 --resume >resume.log 2>&1 || { cat resume.log >&2; exit 1; }
  grep -q "nothing to do" resume.log || { cat resume.log >&2; exit 1; }
  times+=("$(($(date +%s%N) - start))")
done
printf 'resume_benchmark: hpsearch run --resume took (s):'
printf '%s\n' "${times[@]}" | awk '{printf " %.2f", $1 / 1e9}'
printf '%s\n' "${times[@]}" | sort -n | awk '
  { ns[NR] = $1 }
  END { printf "\nresume_benchmark: median %.2f s of %d runs\n", (ns[int((NR + 1) / 2)] + ns[int(NR / 2) + 1]) / 2e9, NR }'
