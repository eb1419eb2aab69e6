#!/usr/bin/python3
"""One network, many seeds: the test accuracy of the same hyperparameters in hpsearch and in the
PyTorch peer of the search benchmark, seed by seed.

A search's incumbent is one training run of its best configuration, so its test accuracy
carries that run's luck: the weight initialization, the batch order, the dropout masks and the
validation split that picks its best epoch. This script measures that spread, for both
implementations the search benchmark compares (scripts/search_benchmark.sh), on one config.

Usage:
  /usr/bin/python3 scripts/seed_spread.py [--config configs/seed_spread.yaml] [--seeds 8]
      [--trial RUN:N] [--jobs 2] [--sides both|hpsearch|pytorch] [--out results/seed_spread]
      [--force] [--build-dir build]
(scripts/seed_spread.sh installs what is missing, builds, and runs this.)

CONFIG is an `hpsearch train` config on Fashion-MNIST that the PyTorch peer can train too:
adam, relu, standardized features, a 10% validation split, early stopping on val_accuracy
with min_delta 0 and restore_best_weights. For each seed s in 1..SEEDS:
  hpsearch  build/hpsearch train on CONFIG with `seed: s` (split, initialization, batch
            order and dropout all follow it), one thread;
  PyTorch   train_network of scripts/optuna_search.py (the benchmark's Optuna objective) on
            the split drawn with s, with torch.manual_seed(s), one thread.
--trial RUN:N takes the network of trial N of a search run instead of CONFIG's: RUN is an
hpsearch search result file (.h5) or an output folder of scripts/optuna_search.py (its
trials.csv); its hidden layers, learning rate, batch size, dropout, l1 and l2 replace CONFIG's,
and everything else (data, training rule) stays CONFIG's. For an hpsearch trial, the fixed
settings it records (max_epochs, patience, optimizer, activation) must match CONFIG's. The
config actually trained is written to OUT/config.yaml.
JOBS runs at a time, an hpsearch run and a PyTorch run side by side with the default 2.
--sides hpsearch (or pytorch) trains with that implementation only, e.g. to compare two
configs' spreads under one implementation; the other side's columns are then left out.
Writes OUT/seed_spread.md (a table per seed, then mean, standard deviation, min and max) and
prints it; the per-seed configs and result files stay in OUT. An OUT that already holds a
seed_spread.md is refused unless --force is given (then its files are replaced).
"""
import argparse
import concurrent.futures
import copy
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import optuna_search as peer  # noqa: E402

PROGRAM = "seed_spread"

# What the PyTorch peer does; CONFIG must say the same (a missing key takes hpsearch's
# default, given here where it matters).
EXPECTED = {
    ("data", "task"): ("classification", "classification"),
    ("data", "validation_fraction"): (peer.VALIDATION_FRACTION, 0.1),
    ("data", "scaling"): ("standardize", "standardize"),
    ("data", "train", "images"): (f"{peer.DATA}/train-images-idx3-ubyte.gz", None),
    ("data", "train", "labels"): (f"{peer.DATA}/train-labels-idx1-ubyte.gz", None),
    ("data", "test", "images"): (f"{peer.DATA}/t10k-images-idx3-ubyte.gz", None),
    ("data", "test", "labels"): (f"{peer.DATA}/t10k-labels-idx1-ubyte.gz", None),
    ("model", "activation"): ("relu", "relu"),
    ("model", "init"): ("he", "he"),
    ("training", "optimizer"): ("adam", None),
    ("training", "beta1"): (0.9, 0.9),
    ("training", "beta2"): (0.999, 0.999),
    ("training", "epsilon"): (1e-8, 1e-8),
    ("early_stopping", "enabled"): (True, True),
    ("early_stopping", "monitor"): ("val_accuracy", "val_loss"),
    ("early_stopping", "min_delta"): (0.0, 0.0),
    ("early_stopping", "restore_best_weights"): (True, True),
}


def lookup(config, keys, default):
    node = config
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def hyperparameters(config, where):
    """The peer's form of CONFIG's network: PARAMS, hidden as a list of widths."""
    problems = []
    for keys, (want, default) in EXPECTED.items():
        got = lookup(config, keys, default)
        if got != want:
            problems.append(f"{'.'.join(keys)} is {got!r}, the PyTorch peer needs {want!r}")
    hidden = lookup(config, ("model", "hidden"), None)
    if not (isinstance(hidden, list) and hidden and all(isinstance(w, int) for w in hidden)):
        problems.append(f"model.hidden must be a list of layer widths, got {hidden!r}")
    values = {"hidden": hidden, "dropout": lookup(config, ("model", "dropout"), 0.0)}
    for name, default in [("learning_rate", None), ("batch_size", None), ("l1", 0.0),
                          ("l2", 0.0)]:
        values[name] = lookup(config, ("training", name), default)
        if not isinstance(values[name], (int, float)) or isinstance(values[name], bool):
            problems.append(f"training.{name} must be a number, got {values[name]!r}")
    if problems:
        raise SystemExit(f"{where}: " + "; ".join(problems))
    return values


def read_trial(spec):
    """The six searched values of trial N of RUN (spec "RUN:N"), and the fixed settings the
    run recorded for it ({} for an Optuna run)."""
    run, _, number = spec.rpartition(":")
    if not run or not number.isdigit():
        raise SystemExit(f"{PROGRAM}: --trial wants RUN:N (a result file or Optuna output "
                         f"folder, a trial number), got {spec!r}")
    run = Path(run)
    if run.is_dir():
        try:
            with open(run / "trials.csv", newline="") as f:
                rows = [row for row in csv.DictReader(f) if row["trial"] == number]
        except (OSError, KeyError, csv.Error) as error:
            raise SystemExit(f"{PROGRAM}: cannot read {run / 'trials.csv'}: {error}")
        if not rows:
            raise SystemExit(f"{PROGRAM}: {run / 'trials.csv'} has no trial {number}")
        row = rows[0]
        if any(row.get(name, "") == "" for name in peer.PARAMS):
            raise SystemExit(f"{PROGRAM}: {run / 'trials.csv'}: trial {number} "
                             f"({row.get('state', 'state unknown')}) has no recorded "
                             "hyperparameters; pick another trial")
        try:
            values = {"hidden": peer.hidden_widths(row["hidden"]),
                      "batch_size": int(row["batch_size"])}
            values.update({name: float(row[name])
                           for name in ("learning_rate", "dropout", "l1", "l2")})
        except (KeyError, ValueError) as error:
            raise SystemExit(f"{PROGRAM}: {run / 'trials.csv'}, trial {number}: {error}")
        return values, {}
    try:
        import h5py
    except ImportError:
        raise SystemExit(f"{PROGRAM}: reading {run} needs h5py (apt-get install python3-h5py; "
                         "scripts/seed_spread.sh installs it)")
    try:
        with h5py.File(run, "r") as f:
            if f.attrs.get("format") != "hpsearch-search":
                raise SystemExit(f"{PROGRAM}: {run} is not an hpsearch search result file")
            if f"trials/{number}" not in f:
                raise SystemExit(f"{PROGRAM}: {run} has no trial {number}")
            attrs = dict(f[f"trials/{number}"].attrs)
    except OSError as error:
        raise SystemExit(f"{PROGRAM}: cannot read {run}: {error}")
    missing = [name for name in peer.PARAMS if name not in attrs]
    if missing:
        raise SystemExit(f"{PROGRAM}: {run}, trial {number}: no {', '.join(missing)} "
                         "attribute (every trial of a current hpsearch records all six, "
                         "searched or fixed)")
    plain = lambda v: v.item() if hasattr(v, "item") else v  # noqa: E731
    values = {"hidden": [int(w) for w in attrs["hidden"]]}
    values.update({name: plain(attrs[name]) for name in peer.PARAMS if name != "hidden"})
    fixed = {name: plain(attrs[name]) for name in ("max_epochs", "patience", "optimizer",
                                                  "activation") if name in attrs}
    return values, fixed


def with_trial(config, spec, where):
    """CONFIG with the network of trial spec ("RUN:N") in place of its own."""
    values, fixed = read_trial(spec)
    config = copy.deepcopy(config)
    rule = peer.TrainingRule(config, where)
    ours = {"max_epochs": rule.max_epochs, "patience": rule.patience,
            "optimizer": lookup(config, ("training", "optimizer"), None),
            "activation": lookup(config, ("model", "activation"), "relu")}
    differ = [f"{name} {value!r} (config: {ours[name]!r})" for name, value in fixed.items()
              if value != ours[name]]
    if differ:
        raise SystemExit(f"{where}: trial {spec} was trained with " + ", ".join(differ))
    config.setdefault("model", {})
    config.setdefault("training", {})
    config["model"]["hidden"] = values["hidden"]
    config["model"]["dropout"] = values["dropout"]
    for name in ("learning_rate", "batch_size", "l1", "l2"):
        config["training"][name] = values[name]
    return config


def run_hpsearch(binary, config, seed, out):
    """`hpsearch train` with `seed: s`; returns its validation/test accuracy and epochs."""
    path = out / f"hpsearch_seed{seed}.yaml"
    with open(path, "w") as f:
        yaml.safe_dump(dict(config, seed=seed), f, sort_keys=False, default_flow_style=None)
    result_file = out / f"hpsearch_seed{seed}.h5"
    done = subprocess.run([str(binary), "train", "--quiet", "--force", "--out",
                           str(result_file), str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hpsearch train {path} failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    fields = {
        "epochs": r"^epochs: (\d+), best epoch: (\d+)",
        "val_accuracy": r"^validation \(\d+ samples\): loss \S+, accuracy (\S+)",
        "test_accuracy": r"^test \(\d+ samples\): loss \S+, accuracy (\S+)",
    }
    result = {}
    for key, pattern in fields.items():
        match = re.search(pattern, done.stdout, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"hpsearch train {path}: no line matching {pattern!r} in its "
                               f"output:\n{done.stdout}")
        if key == "epochs":
            result["epochs"], result["best_epoch"] = int(match[1]), int(match[2])
        else:
            result[key] = float(match[1])
    return result


def run_pytorch(config_path, seed):
    """This script again with --pytorch-seed (one process per run, like the peer's workers)."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--config",
                           str(config_path), "--pytorch-seed", str(seed)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"PyTorch run with seed {seed} failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pytorch_one(config_path, seed):
    import torch
    torch.set_num_threads(1)
    where = f"{PROGRAM}: {config_path}"
    config = peer.read_config(config_path, PROGRAM)
    values = hyperparameters(config, where)
    result = peer.train_network(peer.load_data(seed), values, peer.TrainingRule(config, where),
                                seed)
    if result["end"] == "diverged":
        raise SystemExit(f"{where}: the PyTorch run with seed {seed} diverged")
    print(json.dumps(result))


SIDE_NAMES = {"hpsearch": "hpsearch", "pytorch": "PyTorch"}


def summary_rows(results, sides):
    rows = []
    for name, pick in [("mean", statistics.mean), ("standard deviation", statistics.stdev),
                       ("min", min), ("max", max)]:
        cells = []
        for side in sides:
            val = [r["val_accuracy"] for r in results[side]]
            test = [r["test_accuracy"] for r in results[side]]
            cells.append(f" {pick(val):.4f} / {pick(test):.4f} | |")
        rows.append(f"| {name} |" + "".join(cells))
    return rows


def report(source, results, seeds, sides):
    lines = [f"{source} (as trained: config.yaml beside this file), seeds 1-{seeds}: the same "
             "network trained once per seed. "
             "\"val / test\": best validation accuracy and the test accuracy of those "
             "weights.", "",
             "| seed |" + "".join(f" {SIDE_NAMES[side]} val / test | epochs (best) |"
                                  for side in sides),
             "|---:|" + "---:|---:|" * len(sides)]
    for i in range(seeds):
        cells = []
        for side in sides:
            r = results[side][i]
            cells.append(f" {r['val_accuracy']:.4f} / {r['test_accuracy']:.4f} | "
                         f"{r['epochs']} ({r['best_epoch']}) |")
        lines.append(f"| {i + 1} |" + "".join(cells))
    if seeds >= 2:
        lines += summary_rows(results, sides)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module docstring for what each run does.")
    parser.add_argument("--config", type=Path, default=Path("configs/seed_spread.yaml"),
                        help="hpsearch train config (default configs/seed_spread.yaml)")
    parser.add_argument("--trial", metavar="RUN:N",
                        help="train trial N of a search run (result file or Optuna folder)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 1..N (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--sides", choices=["both", "hpsearch", "pytorch"], default="both",
                        help="train with both implementations (default) or one")
    parser.add_argument("--out", type=Path, default=Path("results/seed_spread"),
                        help="output directory (default results/seed_spread)")
    parser.add_argument("--force", action="store_true",
                        help="replace an earlier measurement in OUT")
    parser.add_argument("--build-dir", type=Path, default=Path("build"),
                        help="where build/hpsearch is (default build)")
    parser.add_argument("--pytorch-seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.pytorch_seed is not None:
        pytorch_one(args.config, args.pytorch_seed)
        return
    if args.seeds < 1 or args.jobs < 1:
        parser.error(f"--seeds and --jobs must be at least 1 (got {args.seeds}, {args.jobs})")
    binary = args.build_dir / "hpsearch"
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{PROGRAM}: no {binary}; build first (scripts/build.sh)")
    where = f"{PROGRAM}: {args.config}"
    config = peer.read_config(args.config, PROGRAM)
    if args.trial is not None:
        config = with_trial(config, args.trial, where)
    hyperparameters(config, where)  # one the peer cannot train fails here
    if (args.out / "seed_spread.md").exists() and not args.force:
        raise SystemExit(f"{PROGRAM}: {args.out} holds an earlier measurement (seed_spread.md); "
                         "pass --force to replace it, or --out for another folder")
    args.out.mkdir(parents=True, exist_ok=True)
    source = (f"The network of trial {args.trial} in config {args.config}" if args.trial
              else f"Config {args.config}")
    config_path = args.out / "config.yaml"
    with open(config_path, "w") as f:
        f.write(f"# Written by scripts/seed_spread.py. {source}\n")
        yaml.safe_dump(config, f, sort_keys=False, default_flow_style=None)

    sides = ["hpsearch", "pytorch"] if args.sides == "both" else [args.sides]
    results = {side: [None] * args.seeds for side in sides}
    run = {"hpsearch": lambda seed: run_hpsearch(binary, config, seed, args.out),
           "pytorch": lambda seed: run_pytorch(config_path, seed)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for seed in range(1, args.seeds + 1):  # interleaved: the two sides share the cores
            for side in sides:
                futures[pool.submit(run[side], seed)] = (side, seed)
        for future in concurrent.futures.as_completed(futures):
            side, seed = futures[future]
            try:
                results[side][seed - 1] = future.result()
            except RuntimeError as error:
                for other in futures:
                    other.cancel()
                raise SystemExit(f"{PROGRAM}: {error}")
            r = results[side][seed - 1]
            print(f"{PROGRAM}: {side} seed {seed}: val {r['val_accuracy']:.4f}, "
                  f"test {r['test_accuracy']:.4f}, {r['epochs']} epochs", flush=True)

    text = report(source, results, args.seeds, sides)
    (args.out / "seed_spread.md").write_text(text)
    print(text, end="")
    if any(math.isnan(r["test_accuracy"]) for side in results.values() for r in side):
        raise SystemExit(f"{PROGRAM}: some run has no test accuracy (see the table)")


if __name__ == "__main__":
    main()
