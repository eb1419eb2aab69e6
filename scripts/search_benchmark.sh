#!/usr/bin/env bash
# Side-by-side search benchmark: the same Fashion-MNIST search space under the same wall-clock
# budget, run one after the other (they share the cores) by
#   random       hpsearch random search        (configs/search_benchmark_random.yaml)
#   random_asha  hpsearch random search + ASHA (configs/search_benchmark_random_asha.yaml)
#   tpe_asha     hpsearch TPE + ASHA           (configs/search_benchmark_tpe_asha.yaml; TPE
#                ranks equal_budget, hpsearch's default since 0.2.0)
#   tpe_asha_first  the same with search.tpe.ranking: finished_first (Optuna's rule, the
#                default before 0.2.0: the README's older TPE + ASHA tables)
#   tpe_asha_equal  the same with search.tpe.ranking: equal_budget named in the config (the
#                same search as tpe_asha; the name the README's equal-budget tables used)
#   tpe_median   the same TPE with search.scheduler: median (hpsearch's median defaults)
#                instead of ASHA
#   random_median  random search with search.scheduler: median instead of ASHA (the
#                random_asha config otherwise)
#   tpe_asha_uni the tpe_asha search with search.tpe.multivariate: false (univariate TPE,
#                Optuna's default form)
#                The last five are not in the default set: name them in ONLY. A tpe_asha.h5
#                left from before 0.2.0 is a finished-first run, though it is labelled
#                "TPE + ASHA" like the new one.
#   optuna       Optuna TPE + median pruner with PyTorch (scripts/optuna_search.py, on the
#                space, max_epochs and patience of the tpe_asha config)
#   optuna_fixed the optuna run with --logpdf-fix: TPE scores candidates with the normalized
#                densities of Optuna 3.5 and hpsearch (Optuna 3.1 leaves out each kernel's
#                1/sigma, Optuna issue #5109). Not in the default set: name it in ONLY.
# each with 2 processes (mpirun -np 2, or 2 Optuna workers), then compares the incumbents over
# time (scripts/search_benchmark.py). Outputs in results/search_benchmark/: <run>.h5 and
# <run>.log, optuna/ (optuna_fixed/), search_benchmark.md and search_benchmark.png.
#
# Usage: scripts/search_benchmark.sh [MINUTES]      budget per run, default 20 (fractions allowed)
#        ONLY="tpe_asha optuna" scripts/search_benchmark.sh [MINUTES]
#            runs only those; the comparison then takes every output present in
#            results/search_benchmark, older ones included.
#        SEED=12 scripts/search_benchmark.sh [MINUTES]
#            every run with search seed 12 instead of the configs' 11; outputs in
#            results/search_benchmark/seed12/.
#        SPACE=curated scripts/search_benchmark.sh [MINUTES]
#            the narrow space of configs/fashion_mnist_search.yaml instead of the configs' wide
#            one; outputs in results/search_benchmark/curated/ (and .../curated/seed12/ ...).
# The configs the runs used (seed and space applied) are written to the output folder.
# hpsearch runs get SIGUSR1 at the budget (timeout --signal=USR1, SIGKILL 60 s later); exit
# codes 0, 4 and 124 are expected. Optuna enforces the budget itself.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-20}"
budget=$(awk -v m="$minutes" 'BEGIN { if (m + 0 <= 0) exit 1; printf "%d", m * 60 + 0.5 }') ||
  { echo "search_benchmark: MINUTES must be a positive number, got '$minutes'" >&2; exit 2; }
all_runs="random random_asha tpe_asha optuna"
# The hpsearch runs, in the order the comparison lists them; known: these and the two Optuna runs.
hpsearch_runs="random random_asha random_median tpe_asha tpe_asha_first tpe_asha_equal tpe_asha_uni tpe_median"
known_runs="$hpsearch_runs optuna optuna_fixed"
runs="${ONLY:-$all_runs}"
for name in $runs; do
  case " $known_runs " in
    *" $name "*) ;;
    *) echo "search_benchmark: unknown run '$name' in ONLY (known: $known_runs)" >&2; exit 2 ;;
  esac
done

scripts/install_deps.sh python3-optuna python3-torch libopenblas0-openmp python3-matplotlib \
  python3-h5py
scripts/build.sh >/dev/null
source scripts/env.sh
out=results/search_benchmark
case "${SPACE:-wide}" in
  wide) ;;
  curated) out="$out/curated" ;;
  *) echo "search_benchmark: SPACE must be wide or curated, got '$SPACE'" >&2; exit 2 ;;
esac
seed=11
if [ -n "${SEED:-}" ]; then
  [[ "$SEED" =~ ^[0-9]+$ ]] || { echo "search_benchmark: SEED must be a number, got '$SEED'" >&2; exit 2; }
  seed="$SEED"
  out="$out/seed$seed"
fi
mkdir -p "$out"

# $out/<run>.yaml: configs/search_benchmark_<run>.yaml with the seed and, for SPACE=curated,
# the search space of configs/fashion_mnist_search.yaml.
# tpe_asha_first, tpe_asha_equal: tpe_asha's config with that search.tpe.ranking;
# tpe_asha_uni: tpe_asha's config with search.tpe.multivariate: false;
# tpe_median, random_median: tpe_asha's and random_asha's config with the median scheduler.
make_config() {
  local source
  case "$1" in
    tpe_*) source=configs/search_benchmark_tpe_asha.yaml ;;
    random_median) source=configs/search_benchmark_random_asha.yaml ;;
    *) source="configs/search_benchmark_$1.yaml" ;;
  esac
  /usr/bin/python3 - "$source" "$out/$1.yaml" "$seed" "${SPACE:-wide}" "$1" <<'EOF'
import sys
import yaml
source, target, seed, space, name = sys.argv[1:]
with open(source) as f:
    config = yaml.safe_load(f)
config["seed"] = int(seed)
ranking = {"_equal": "equal_budget", "_first": "finished_first"}.get(name[-6:])
if ranking:
    config["search"].setdefault("tpe", {})["ranking"] = ranking
if name.endswith("_uni"):
    config["search"].setdefault("tpe", {})["multivariate"] = False
scheduler = "median" if name.endswith("_median") else None
if scheduler:
    config["search"]["scheduler"] = scheduler
    config["search"].pop("asha", None)
if space == "curated":
    with open("configs/fashion_mnist_search.yaml") as f:
        config["search"]["space"] = yaml.safe_load(f)["search"]["space"]
with open(target, "w") as f:
    named = f", ranking {ranking}" if ranking else ""
    named += ", univariate TPE" if name.endswith("_uni") else ""
    named += f", scheduler {scheduler}" if scheduler else ""
    f.write(f"# Written by scripts/search_benchmark.sh from {source}: seed {seed}, "
            f"{space} space{named}\n")
    yaml.safe_dump(config, f, sort_keys=False, default_flow_style=None)
EOF
}
for name in $hpsearch_runs; do make_config "$name"; done

starting() { echo "search_benchmark: $(date '+%F %T') starting $1, budget ${budget} s"; }

run_hpsearch() {
  local name="$1" log="$out/$1.log" rc=0
  starting "$name"
  local config="$out/${name}.yaml"
  timeout --signal=USR1 --kill-after=60 "${budget}s" \
    mpirun -np 2 build/hpsearch run "$config" \
    --out "$out/${name}.h5" --force > "$log" 2>&1 || rc=$?
  case "$rc" in
    0 | 4 | 124) ;;
    *)
      echo "search_benchmark: $name failed with exit code $rc; the end of $log:" >&2
      tail -n 20 "$log" >&2
      exit 1
      ;;
  esac
}

# run_optuna NAME [FLAGS...]: the Optuna peer into $out/NAME.
run_optuna() {
  local name="$1"
  shift
  starting "$name"
  rm -rf "${out:?}/$name"
  /usr/bin/python3 scripts/optuna_search.py --config "$out/tpe_asha.yaml" --out "$out/$name" \
    --budget "$budget" --workers 2 --seed "$seed" "$@"
}

for name in $runs; do
  case "$name" in
    optuna) run_optuna optuna ;;
    optuna_fixed) run_optuna optuna_fixed --logpdf-fix ;;
    *) run_hpsearch "$name" ;;
  esac
done

declare -A labels=([random]="random" [random_asha]="random + ASHA" [tpe_asha]="TPE + ASHA"
  [tpe_asha_first]="TPE (finished first) + ASHA" [tpe_asha_equal]="TPE (equal budget) + ASHA"
  [tpe_asha_uni]="TPE (univariate) + ASHA"
  [tpe_median]="TPE + median" [random_median]="random + median")
compare=()
for name in $hpsearch_runs; do
  if [ -f "$out/$name.h5" ]; then compare+=("${labels[$name]}=$out/$name.h5"); fi
done
if [ -f "$out/optuna/trials.csv" ]; then
  compare+=("Optuna TPE + median (PyTorch)=$out/optuna")
fi
if [ -f "$out/optuna_fixed/trials.csv" ]; then
  compare+=("Optuna with #5110's logpdf (PyTorch)=$out/optuna_fixed")
fi
if [ ${#compare[@]} -eq 0 ]; then
  echo "search_benchmark: no results in $out to compare" >&2
  exit 1
fi
/usr/bin/python3 scripts/search_benchmark.py --budget "$budget" \
  --png "$out/search_benchmark.png" --markdown "$out/search_benchmark.md" "${compare[@]}"
echo "search_benchmark: wrote $out/search_benchmark.md and $out/search_benchmark.png"
