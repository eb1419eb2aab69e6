#!/usr/bin/env bash
# Starts or stops a real one-node Slurm cluster on this machine, for tests. Needs root and the
# Debian packages slurm-wlm and munge (scripts/install_deps.sh installs them).
#
# Usage:
#   eval "$(scripts/slurm/local_cluster.sh start)"   # prints: export SLURM_CONF=<dir>/slurm.conf
#   sbatch ...; squeue; ...
#   scripts/slurm/local_cluster.sh stop
#
# Everything lives in one directory: SLURM_TEST_DIR if set (it must not exist or be empty, and
# its path must have no spaces: slurm.conf cannot quote them), else a fresh mktemp directory. The
# cluster has its own munged (own key and socket, /etc/munge is not touched), its own ports (the
# first free pair from 6817, or SLURM_TEST_PORT and the port after it) and the hostname as its
# only node, addressed as 127.0.0.1. The state file (SLURM_TEST_STATE, default
# ${TMPDIR:-/tmp}/hpsearch-local-slurm.state) remembers the directory and the daemons' pids so
# that `stop` ends exactly those and removes the directory.
#
# Exit codes: 0 done; 77 Slurm cannot start here (not root, packages missing, a daemon failed;
# the reason is on stderr and nothing is left running); 1 misuse or a cluster already running.
# Every wait is bounded: start takes at most about 75 s (2 s here), stop about 15 s.
set -euo pipefail

state_file="${SLURM_TEST_STATE:-${TMPDIR:-/tmp}/hpsearch-local-slurm.state}"

log() { echo "local_cluster: $*" >&2; }

# Exit code 77 is what ctest's SKIP_RETURN_CODE and the tests take as "no Slurm here".
cannot_start() {
  log "cannot start Slurm: $*"
  exit 77
}

# True if a process with this pid runs the named program (guards against reused pids).
alive() {
  local pid="$1" name="$2"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# Ends the listed "name:pid" daemons: TERM, up to 10 s, then KILL.
end_daemons() {
  local entry pid name deadline
  for entry in "$@"; do
    name="${entry%%:*}" pid="${entry##*:}"
    if alive "$pid" "$name"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  deadline=$((SECONDS + 10))
  for entry in "$@"; do
    name="${entry%%:*}" pid="${entry##*:}"
    while alive "$pid" "$name" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if alive "$pid" "$name"; then
      log "$name (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Polls a command until it succeeds, the given number of seconds pass, or one of the started
# daemons dies.
wait_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds)) entry
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    for entry in ${started[@]+"${started[@]}"}; do
      alive "${entry##*:}" "${entry%%:*}" || return 1
    done
    sleep 0.5
  done
  return 1
}

# Why the named daemon (the last one started) is not ready: it exited, or is too slow.
why_not() {
  local entry="${started[${#started[@]} - 1]}"
  if alive "${entry##*:}" "$1"; then echo "did not get ready in time"; else echo "exited at start"; fi
}

start() {
  [ "$(id -u)" -eq 0 ] || cannot_start "must run as root (the test cluster runs slurmd and slurmctld as root)"
  local missing=() cmd
  for cmd in munged mungekey munge unmunge slurmctld slurmd slurmstepd sinfo sbatch squeue scontrol scancel; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] ||
    cannot_start "missing ${missing[*]}; install the Debian packages slurm-wlm and munge (scripts/install_deps.sh)"

  if [ -f "$state_file" ]; then
    # shellcheck disable=SC1090
    local old_dir old_pids
    old_dir="$(sed -n 's/^dir=//p' "$state_file")"
    old_pids="$(sed -n 's/^daemons=//p' "$state_file")"
    local entry
    for entry in $old_pids; do
      if alive "${entry##*:}" "${entry%%:*}"; then
        log "a test cluster is already running (directory $old_dir, state $state_file); run '$0 stop' first"
        exit 1
      fi
    done
    log "removing the stale state of a cluster that is no longer running ($old_dir)"
    [ -n "$old_dir" ] && [ -f "$old_dir/slurm.conf" ] && rm -rf -- "$old_dir"
    rm -f -- "$state_file"
  fi

  local dir
  if [ -n "${SLURM_TEST_DIR:-}" ]; then
    dir="$SLURM_TEST_DIR"
    case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
      log "SLURM_TEST_DIR=$dir is not empty; give a new or empty directory"
      exit 1
    fi
    mkdir -p "$dir"
  else
    dir="$(mktemp -d "${TMPDIR:-/tmp}/hpsearch-slurm.XXXXXX")"
  fi
  case "$dir" in *[[:space:]]*)
    rmdir "$dir" 2>/dev/null || true
    log "the cluster directory '$dir' has whitespace, which slurm.conf cannot hold"
    exit 1
    ;;
  esac

  local started=()
  # On any failure from here on: show why, end what was started, remove the directory.
  fail() {
    local f
    for f in "$dir"/log/*.log; do
      [ -s "$f" ] || continue
      echo "---- last lines of $f" >&2
      tail -n 8 "$f" >&2
    done
    end_daemons ${started[@]+"${started[@]}"}
    rm -rf -- "$dir"
    rm -f -- "$state_file"
    cannot_start "$*"
  }

  # munged checks that every directory up to its socket is searchable by all.
  chmod 755 "$dir"
  mkdir -m 700 "$dir/munge"
  mkdir -m 755 "$dir/run" "$dir/log" "$dir/state" "$dir/spool"

  local node ctld_port slurmd_port
  node="$(hostname -s)"
  if [ -n "${SLURM_TEST_PORT:-}" ]; then
    ctld_port="$SLURM_TEST_PORT"
    if port_in_use "$ctld_port" || port_in_use $((ctld_port + 1)); then
      fail "SLURM_TEST_PORT: port $ctld_port or $((ctld_port + 1)) is in use"
    fi
  else
    ctld_port=6817
    while port_in_use "$ctld_port" || port_in_use $((ctld_port + 1)); do
      ctld_port=$((ctld_port + 2))
      [ "$ctld_port" -lt 6917 ] || fail "no free port pair between 6817 and 6917"
    done
  fi
  slurmd_port=$((ctld_port + 1))

  cat >"$dir/slurm.conf" <<EOF
# Test cluster written by scripts/slurm/local_cluster.sh; removed by '$0 stop'.
ClusterName=hpsearch-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also delays the restart of a requeued job (default 120 s).
AuthInfo=socket=$dir/run/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: containers and CI machines rarely allow them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
# Requeued jobs (scontrol requeue, sbatch --requeue) must come back for hpsearch's resume.
JobRequeue=1
ReturnToService=2
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to scontrol long enough for a test to read their state.
MinJobAge=600
KillWait=30
InactiveLimit=0
SchedulerParameters=sched_interval=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  local conf="$dir/slurm.conf"
  export SLURM_CONF="$conf"

  {
    echo "dir=$dir"
    echo "conf=$conf"
    echo "daemons="
  } >"$state_file"
  # Starts a daemon in its own session, with every descriptor on a log file (a daemon holding
  # the caller's stdout would keep ctest waiting), and records its pid once the program runs
  # under its own name (until setsid has exec'd it, the pid still shows the shell).
  launch() {
    local name="$1" pid deadline=$((SECONDS + 5))
    shift
    setsid "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
    pid=$!
    while ! alive "$pid" "$name" && kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.1
    done
    started+=("$name:$pid")
    sed -i "s|^daemons=.*|daemons=${started[*]}|" "$state_file"
  }

  mungekey -c -k "$dir/munge/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
  chmod 400 "$dir/munge/munge.key"

  launch munged munged --foreground --socket="$dir/run/munge.socket" \
    --key-file="$dir/munge/munge.key" --log-file="$dir/log/munged.log" \
    --pid-file="$dir/run/munged.pid" --seed-file="$dir/munge/munged.seed"
  munge_ok() { munge -S "$dir/run/munge.socket" -n | unmunge -S "$dir/run/munge.socket"; }
  wait_for 10 munge_ok || fail "munged $(why_not munged) (log: $dir/log/munged.log)"

  launch slurmctld slurmctld -D -i -f "$conf"
  ctld_up() { timeout 5 scontrol ping | grep -q "is UP"; }
  wait_for 20 ctld_up || fail "slurmctld $(why_not slurmctld) (log: $dir/log/slurmctld.log)"

  launch slurmd slurmd -D -N "$node" -f "$conf"
  node_idle() { [ "$(timeout 5 sinfo -h -N -n "$node" -o %t)" = "idle" ]; }
  wait_for 30 node_idle ||
    fail "slurmd $(why_not slurmd): sinfo says '$(timeout 5 sinfo -h -N -o '%N %t %E' 2>&1)' (log: $dir/log/slurmd.log)"

  log "Slurm is up: node $node, $(nproc) CPUs, ports $ctld_port/$slurmd_port, directory $dir"
  printf 'export SLURM_CONF=%q\n' "$conf"
}

stop() {
  if [ ! -f "$state_file" ]; then
    log "no test cluster to stop (no state file $state_file)"
    return 0
  fi
  local dir daemons entry reversed=()
  dir="$(sed -n 's/^dir=//p' "$state_file")"
  daemons="$(sed -n 's/^daemons=//p' "$state_file")"
  for entry in $daemons; do reversed=("$entry" "${reversed[@]}"); done
  # slurmd first, munged last: the Slurm daemons authenticate through munged while they stop.
  end_daemons "${reversed[@]}"
  if [ -n "$dir" ] && [ -f "$dir/slurm.conf" ]; then rm -rf -- "$dir"; fi
  rm -f -- "$state_file"
  log "stopped (${daemons:-nothing was running}), removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 1
    ;;
esac
