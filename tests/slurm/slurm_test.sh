#!/usr/bin/env bash
# End-to-end tests of scripts/slurm/ on a real one-node Slurm started for the test
# (scripts/slurm/local_cluster.sh; needs root and the slurm-wlm and munge packages).
#
# Usage: tests/slurm/slurm_test.sh MODE HPSEARCH_BINARY
#   submit         submit.sh a 6-trial search; it finishes with every trial once, and
#                  submitting it again only says "already finished"
#   cancel_resume  scancel a running search: the file is complete with status "interrupted";
#                  submitting again with the same OUTPUT resumes it to "finished"
#   requeue        send the time-limit warning (SIGUSR1 to the batch shell, as
#                  --signal=B:USR1@120 does): the job requeues itself and resumes to "finished"
# Exit codes: 0 passed, 1 failed, 77 skipped (Slurm cannot start here; the reason is printed).
# The data, configs and results live in a temporary directory whose path has spaces; it is
# removed at the end unless HPSEARCH_TEST_KEEP is set. The job logs are printed on failure.
set -uo pipefail

mode="${1:-}"
bin="${2:-}"
case "$mode" in submit | cancel_resume | requeue) ;; *)
  echo "usage: $0 submit|cancel_resume|requeue HPSEARCH_BINARY" >&2
  exit 1
  ;;
esac
[ -x "$bin" ] || { echo "slurm_test: no hpsearch binary at '$bin'" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
python=/usr/bin/python3
started=$SECONDS

say() { echo "slurm_test[$mode] $((SECONDS - started))s: $*" >&2; }

# Every wait ends by this many seconds after the start, so that cleanup (which stops the
# daemons) still runs before ctest's TIMEOUT of 600 s kills the script. The limits below are
# several times what each wait takes on 2 idle cores, for slower and busier machines.
budget=480
deadline_in() {
  local d=$((SECONDS + $1)) cap=$((started + budget))
  echo $((d < cap ? d : cap))
}

# Only the test cluster: never a real one this machine may be configured for.
unset SLURM_CONF
cluster_up=0
work="$(mktemp -d "${TMPDIR:-/tmp}/hpsearch slurm test.XXXXXX")"
export SLURM_TEST_STATE="$work/cluster.state"
export HPSEARCH_BIN="$bin"
jobs_submitted=()

show_logs() {
  local f dir
  for f in "$work"/slurm-*.out; do
    [ -f "$f" ] || continue
    echo "---- $f" >&2
    tail -n 40 "$f" >&2
  done
  dir="$(sed -n 's/^dir=//p' "$SLURM_TEST_STATE" 2>/dev/null)"
  for f in "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
}

cleanup() {
  local rc=$? job deadline
  trap - EXIT INT TERM
  if [ "$cluster_up" -eq 1 ]; then
    if [ "$rc" -ne 0 ]; then show_logs; fi
    # Jobs end before the daemons stop, or their processes would outlive the cluster.
    for job in ${jobs_submitted[@]+"${jobs_submitted[@]}"}; do timeout 10 scancel "$job" 2>/dev/null; done
    deadline=$((SECONDS + 45))
    while [ "$SECONDS" -lt "$deadline" ] &&
      timeout 10 squeue -h -o %i 2>/dev/null | grep -q .; do  # pending, running or ending
      sleep 1
    done
  fi
  "$repo/scripts/slurm/local_cluster.sh" stop 2>/dev/null
  if [ -n "${HPSEARCH_TEST_KEEP:-}" ]; then
    say "kept $work"
  else
    rm -rf -- "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  say "FAILED: $*"
  exit 1
}

# ---- the cluster
cluster_env="$("$repo/scripts/slurm/local_cluster.sh" start)"
rc=$?
if [ "$rc" -eq 77 ]; then
  say "SKIPPED: Slurm cannot start on this machine (reason above)"
  exit 77
fi
[ "$rc" -eq 0 ] || fail "local_cluster.sh start exited with $rc"
eval "$cluster_env"
cluster_up=1
say "cluster up (SLURM_CONF=$SLURM_CONF)"

# ---- data and configs
"$python" - "$work/train.csv" <<'EOF' || fail "could not write the test data"
import sys
import numpy as np
rng = np.random.default_rng(5)
rows = 3000
label = np.arange(rows) % 3
x = np.column_stack([label + 0.7 * rng.normal(size=rows), rng.normal(size=rows),
                     -label + 0.7 * rng.normal(size=rows), 0.5 * label * rng.normal(size=rows)])
with open(sys.argv[1], "w") as f:
    f.write("f1,f2,f3,f4,label\n")
    for r, l in zip(x, label):
        f.write(",".join(f"{v:.5f}" for v in r) + f",{l}\n")
EOF

# Quick: 6 short trials. Slow: 16 trials of 600 epochs without early stopping, 3 to 7 s each,
# so that a job runs long enough (about 50 s on 2 cores) to be interrupted mid-search even when
# the first trial is seen late (a CI run saw it 20 s late, and 8 trials had all started by then).
write_config() {
  local file="$1" trials="$2" epochs="$3" patience="$4" hidden="$5"
  cat >"$file" <<EOF
seed: 3
data:
  task: classification
  validation_fraction: 0.25
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [16]}
training: {optimizer: adam, batch_size: 32, max_epochs: $epochs}
early_stopping: {monitor: val_accuracy, patience: $patience}
search:
  strategy: random
  trials: $trials
  keep_weights: 3
  space:
    learning_rate: {log_uniform: [1.0e-3, 3.0e-2]}
    hidden: $hidden
    batch_size: [16, 32]
EOF
}
write_config "$work/quick search.yaml" 6 5 3 "[[8], [16, 8]]"
slow_trials=16
write_config "$work/slow search.yaml" "$slow_trials" 600 1000 "[[128, 128], [256, 128]]"

# ---- helpers

# Submits through submit.sh (absolute paths, repository root); prints the job id.
submit() {
  local config="$1" output="$2" ntasks=2 over=()
  [ "$(nproc)" -ge "$ntasks" ] || over=(--overcommit)
  "$repo/scripts/slurm/submit.sh" "$config" "$output" --ntasks="$ntasks" ${over[@]+"${over[@]}"} \
    --time=10 --job-name="hpsearch-test-$mode" --output="$work/slurm-%j.out"
}

job_field() { timeout 10 scontrol show job -o "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -n 1 | cut -d= -f2; }

# Waits up to $2 seconds for job $1 to reach a final state; prints the state.
wait_job_end() {
  local job="$1" limit="$2" state deadline
  deadline="$(deadline_in "$2")"
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(job_field "$job" JobState)"
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        echo "$state"
        return 0
        ;;
    esac
    sleep 1
  done
  echo "still ${state:-unknown} after ${limit}s"
  return 1
}

# Reads a result file with h5py; modes: rows (count of /summary rows, 0 if not readable yet),
# check STATUS [N] (status attribute, and with N: trials 0..N-1 each exactly once).
results() {
  HDF5_USE_FILE_LOCKING=FALSE "$python" - "$@" <<'EOF'
import sys
import h5py

def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)

mode, path = sys.argv[1], sys.argv[2]
if mode == "rows":
    try:
        with h5py.File(path, "r") as f:
            print(len(f["summary"]))
    except Exception:
        print(0)
    sys.exit(0)
with h5py.File(path, "r") as f:
    status = text(f.attrs["status"])
    summary = f["summary"][:]
    trials = [int(t) for t in summary["trial"]]
    statuses = [text(s) for s in summary["status"]]
print(f"status {status}, {len(trials)} rows, trials {sorted(trials)}, statuses {sorted(set(statuses))}")
problems = []
if status != sys.argv[3]:
    problems.append(f"status is {status!r}, expected {sys.argv[3]!r}")
if len(trials) != len(set(trials)):
    problems.append(f"a trial appears more than once: {sorted(trials)}")
if len(sys.argv) > 4 and sorted(trials) != list(range(int(sys.argv[4]))):
    problems.append(f"trials are {sorted(trials)}, expected 0..{int(sys.argv[4]) - 1} once each")
for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
EOF
}

# Waits up to $3 seconds until job $1 runs and $2 holds at least one finished trial.
wait_first_trial() {
  local job="$1" file="$2" deadline state
  deadline="$(deadline_in "$3")"
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(job_field "$job" JobState)"
    # Empty: scontrol did not answer in time; ask again.
    [ -z "$state" ] || [ "$state" = RUNNING ] || [ "$state" = PENDING ] ||
      fail "job $job is $state before its first trial"
    if [ -f "$file" ] && [ "$(results rows "$file")" -ge 1 ]; then return 0; fi
    sleep 1
  done
  fail "no finished trial in $file within $3 s"
}

expect_job() {
  local job="$1" want_state="$2" want_exit="$3" limit="$4" state exit_code
  state="$(wait_job_end "$job" "$limit")" || fail "job $job: $state"
  exit_code="$(job_field "$job" ExitCode)"
  say "job $job ended: $state, exit code $exit_code"
  if [ "$state" != "$want_state" ] || [ "$exit_code" != "$want_exit" ]; then
    fail "job $job: expected $want_state with exit code $want_exit, got $state with $exit_code"
  fi
}

log_of() { cat "$work/slurm-$1.out" 2>/dev/null; }

# ---- the tests
out="$work/result file.h5"
case "$mode" in
  submit)
    job="$(submit "$work/quick search.yaml" "$out")" || fail "submit.sh failed"
    jobs_submitted+=("$job")
    say "submitted job $job"
    expect_job "$job" COMPLETED 0:0 120
    log_of "$job" | grep -q -- "--resume" && fail "a first run must not resume"
    results check "$out" finished 6 || fail "wrong result file"
    # Submitting a finished search again (as a requeue after the end would) changes nothing.
    job="$(submit "$work/quick search.yaml" "$out")" || fail "submit.sh failed (again)"
    jobs_submitted+=("$job")
    expect_job "$job" COMPLETED 0:0 60
    log_of "$job" | grep -q "already finished" || fail "the second job did not say 'already finished'"
    results check "$out" finished 6 || fail "wrong result file after submitting again"
    ;;

  cancel_resume)
    job="$(submit "$work/slow search.yaml" "$out")" || fail "submit.sh failed"
    jobs_submitted+=("$job")
    say "submitted job $job"
    wait_first_trial "$job" "$out" 120
    say "first trial recorded; scancel $job"
    timeout 10 scancel "$job" || fail "scancel failed"
    state="$(wait_job_end "$job" 60)" || fail "job $job did not end after scancel: $state"
    say "job $job ended: $state, exit code $(job_field "$job" ExitCode)"
    if grep -q "^finished " "$work/slurm-$job.out" 2>/dev/null; then
      fail "job $job finished its search although cancelled (scancel too late, or not acted on)"
    fi
    h5dump -H "$out" >/dev/null || fail "h5dump cannot read $out after scancel"
    results check "$out" interrupted || fail "wrong result file after scancel"

    job="$(submit "$work/slow search.yaml" "$out")" || fail "submit.sh failed (resume)"
    jobs_submitted+=("$job")
    say "resubmitted as job $job"
    expect_job "$job" COMPLETED 0:0 360
    log_of "$job" | grep -q -- "--resume" || fail "the second job did not add --resume"
    results check "$out" finished "$slow_trials" || fail "wrong result file after resume"
    ;;

  requeue)
    job="$(submit "$work/slow search.yaml" "$out")" || fail "submit.sh failed"
    jobs_submitted+=("$job")
    say "submitted job $job"
    wait_first_trial "$job" "$out" 120
    # What Slurm does LEAD seconds before the time limit with --signal=B:USR1@LEAD.
    say "first trial recorded; SIGUSR1 to the batch shell of job $job"
    timeout 10 scancel --batch --signal=USR1 "$job" || fail "scancel --batch --signal=USR1 failed"
    deadline="$(deadline_in 60)"
    until [ "$(job_field "$job" Restarts)" -ge 1 ] 2>/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || fail "job $job was not requeued within 60 s"
      if [ "$(job_field "$job" JobState)" = COMPLETED ] &&
        grep -q "^finished " "$work/slurm-$job.out" 2>/dev/null; then
        fail "job $job finished its search although signalled (signal too late, or not acted on)"
      fi
      sleep 1
    done
    say "job $job requeued ($(job_field "$job" JobState))"
    expect_job "$job" COMPLETED 0:0 420
    log_of "$job" | grep -q "requeueing job $job" || fail "the log does not show the requeue"
    log_of "$job" | grep -q "job $job, restart 1" || fail "the log does not show the restart"
    log_of "$job" | grep -q -- "--resume" || fail "the requeued job did not add --resume"
    results check "$out" finished "$slow_trials" || fail "wrong result file after the requeue"
    ;;
esac
say "PASSED"
