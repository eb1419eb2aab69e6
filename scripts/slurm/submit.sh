#!/usr/bin/env bash
# Submits scripts/slurm/hpsearch.sbatch for one search and prints the job id.
# Usage: scripts/slurm/submit.sh CONFIG OUTPUT [sbatch options...]
#   e.g. scripts/slurm/submit.sh configs/fashion_mnist_search.yaml results/fmnist.h5 --ntasks=64
# CONFIG and OUTPUT may be relative to the current directory: they are made absolute, and the job
# is submitted from the repository root, so its log (hpsearch-<jobid>.out) lands there unless an
# --output option says otherwise. Submitting again with the same OUTPUT resumes the search.
# HPSEARCH_BIN (default: the repository's build/hpsearch) and HPSEARCH_LAUNCHER pass through.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG OUTPUT [sbatch options...]" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/../.." && pwd)"

absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}
config="$(absolute "$1")"
output="$(absolute "$2")"
shift 2

[ -f "$config" ] || { echo "submit.sh: no config file $config" >&2; exit 2; }
[ -d "$(dirname "$output")" ] || { echo "submit.sh: no directory for $output" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "submit.sh: sbatch not found (is Slurm loaded?)" >&2; exit 1; }

export HPSEARCH_ROOT="$root"
export HPSEARCH_BIN="${HPSEARCH_BIN:-$root/build/hpsearch}"
[ -x "$HPSEARCH_BIN" ] || { echo "submit.sh: $HPSEARCH_BIN is missing; run scripts/build.sh" >&2; exit 1; }

cd "$root"
job_id="$(sbatch --parsable "$@" "$root/scripts/slurm/hpsearch.sbatch" "$config" "$output")"
job_id="${job_id%%;*}"  # --parsable prints "id;cluster" on multi-cluster sites
echo "$job_id"
