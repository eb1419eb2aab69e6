#!/usr/bin/python3
"""Replays the first trials of an hpsearch search result to Optuna's TPESampler and counts how
often it proposes a value below a threshold, beside how often hpsearch's own TPE proposes one
from the same trials and how often hpsearch drew one afterwards.

Usage:
  /usr/bin/python3 scripts/optuna_draws.py RESULT.h5 --first N [--param learning_rate]
      [--below 1e-4] [--draws 200] [--tpe-draws build/tests/tpe_draws]

Trials 0 to N-1 of RESULT.h5 (a TPE + ASHA search, read by scripts/tpe_replay.py's reader)
become Optuna trials: finished ones COMPLETE with their best monitored value, pruned ones PRUNED
with their running best per epoch as intermediate values; failed and diverged ones are left
out. The space is the file's config, turned into distributions as scripts/optuna_search.py
suggests them. For univariate and for multivariate TPE
(Optuna's defaults otherwise), each of --draws fresh studies with its own sampler seed asks
for one point; the script prints how many of them put PARAM below the threshold.

Optuna before 3.5 scores its numeric kernels without the 1 / sigma of a normal density
(`_truncnorm.logpdf` leaves out log(scale): Optuna issue #5109, fixed by pull request #5110),
so its l(x) / g(x) is not the ratio of the two Parzen densities. Where the installed Optuna
has that bug (Debian 12's 3.1 does), the script asks it a second time with the fix applied in
this process (log(scale) subtracted, as #5110 does), which is the density hpsearch uses.

Then it runs tests/benchmarks/tpe_draws (built with the benchmarks; --tpe-draws names it),
which asks hpsearch's TPE for the same number of points from the same trials, ranked as that
search ranked them, and prints how many of hpsearch's own trials from N on drew a value below
the threshold. Optuna ranks pruned trials by its own rule, not by hpsearch's equal budget; the
two agree once enough trials ran to the end (see scripts/tpe_replay.py).
"""
import argparse
import math
import subprocess
import sys
import warnings
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import optuna_search as peer  # noqa: E402  the benchmark's Optuna side: its space parser
import tpe_replay  # noqa: E402  the result-file reader

try:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial
except ImportError:
    sys.exit("optuna_draws: needs Optuna: apt-get install python3-optuna")

PROGRAM = "optuna_draws"


ROOT = Path(__file__).resolve().parent.parent


def distributions(space, where):
    """Optuna's distributions for an hpsearch space, as optuna_search.py suggests them."""
    out = {}
    for name, value in space.items():
        form, args = peer.Settings.parse(where, name, value)
        if form == "choice":
            out[name] = CategoricalDistribution(args)
        elif form == "int_uniform":
            out[name] = IntDistribution(int(args[0]), int(args[1]))
        else:
            out[name] = FloatDistribution(args[0], args[1], log=form == "log_uniform")
    return out


def param_value(name, raw, dist, where):
    """A /summary value as the distribution holds it ("hidden": "[512, 256]" -> "512-256")."""
    if name == "hidden":
        raw = yaml.safe_load(tpe_replay.text(raw))
        return "-".join(str(int(w)) for w in (raw if isinstance(raw, list) else [raw]))
    if isinstance(dist, CategoricalDistribution):
        for choice in dist.choices:
            if choice == raw or str(choice) == tpe_replay.text(raw):
                return choice
        sys.exit(f"{where}: {name} = {tpe_replay.text(raw)} is none of {list(dist.choices)}")
    return int(raw) if isinstance(dist, IntDistribution) else float(raw)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--param", default="learning_rate")
    parser.add_argument("--below", type=float, default=1e-4)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--tpe-draws", default=str(ROOT / "build" / "tests" / "tpe_draws"),
                        help="hpsearch's tests/benchmarks/tpe_draws program")
    args = parser.parse_args()
    if args.first < 1 or args.draws < 1:
        sys.exit(f"{PROGRAM}: --first and --draws must be at least 1")

    config, _, maximize, rows, _ = tpe_replay.read(args.result, PROGRAM)
    where = f"{PROGRAM}: {args.result}"
    dists = distributions(tpe_replay.block(config, "search", "space"), where)
    if not isinstance(dists.get(args.param), FloatDistribution):
        sys.exit(f"{PROGRAM}: {args.param} is not a numeric parameter of the space "
                 f"({', '.join(dists)})")
    trials = []
    for trial_id in range(args.first):
        row = rows.get(trial_id)
        if row is None or row["status"] in tpe_replay.NOT_USABLE:
            continue
        best, curve = -math.inf if maximize else math.inf, {}
        for epoch, value in enumerate(row["values"]):
            if math.isfinite(value):
                best = max(best, value) if maximize else min(best, value)
            if math.isfinite(best):
                curve[epoch] = best
        pruned = row["status"] == "pruned"
        if not pruned and not math.isfinite(best):
            continue
        trials.append(create_trial(
            state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
            value=None if pruned else best, intermediate_values=curve,
            params={n: param_value(n, row["params"][n], d, f"{where}: trial {trial_id}")
                    for n, d in dists.items()},
            distributions=dists))

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # multivariate=True is marked experimental
    fixes = (False, True) if peer.logpdf_lacks_scale() else (False,)
    for fixed in fixes:
        version = f"Optuna {optuna.__version__}" + (" with #5110's logpdf" if fixed else "")
        with peer.scaled_logpdf(fixed):
            for multivariate in (False, True):
                low = 0
                for seed in range(args.draws):
                    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate)
                    study = optuna.create_study(
                        direction="maximize" if maximize else "minimize", sampler=sampler)
                    study.add_trials(trials)
                    low += study.ask(dists).params[args.param] < args.below
                kind = "multivariate" if multivariate else "univariate"
                print(f"{version} TPE, {kind}, on trials 0 to {args.first - 1} "
                      f"({len(trials)} usable): {args.param} < {args.below:g} in {low} of "
                      f"{args.draws} proposals ({low / args.draws:.1%})")
    sys.stdout.flush()
    if Path(args.tpe_draws).is_file():
        done = subprocess.run([args.tpe_draws, args.result, str(args.first), str(args.draws),
                               args.param, repr(args.below)], check=False)
        if done.returncode != 0:
            sys.exit(f"{PROGRAM}: {args.tpe_draws} failed (exit {done.returncode})")
    else:
        print(f"({args.tpe_draws} is not built: scripts/build.sh builds it)")
    later = [float(r["params"][args.param]) for i, r in rows.items() if i >= args.first]
    below = sum(v < args.below for v in later)
    print(f"hpsearch drew {args.param} < {args.below:g} in {below} of its {len(later)} trials from "
          f"{args.first} on ({below / max(1, len(later)):.1%})")


if __name__ == "__main__":
    main()
