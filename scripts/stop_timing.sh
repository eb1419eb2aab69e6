#!/usr/bin/env bash
# How a search ends when Ctrl-C reaches mpirun (as in a terminal: SIGINT to mpirun's process
# group; the ranks sit in groups of their own): how long after the signal the job ended,
# mpirun's exit code, and the result file's status and trials. Trials take about 5 s each on
# 2 ranks (generated data), and the signal comes 3 s after the search has created its file.
# Usage: scripts/stop_timing.sh [DELAY]
#   DELAY: Open MPI's odls_base_sigkill_timeout in seconds (without it, Open MPI's default,
#   or what OMPI_MCA_odls_base_sigkill_timeout already says). See the README's "Interruption".
set -euo pipefail
cd "$(dirname "$0")/.."
delay="${1:-}"
case "$delay" in *[!0-9]*) echo "usage: $0 [DELAY] (whole seconds)" >&2; exit 2 ;; esac
scripts/install_deps.sh
scripts/build.sh >/dev/null
source scripts/env.sh
[ -n "$delay" ] && export OMPI_MCA_odls_base_sigkill_timeout="$delay"
root="$PWD"
work="$(mktemp -d)"
# On any way out: end the job if it still runs (its group), then remove the folder.
trap '[ -s "$work/group" ] && kill -KILL -- "-$(cat "$work/group")" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
"$root/scripts/make_blobs_csv.sh" 4000 >data.csv
cat >search.yaml <<'YAML'
seed: 2
data:
  task: classification
  train: {format: csv, path: data.csv, label_column: label}
model: {hidden: [256, 256]}
training: {optimizer: adam, batch_size: 32, max_epochs: 150}
early_stopping: {enabled: false}
search:
  strategy: random
  trials: 24
  space:
    learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}
    dropout: {uniform: [0.0, 0.5]}
YAML
setsid bash -c 'echo $$ >group; exec mpirun -np 2 "$0" run search.yaml --out search.h5 \
  >search.log 2>&1' "$root/build/hpsearch" &
job=$!
for ((i = 0; i < 300; ++i)); do [ -e search.h5 ] && break; sleep 0.1; done
[ -e search.h5 ] || { cat search.log >&2; echo "stop_timing: the search did not start" >&2; exit 1; }
sleep 3
start=$(date +%s%N)
kill -INT -- "-$(cat group)"
code=0
wait "$job" || code=$?
end=$(date +%s%N)
summary="$("$root/build/hpsearch" inspect search.h5 --json |
  grep -o '"status":"[a-z_]*"\|"trials_done":[0-9]*' | head -2 | tr '\n' ' ')"
awk -v ns=$((end - start)) -v code="$code" -v delay="${OMPI_MCA_odls_base_sigkill_timeout:-Open MPI default}" \
  -v file="$summary" 'BEGIN {
  printf "stop_timing: kill delay %s: the job ended %.1f s after Ctrl-C, mpirun exit code %d; file: %s\n",
    delay, ns / 1e9, code, file }'
