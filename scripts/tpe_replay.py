#!/usr/bin/env python3
"""Replays the ranking behind every TPE draw of a recorded TPE + ASHA search.

For each trial TPE drew (after its random start), this takes the trials that had finished when
the trial started (finished_at - seconds in /summary) and splits them into TPE's "good" group
two ways:

  finished first   Optuna's TPESampler rule (hpsearch's default before 0.2.0): trials that
                   ran to the end rank above pruned ones, pruned ones that ran more epochs
                   above those that ran fewer, then by best monitored value;
  equal budget     BOHB's idea (Falkner et al., ICML 2018): compare every trial at the largest
                   budget (an ASHA rung, or the epoch cap) that at least --min-trials of them
                   reached, by the best value each had by then; trials that did not reach it
                   follow, ranked by the first rule.

and prints both groups beside what TPE then drew, so one can see whether trials that got
through ASHA's rungs early (with few others to beat) steered the sampler. The good group's
size is TPE's: ceil(gamma * n), at least 1, at most 25, at most the usable trials. Failed
trials are left out, as TPE never sees them; diverged ones rank last under both rules.

`search.tpe.ranking: equal_budget` (the default since hpsearch 0.2.0) runs the second rule in
hpsearch itself (core/tpe.cpp); the first line of the output says which rule the run used. The
two agree on ASHA runs once --min-trials usable trials have finished, except that this script
cuts curves at asha.max_epochs where that is below training.max_epochs and counts any list in
the space as searched.

The draw times are approximate (a trial's start is its finish time less its training time), so
a trial finishing within a second of another's start may be counted on the wrong side.

Usage: /usr/bin/python3 scripts/tpe_replay.py RESULT.h5 [--min-trials N] [--first N] [--last N]
"""
import argparse
import math
import sys

import yaml

try:
    import h5py
except ImportError:
    sys.exit("tpe_replay: needs h5py (apt-get install python3-h5py; "
             "run it with /usr/bin/python3)")

PROGRAM = "tpe_replay"
MAX_BELOW = 25  # core/tpe.cpp's kMaxBelow
NOT_USABLE = {"failed", "diverged"}


def text(value):
    return bytes(value).split(b"\0", 1)[0].decode() if isinstance(value, (bytes, bytearray)) \
        else str(value)


def block(config, *keys):
    """config[keys[0]][keys[1]]..., or {} where a level is missing."""
    node = config
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def budgets_of(config):
    """ASHA's rung epochs and the epoch cap, as core/scheduler.cpp places them."""
    asha = block(config, "search", "asha")
    cap = int(block(config, "training").get("max_epochs", 50))  # core/config.hpp's default
    eta = int(asha.get("reduction_factor", 3))
    first = int(asha.get("min_epochs", 1))
    grace = int(asha.get("grace", 0))
    top = int(asha.get("max_epochs", 0)) or cap
    rungs, k = [], 0
    while first * eta ** (grace + k) < top:
        rungs.append(first * eta ** (grace + k))
        k += 1
    return rungs + [top]


def read(path, program=PROGRAM):
    """(config, ranking, maximize, trials, searched) of a TPE + ASHA result; each trial has its
    status, finish and start times, monitored curve ("values"), label and the raw /summary
    values of the searched parameters ("params"). Exits as `program` on a bad file."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        sys.exit(f"{program}: cannot open {path}: {e}")
    with f:
        for name in ("config", "monitor", "monitor_mode", "strategy", "scheduler"):
            if name not in f.attrs:
                sys.exit(f"{program}: {path} has no '{name}' attribute (an hpsearch search result?)")
        if text(f.attrs["strategy"]) != "tpe" or text(f.attrs["scheduler"]) != "asha":
            sys.exit(f"{program}: {path} is a {text(f.attrs['strategy'])} search with scheduler "
                     f"{text(f.attrs['scheduler'])}; this replays strategy tpe with scheduler asha")
        try:
            config = yaml.safe_load(text(f.attrs["config"]))
        except yaml.YAMLError as e:
            sys.exit(f"{program}: {path}: the recorded config is not YAML: {e}")
        # Files from hpsearch 0.2.0 on record the ranking; before, finished_first unless named.
        ranking = (text(f.attrs["tpe_ranking"]) if "tpe_ranking" in f.attrs
                   else block(config, "search", "tpe").get("ranking", "finished_first"))
        monitor = text(f.attrs["monitor"])
        maximize = text(f.attrs["monitor_mode"]) == "max"
        table = f["summary"][()]
        fields = table.dtype.names
        for needed in ("trial", "status", "seconds", "finished_at"):
            if needed not in fields:
                sys.exit(f"{program}: {path}: /summary has no '{needed}' column")
        trials = {}
        for row in table:
            tid = int(row["trial"])
            where = f"trials/{tid}/history/{monitor}"
            if where not in f:
                sys.exit(f"{program}: {path}: trial {tid} has no {where}")
            values = [float(v) for v in f[where][()]]
            trials[tid] = {
                "status": text(row["status"]),
                "finish": float(row["finished_at"]),
                "start": float(row["finished_at"]) - float(row["seconds"]),
                "values": values,
                "label": label(row, fields),
                "params": {name: row[name] for name in block(config, "search", "space")
                           if name in fields},
            }
    searched = sum(1 for v in block(config, "search", "space").values()
                   if isinstance(v, (list, dict)))
    return config, ranking, maximize, trials, searched


def label(row, fields):
    """Hidden layout, learning rate and batch size, where /summary has them."""
    parts = []
    if "hidden" in fields:
        parts.append("hidden " + text(row["hidden"]).replace(" ", ""))
    if "learning_rate" in fields:
        parts.append(f"lr {float(row['learning_rate']):.1e}")
    if "batch_size" in fields:
        parts.append(f"batch {int(row['batch_size'])}")
    return ", ".join(parts) or "(fixed)"


def best(values, maximize, epochs=None):
    finite = [v for v in values[:epochs] if math.isfinite(v)]
    if not finite:
        return math.nan
    return max(finite) if maximize else min(finite)


def usable(trial, maximize):
    return trial["status"] not in NOT_USABLE and math.isfinite(best(trial["values"], maximize))


def finished_first(ids, trials, maximize):
    sign = -1 if maximize else 1

    def key(tid):
        t = trials[tid]
        if not usable(t, maximize):
            return (1, 0, 0, 0, tid)
        pruned = t["status"] == "pruned"
        return (0, int(pruned), -len(t["values"]) if pruned else 0,
                sign * best(t["values"], maximize), tid)
    return sorted(ids, key=key)


def reached(trial, budget):
    return trial["status"] != "pruned" or len(trial["values"]) >= budget


def equal_budget(ids, trials, maximize, budgets, min_trials):
    ok = [tid for tid in ids if usable(trials[tid], maximize)]
    budget = budgets[0]
    for b in budgets:
        if sum(reached(trials[tid], b) for tid in ok) >= min_trials:
            budget = b
    sign = -1 if maximize else 1
    at_budget = sorted((tid for tid in ok if reached(trials[tid], budget)),
                       key=lambda tid: (sign * best(trials[tid]["values"], maximize, budget), tid))
    chosen = set(at_budget)
    return budget, at_budget + [tid for tid in finished_first(ids, trials, maximize)
                                if tid not in chosen]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", help="an hpsearch result file of a TPE + ASHA search")
    parser.add_argument("--min-trials", type=int, default=None,
                        help="trials a budget needs to be compared at (default: searched "
                             "hyperparameters + 3, BOHB's N_min + 2 with N_min = d + 1)")
    parser.add_argument("--first", type=int, default=0, help="first trial id to show")
    parser.add_argument("--last", type=int, default=None, help="last trial id to show")
    args = parser.parse_args()

    config, ranking, maximize, trials, searched = read(args.result)
    min_trials = args.min_trials if args.min_trials is not None else searched + 3
    if min_trials < 1:
        sys.exit(f"{PROGRAM}: --min-trials must be at least 1, got {min_trials}")
    budgets = budgets_of(config)
    startup = int(block(config, "search", "tpe").get("startup_trials", 10))
    gamma = float(block(config, "search", "tpe").get("gamma", 0.1))

    print(f"{args.result}: budgets {budgets} epochs, compared at the largest with at least "
          f"{min_trials} trials; TPE start {startup} trials, gamma {gamma}; the run drew "
          f"with ranking {ranking}")
    print("trial | start min | finished | budget | good group, finished first | "
          "good group, equal budget | drew")
    draws = same = 0
    overlap = 0.0
    for tid in sorted(trials):
        # As SearchState::finished(): failed trials are never shown to TPE.
        seen = [o for o in trials if o != tid and trials[o]["status"] != "failed"
                and trials[o]["finish"] <= trials[tid]["start"]]
        if len(seen) < startup:
            continue
        n = len(seen)
        below = min(max(math.ceil(gamma * n - 1e-9), 1), MAX_BELOW,
                    sum(usable(trials[o], maximize) for o in seen))
        old = finished_first(seen, trials, maximize)[:below]
        budget, ranked = equal_budget(seen, trials, maximize, budgets, min_trials)
        new = ranked[:below]
        draws += 1
        same += set(old) == set(new)
        overlap += len(set(old) & set(new)) / max(below, 1)
        if tid < args.first or (args.last is not None and tid > args.last):
            continue
        t = trials[tid]
        print(f"{tid} | {t['start'] / 60:.1f} | {n} | {budget} | {' '.join(map(str, old))} | "
              f"{' '.join(map(str, new))} | {t['label']}, {t['status']} after "
              f"{len(t['values'])} epochs")
    if draws == 0:
        print(f"no TPE draws: fewer than {startup} trials had finished before any trial started")
        return
    print(f"\n{draws} TPE draws; the two good groups were the same set for {same} "
          f"({100 * same / draws:.0f}%), with {100 * overlap / draws:.0f}% of members in common "
          f"on average")
    print("\ntrials:")
    for o in sorted(trials):
        t = trials[o]
        print(f"  {o}: {t['label']}, {t['status']} after {len(t['values'])} epochs, best "
              f"{best(t['values'], maximize):.4f}")


if __name__ == "__main__":
    main()
