#!/usr/bin/python3
"""Replays the first trials of an hpsearch search result to Optuna's TPESampler and counts how
often it proposes a value below a threshold, beside how often hpsearch drew one afterwards.

Usage:
  /usr/bin/python3 scripts/optuna_draws.py RESULT.h5 --first N [--param learning_rate]
      [--below 1e-4] [--draws 200]

Trials 0 to N-1 of RESULT.h5 (a classification search, monitored by val_accuracy) become
Optuna trials: finished ones COMPLETE with their best validation accuracy, pruned ones PRUNED
with their running best per epoch as intermediate values; failed and diverged ones are left
out. The space is read from the file's config. For univariate and for multivariate TPE
(Optuna's defaults otherwise), each of --draws fresh studies with its own sampler seed asks
for one point; the script prints how many of them put PARAM below the threshold, and how many
of hpsearch's own trials from N on did. Optuna ranks pruned trials by its own rule, not by
hpsearch's equal budget, so the comparison is of the two samplers' habits, not a replay of
hpsearch's draws.
"""
import argparse
import sys
import warnings

import h5py
import yaml

try:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial
except ImportError:
    sys.exit("optuna_draws: needs Optuna: apt-get install python3-optuna")


def layout(value):
    return "-".join(str(w) for w in value) if isinstance(value, list) else str(value)


def distributions(space):
    out = {}
    for name, value in space.items():
        if isinstance(value, dict) and len(value) == 1:
            form, (lo, hi) = next(iter(value.items()))
            if form == "int_uniform":
                out[name] = IntDistribution(int(lo), int(hi))
            else:
                out[name] = FloatDistribution(float(lo), float(hi), log=form == "log_uniform")
        else:
            choices = value if isinstance(value, list) else [value]
            out[name] = CategoricalDistribution([layout(v) if name == "hidden" else v
                                                 for v in choices])
    return out


def param_value(row, name, dist):
    value = row[name]
    if name == "hidden":  # stored as text, "[512, 256]"
        return layout(yaml.safe_load(value.decode()))
    if isinstance(dist, CategoricalDistribution) or isinstance(dist, IntDistribution):
        return int(value)
    return float(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--param", default="learning_rate")
    parser.add_argument("--below", type=float, default=1e-4)
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    if args.first < 1 or args.draws < 1:
        sys.exit("optuna_draws: --first and --draws must be at least 1")

    try:
        f = h5py.File(args.result, "r")
    except OSError as error:
        sys.exit(f"optuna_draws: cannot read {args.result}: {error}")
    with f:
        if "summary" not in f or "config" not in f.attrs:
            sys.exit(f"optuna_draws: {args.result} is not an hpsearch search result")
        config = yaml.safe_load(f.attrs["config"])
        dists = distributions(config["search"]["space"])
        if args.param not in dists or not isinstance(dists[args.param], FloatDistribution):
            sys.exit(f"optuna_draws: {args.param} is not a numeric parameter of the space")
        rows = {int(r["trial"]): r for r in f["summary"][()]}
        trials = []
        for trial_id in range(args.first):
            row = rows.get(trial_id)
            if row is None or row["status"].decode() in ("failed", "diverged"):
                continue
            best, curve = float("-inf"), {}
            for epoch, acc in enumerate(f["trials"][str(trial_id)]["history"]["val_accuracy"][()]):
                best = max(best, float(acc))
                curve[epoch] = best
            pruned = row["status"].decode() == "pruned"
            trials.append(create_trial(
                state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
                value=None if pruned else best, intermediate_values=curve,
                params={n: param_value(row, n, d) for n, d in dists.items()}, distributions=dists))

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # multivariate=True is marked experimental
    for multivariate in (False, True):
        low = 0
        for seed in range(args.draws):
            study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(
                seed=seed, multivariate=multivariate))
            study.add_trials(trials)
            low += study.ask(dists).params[args.param] < args.below
        kind = "multivariate" if multivariate else "univariate"
        print(f"Optuna {optuna.__version__} TPE, {kind}, on trials 0 to {args.first - 1} "
              f"({len(trials)} usable): {args.param} < {args.below:g} in {low} of {args.draws} "
              f"proposals ({low / args.draws:.1%})")
    later = [r[args.param] for i, r in rows.items() if i >= args.first]
    below = sum(v < args.below for v in later)
    print(f"hpsearch drew {args.param} < {args.below:g} in {below} of its {len(later)} trials from "
          f"{args.first} on ({below / max(1, len(later)):.1%})")


if __name__ == "__main__":
    main()
