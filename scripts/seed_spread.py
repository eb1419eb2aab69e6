#!/usr/bin/python3
"""One network, many seeds: the test accuracy of the same hyperparameters in hpsearch and in the
PyTorch peer of the search benchmark, seed by seed.

A search's incumbent is one training run of its best configuration, so its test accuracy
carries that run's luck: the weight initialization, the batch order, the dropout masks and the
validation split that picks its best epoch. This script measures that spread, for both
implementations the search benchmark compares (scripts/search_benchmark.sh), on one config.

Usage:
  /usr/bin/python3 scripts/seed_spread.py [--config configs/seed_spread.yaml] [--seeds 8]
      [--jobs 2] [--out results/seed_spread] [--force] [--build-dir build]
(scripts/seed_spread.sh installs what is missing, builds, and runs this.)

CONFIG is an `hpsearch train` config on Fashion-MNIST that the PyTorch peer can train too:
adam, relu, standardized features, a 10% validation split, early stopping on val_accuracy
with min_delta 0 and restore_best_weights. For each seed s in 1..SEEDS:
  hpsearch  build/hpsearch train on CONFIG with `seed: s` (split, initialization, batch
            order and dropout all follow it), one thread;
  PyTorch   train_network of scripts/optuna_search.py (the benchmark's Optuna objective) on
            the split drawn with s, with torch.manual_seed(s), one thread.
JOBS runs at a time, an hpsearch run and a PyTorch run side by side with the default 2.
Writes OUT/seed_spread.md (a table per seed, then mean, standard deviation, min and max) and
prints it; the per-seed configs and result files stay in OUT. An OUT that already holds a
seed_spread.md is refused unless --force is given (then its files are replaced).
"""
import argparse
import concurrent.futures
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


def summary_rows(results):
    rows = []
    for name, pick in [("mean", statistics.mean), ("standard deviation", statistics.stdev),
                       ("min", min), ("max", max)]:
        cells = []
        for side in ("hpsearch", "pytorch"):
            val = [r["val_accuracy"] for r in results[side]]
            test = [r["test_accuracy"] for r in results[side]]
            cells.append(f"{pick(val):.4f} / {pick(test):.4f}")
        rows.append(f"| {name} | {cells[0]} | | {cells[1]} | |")
    return rows


def report(config_path, results, seeds):
    lines = [f"Config {config_path}, seeds 1-{seeds}: the same network trained once per seed. "
             "\"val / test\": best validation accuracy and the test accuracy of those "
             "weights.", "",
             "| seed | hpsearch val / test | epochs (best) | PyTorch val / test | "
             "epochs (best) |",
             "|---:|---:|---:|---:|---:|"]
    for i in range(seeds):
        h, p = results["hpsearch"][i], results["pytorch"][i]
        lines.append(f"| {i + 1} | {h['val_accuracy']:.4f} / {h['test_accuracy']:.4f} | "
                     f"{h['epochs']} ({h['best_epoch']}) | {p['val_accuracy']:.4f} / "
                     f"{p['test_accuracy']:.4f} | {p['epochs']} ({p['best_epoch']}) |")
    if seeds >= 2:
        lines += summary_rows(results)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module docstring for what each run does.")
    parser.add_argument("--config", type=Path, default=Path("configs/seed_spread.yaml"),
                        help="hpsearch train config (default configs/seed_spread.yaml)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 1..N (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
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
    config = peer.read_config(args.config, PROGRAM)
    hyperparameters(config, f"{PROGRAM}: {args.config}")  # one the peer cannot train fails here
    if (args.out / "seed_spread.md").exists() and not args.force:
        raise SystemExit(f"{PROGRAM}: {args.out} holds an earlier measurement (seed_spread.md); "
                         "pass --force to replace it, or --out for another folder")
    args.out.mkdir(parents=True, exist_ok=True)

    results = {"hpsearch": [None] * args.seeds, "pytorch": [None] * args.seeds}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {}
        for seed in range(1, args.seeds + 1):  # interleaved: the two sides share the cores
            futures[pool.submit(run_hpsearch, binary, config, seed, args.out)] = ("hpsearch",
                                                                                   seed)
            futures[pool.submit(run_pytorch, args.config, seed)] = ("pytorch", seed)
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

    text = report(args.config, results, args.seeds)
    (args.out / "seed_spread.md").write_text(text)
    print(text, end="")
    if any(math.isnan(r["test_accuracy"]) for side in results.values() for r in side):
        raise SystemExit(f"{PROGRAM}: some run has no test accuracy (see the table)")


if __name__ == "__main__":
    main()
