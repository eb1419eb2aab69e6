#!/usr/bin/python3
"""The Optuna + PyTorch peer of an hpsearch search, for scripts/search_benchmark.sh.

Searches the space of an hpsearch config (its search.space) on Fashion-MNIST with Optuna's TPE
sampler and median pruner, training PyTorch MLPs in parallel worker processes, under a hard
wall-clock budget.

Usage:
  /usr/bin/python3 scripts/optuna_search.py --config CONFIG --out DIR --budget SECONDS
      [--workers 2] [--seed 11] [--train-limit N] [--logpdf-fix]

From CONFIG (an hpsearch YAML file, e.g. configs/search_benchmark_tpe_asha.yaml) it takes
search.space, training.max_epochs, early_stopping.patience (defaults 50 and 5, as in
hpsearch) and training.reduce_lr_on_plateau (off unless given; defaults factor 0.3, patience 3,
min_lr 0, as in hpsearch). The space must give the six hyperparameters hidden, learning_rate, batch_size,
dropout, l1 and l2, each as a list of choices ("hidden" choices are lists of widths),
{uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int_uniform: [lo, hi]} or a single value.

The launcher creates the study in DIR/journal.log (DIR must not hold one already), writes
DIR/start_time (time.time() as the workers start), starts --workers worker processes (this
script again, with a hidden --worker-index flag; their output goes to DIR/worker<i>.log),
waits --budget seconds, then stops them (SIGTERM, SIGKILL 10 s later). A trial still running
then does not count. Finally it reads the study back, writes DIR/trials.csv (columns trial,
state, finished_at, val_accuracy, test_accuracy, epochs, best_epoch, then the hyperparameters)
and prints a summary.

Data, as hpsearch prepares it: the 60,000 training images of
/usr/share/datasets/fashion-mnist (the first N with --train-limit, for smoke tests only), a
stratified 10% validation split chosen by --seed (per class, in ascending sample order:
shuffle, hold out round(10%)), every feature standardized with the mean and population std of
the training part (std 0 -> 1). The split follows hpsearch's rule but not its generator, so
the held-out images differ. The 10,000 test images never take part in selection: each trial
only reports the test accuracy of its best-validation weights, for the comparison.

Study: optuna.create_study(study_name="fashion_mnist", direction="maximize",
storage=JournalStorage(JournalFileStorage(DIR/journal.log)),
sampler=TPESampler(seed=seed * 1000 + worker index), pruner=MedianPruner(),
load_if_exists=True),
with Optuna 3.1's defaults otherwise:
  TPESampler: n_startup_trials=10 (random until 10 trials exist), n_ei_candidates=24,
    consider_prior=True, prior_weight=1.0, consider_magic_clip=True, consider_endpoints=False,
    multivariate=False, group=False, constant_liar=False (so the two workers are not told of
    each other's running trials).
  MedianPruner: n_startup_trials=5 (no pruning before 5 trials have completed),
    n_warmup_steps=0, interval_steps=1, n_min_trials=1; a trial is pruned when its best
    validation accuracy so far is below the median of the completed trials' accuracies at the
    same epoch (pruned trials do not enter the median).
JournalStorage is experimental in Optuna 3.1; its ExperimentalWarning is silenced here.

Optuna before 3.5 (Debian 12 has 3.1) scores TPE candidates with a truncated-normal logpdf that
leaves out log(scale), the 1/sigma of each numeric kernel (Optuna issue #5109, fixed by pull
request #5110 in 3.5). --logpdf-fix applies that fix in the workers (log(scale) subtracted),
so the sampler scores with the normalized densities Optuna 3.5 and hpsearch use; where the
installed Optuna has the fix already, it changes nothing.

Search space: CONFIG's, mapped to suggest_categorical (choices; "hidden" as strings such as
"512-256"), suggest_float (uniform), suggest_float(log=True) (log_uniform) and suggest_int
(int_uniform).

Each trial trains a ReLU MLP (784-hidden-10, He initialization: kaiming_normal_ with
nonlinearity="relu" on the weights, zero biases, as hpsearch does) with inverted dropout after
every hidden ReLU; Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8); mean softmax
cross-entropy plus l1/n * sum|w| + l2/(2n) * sum w^2 over the weight matrices (not the
biases), n = training samples (54,000), applied as its gradient l1/n * sign(w) + l2/n * w;
mini-batches of a fresh permutation each epoch (tensors indexed directly, no DataLoader), one
thread per worker. Up to max_epochs epochs; after each, the validation accuracy is reported
to the pruner, and training stops after patience epochs without improvement, keeping the
best epoch's weights. With reduce_lr_on_plateau, as hpsearch does it: after each stretch of its
patience epochs without a better validation accuracy, Adam's rate becomes max(rate * factor,
min_lr) (its moments are kept) and the count starts again. A trial whose training loss turns non-finite fails (it returns NaN).
Trial user attributes: val_accuracy (best), test_accuracy (of the best weights), epochs (run),
best_epoch, finished_at (seconds since DIR/start_time); set for pruned trials too.
"""
import argparse
import contextlib
import csv
import gzip
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

# One BLAS/OpenMP thread per worker; must be set before torch is imported.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import optuna  # noqa: E402
from optuna.samplers._tpe import _truncnorm  # noqa: E402  (--logpdf-fix)
import torch  # noqa: E402
import yaml  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
STUDY_NAME = "fashion_mnist"
VALIDATION_FRACTION = 0.1
PARAMS = ["hidden", "learning_rate", "batch_size", "dropout", "l1", "l2"]
STOP_GRACE_S = 10
MAX_WORKERS = 1000  # worker i of seed s draws with TPE seed s * MAX_WORKERS + i

warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


# ---------------------------------------------------------------------------------------------
# Search space and settings from the hpsearch config


def read_config(path, program="optuna_search"):
    """The hpsearch config at `path` as a dict; exits with a message if it is not one."""
    try:
        with open(path) as f:
            config = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as error:
        raise SystemExit(f"{program}: cannot read {path}: {error}")
    if not isinstance(config, dict):
        raise SystemExit(f"{program}: {path}: not a YAML mapping (an hpsearch config?)")
    return config


class TrainingRule:
    """How every network is trained, from an hpsearch config: training.max_epochs,
    early_stopping.patience (defaults 50 and 5, as in hpsearch) and
    training.reduce_lr_on_plateau (plateau: None, or (factor, patience, min_lr))."""

    def __init__(self, config, where):
        self.max_epochs = int((config.get("training") or {}).get("max_epochs", 50))
        self.patience = int((config.get("early_stopping") or {}).get("patience", 5))
        plateau = (config.get("training") or {}).get("reduce_lr_on_plateau", False)
        if plateau is False or (isinstance(plateau, dict) and plateau.get("enabled") is False):
            self.plateau = None
        elif plateau is None or isinstance(plateau, dict):
            plateau = plateau or {}
            self.plateau = (float(plateau.get("factor", 0.3)), int(plateau.get("patience", 3)),
                            float(plateau.get("min_lr", 0.0)))
        else:
            raise SystemExit(f"{where}: training.reduce_lr_on_plateau must be a mapping")


class Settings:
    """What the study takes from an hpsearch config: the space (self.space) and the training
    rule (self.rule)."""

    def __init__(self, path):
        config = read_config(path)
        where = f"optuna_search: {path}"
        space = (config.get("search") or {}).get("space")
        if not isinstance(space, dict):
            raise SystemExit(f"{where}: no search.space mapping")
        unknown = sorted(set(space) - set(PARAMS))
        missing = [name for name in PARAMS if name not in space]
        if unknown or missing:
            raise SystemExit(f"{where}: search.space must give exactly {', '.join(PARAMS)}"
                             f" (unknown: {unknown or 'none'}, missing: {missing or 'none'})")
        self.space = {name: self.parse(where, name, space[name]) for name in PARAMS}
        self.rule = TrainingRule(config, where)

    @staticmethod
    def parse(where, name, value):
        """(form, arguments): ("choice", values) or (range form, [lo, hi])."""
        def layout(widths):  # one "hidden" choice as a string, e.g. "512-256"
            return "-".join(str(int(w)) for w in (widths if isinstance(widths, list)
                                                  else [widths]))
        try:
            if isinstance(value, dict):
                if len(value) == 1:
                    form, bounds = next(iter(value.items()))
                    if form in ("uniform", "log_uniform", "int_uniform") and \
                            isinstance(bounds, list) and len(bounds) == 2:
                        return (form, [float(b) for b in bounds])
                raise ValueError("expected uniform, log_uniform or int_uniform with [lo, hi]")
            choices = value if isinstance(value, list) else [value]
            if not choices:
                raise ValueError("no choices")
            return ("choice", [layout(v) for v in choices] if name == "hidden" else choices)
        except (TypeError, ValueError) as error:
            raise SystemExit(f"{where}: search.space.{name}: {error} (got {value})")

    def suggest(self, trial):
        """The trial's values of PARAMS; hidden as a list of widths."""
        values = {}
        for name, (form, args) in self.space.items():
            if form == "choice":
                values[name] = trial.suggest_categorical(name, args)
            elif form == "int_uniform":
                values[name] = trial.suggest_int(name, int(args[0]), int(args[1]))
            else:
                values[name] = trial.suggest_float(name, args[0], args[1],
                                                   log=form == "log_uniform")
        values["hidden"] = hidden_widths(values["hidden"])
        return values


def hidden_widths(layout):
    """A "hidden" choice as suggested and written to trials.csv ("512-256") as a list of widths."""
    return [int(w) for w in str(layout).split("-")]


# ---------------------------------------------------------------------------------------------
# Data


def read_idx(path, header_bytes):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header_bytes)


def load_split(name, limit=None):
    """Images (n x 784, float32) and labels (int64) of the "train" or "t10k" files."""
    images = read_idx(f"{DATA}/{name}-images-idx3-ubyte.gz", 16).reshape(-1, 28 * 28)
    labels = read_idx(f"{DATA}/{name}-labels-idx1-ubyte.gz", 8)
    return images[:limit].astype(np.float32), labels[:limit].astype(np.int64)


def stratified_split(labels, fraction, seed):
    """Indices (train, validation): per class, in ascending sample order, shuffled by `seed`,
    with round(fraction * class size) held out (at least one for classes of two or more,
    never the whole class), as hpsearch's split_train_validation."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for c in range(labels.max() + 1):
        group = np.flatnonzero(labels == c)
        rng.shuffle(group)
        n = len(group)
        held = int(math.floor(fraction * n + 0.5)) if n else 0
        if n >= 2:
            held = max(held, 1)
        held = min(held, max(n - 1, 0))
        validation.append(group[:held])
        train.append(group[held:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(validation))


def load_data(seed, train_limit=None):
    """Standardized float32 tensors x_train, y_train, x_val, y_val, x_test, y_test."""
    x, y = load_split("train", train_limit)
    x_test, y_test = load_split("t10k")
    train, val = stratified_split(y, VALIDATION_FRACTION, seed)
    x_train, x_val = x[train], x[val]
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0

    def tensor(features):
        return torch.from_numpy(((features - mean) / std).astype(np.float32))

    return (tensor(x_train), torch.from_numpy(y[train]), tensor(x_val), torch.from_numpy(y[val]),
            tensor(x_test), torch.from_numpy(y_test))


# ---------------------------------------------------------------------------------------------
# Training


def build_mlp(inputs, hidden, outputs, dropout):
    layers, width = [], inputs
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        width = units
    layers.append(torch.nn.Linear(width, outputs))
    model = torch.nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    return model


def train_epoch(model, optimizer, x, y, batch_size, l1_n, l2_n):
    """One epoch over a fresh permutation; returns the mean data loss (NaN if it diverged)."""
    weights = [layer.weight for layer in model if isinstance(layer, torch.nn.Linear)]
    loss_fn = torch.nn.functional.cross_entropy
    model.train()
    n = x.shape[0]
    order = torch.randperm(n)
    total = torch.zeros(())
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        with torch.no_grad():
            # Gradient of l1/n * sum|w| + l2/(2n) * sum w^2, weights only.
            for w in weights:
                w.grad.add_(torch.sign(w), alpha=l1_n).add_(w, alpha=l2_n)
        optimizer.step()
        total += loss.detach() * len(idx)
    return total.item() / n


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return (model(x).argmax(dim=1) == y).sum().item() / len(y)


def train_network(data, values, rule, seed, on_epoch=None):
    """Trains one network with the hyperparameters `values` (PARAMS; hidden as a list of
    widths) under `rule` (a TrainingRule), its weights and batch order drawn after
    torch.manual_seed(seed); see the module docstring. After each epoch, on_epoch(epoch,
    val_accuracy) may return True to stop it there. Returns a dict: end ("done", "stopped" or
    "diverged"), val_accuracy (best; NaN if no epoch finished), test_accuracy (of the best
    weights, restored), epochs (run) and best_epoch."""
    x_train, y_train, x_val, y_val, x_test, y_test = data
    learning_rate, batch_size = float(values["learning_rate"]), int(values["batch_size"])
    n = x_train.shape[0]
    l1_n, l2_n = float(values["l1"]) / n, float(values["l2"]) / n

    torch.manual_seed(seed)
    model = build_mlp(x_train.shape[1], values["hidden"], 10, float(values["dropout"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    best = {"val_accuracy": -math.inf, "epoch": 0, "state": None}
    end, epochs = "done", 0
    rate, plateau_wait = learning_rate, 0
    for epoch in range(1, rule.max_epochs + 1):
        loss = train_epoch(model, optimizer, x_train, y_train, batch_size, l1_n, l2_n)
        epochs = epoch
        if not math.isfinite(loss):
            end = "diverged"
            break
        val_accuracy = accuracy(model, x_val, y_val)
        improved = val_accuracy > best["val_accuracy"]
        if improved:
            best = {"val_accuracy": val_accuracy, "epoch": epoch,
                    "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
        if rule.plateau is not None:
            factor, patience, min_lr = rule.plateau
            plateau_wait = 0 if improved else plateau_wait + 1
            if plateau_wait >= patience:
                plateau_wait = 0
                rate = max(rate * factor, min_lr)
                for group in optimizer.param_groups:
                    group["lr"] = rate
        if on_epoch is not None and on_epoch(epoch, val_accuracy):
            end = "stopped"
            break
        if epoch - best["epoch"] >= rule.patience:
            break

    test_accuracy = math.nan
    if best["state"] is not None:
        model.load_state_dict(best["state"])
        test_accuracy = accuracy(model, x_test, y_test)
    return {"end": end, "val_accuracy": best["val_accuracy"] if best["state"] is not None
            else math.nan, "test_accuracy": test_accuracy, "epochs": epochs,
            "best_epoch": best["epoch"]}


class Objective:
    """Trains one trial's network (train_network, seeded by the split seed and the trial
    number), reporting each epoch's validation accuracy to the pruner."""

    def __init__(self, data, args, settings, start_time):
        self.data = data
        self.args = args
        self.settings = settings
        self.start_time = start_time

    def __call__(self, trial):
        def report(epoch, val_accuracy):
            trial.report(val_accuracy, epoch)
            return trial.should_prune()

        result = train_network(self.data, self.settings.suggest(trial), self.settings.rule,
                               self.args.seed * 1_000_003 + trial.number, report)
        for key in ["val_accuracy", "test_accuracy", "epochs", "best_epoch"]:
            trial.set_user_attr(key, result[key])
        trial.set_user_attr("finished_at", time.time() - self.start_time)
        if result["end"] == "diverged":
            trial.set_user_attr("diverged", True)
            return float("nan")  # Optuna records the trial as FAIL
        if result["end"] == "stopped":
            raise optuna.TrialPruned()
        return result["val_accuracy"]


# ---------------------------------------------------------------------------------------------
# Study, workers and launcher


def logpdf_lacks_scale():
    """Whether the installed Optuna's truncated-normal logpdf leaves out log(scale) (#5109)."""
    got = _truncnorm.logpdf(np.array([0.0]), -np.inf, np.inf, loc=0.0, scale=2.0)[0]
    return abs(got + 0.5 * math.log(2 * math.pi)) < 1e-9


@contextlib.contextmanager
def scaled_logpdf(active):
    """While active, Optuna's TPE scores with pull request #5110's logpdf (minus log(scale)),
    if the installed one lacks it."""
    if not active or not logpdf_lacks_scale():
        yield
        return
    unscaled = _truncnorm.logpdf

    def fixed(x, a, b, loc=0, scale=1):
        return unscaled(x, a, b, loc, scale) - np.log(scale)

    _truncnorm.logpdf = fixed
    try:
        yield
    finally:
        _truncnorm.logpdf = unscaled


def journal_path(out):
    return Path(out) / "journal.log"


def open_study(out, sampler_seed):
    storage = optuna.storages.JournalStorage(
        optuna.storages.JournalFileStorage(str(journal_path(out))))
    return optuna.create_study(study_name=STUDY_NAME, direction="maximize", storage=storage,
                               sampler=optuna.samplers.TPESampler(seed=sampler_seed),
                               pruner=optuna.pruners.MedianPruner(), load_if_exists=True)


def sampler_seed(seed, worker_index):
    """Worker `worker_index`'s TPE seed. seed + index (before 2026-11-22) gave seed 11's second
    worker the stream of seed 12's first, so runs of neighbouring seeds shared their draws."""
    return seed * MAX_WORKERS + worker_index


def run_worker(args):
    """Optimizes until the launcher stops this process."""
    torch.set_num_threads(1)
    start_time = float((Path(args.out) / "start_time").read_text())
    data = load_data(args.seed, args.train_limit)
    study = open_study(args.out, sampler_seed(args.seed, args.worker_index))
    with scaled_logpdf(args.logpdf_fix):
        study.optimize(Objective(data, args, Settings(args.config), start_time),
                       catch=(Exception,))


def stop(workers):
    """SIGTERM to every worker still running, SIGKILL to those left after STOP_GRACE_S."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for worker in workers:
        try:
            worker.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def worker_command(args, index):
    command = [sys.executable, os.path.abspath(__file__), "--config", str(args.config),
               "--out", str(args.out), "--budget", str(args.budget), "--seed", str(args.seed),
               "--worker-index", str(index)]
    if args.train_limit is not None:
        command += ["--train-limit", str(args.train_limit)]
    if args.logpdf_fix:
        command.append("--logpdf-fix")
    return command


def run_search(args):
    """Starts the workers, lets them run for the budget, stops them. False if interrupted."""
    out = Path(args.out)
    (out / "start_time").write_text(repr(time.time()))
    env = dict(os.environ, NO_COLOR="1")  # plain Optuna log lines in the log files
    workers = []
    try:
        for i in range(args.workers):
            with open(out / f"worker{i}.log", "w") as log:
                workers.append(subprocess.Popen(worker_command(args, i), stdout=log,
                                                stderr=subprocess.STDOUT, env=env))
        deadline = time.monotonic() + args.budget
        while time.monotonic() < deadline:
            if all(worker.poll() is not None for worker in workers):
                print(f"optuna_search: all workers exited before the budget; see {out}/worker*.log",
                      file=sys.stderr)
                break
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
        return True
    except KeyboardInterrupt:
        print("optuna_search: interrupted; stopping the workers", file=sys.stderr)
        return False
    finally:
        stop(workers)
        # A worker killed while appending to the journal leaves its lock link behind.
        Path(str(journal_path(out)) + ".lock").unlink(missing_ok=True)


def write_trials(study, path, start_time):
    """DIR/trials.csv, one row per trial in trial order; returns the rows."""
    columns = ["trial", "state", "finished_at", "val_accuracy", "test_accuracy", "epochs",
               "best_epoch"] + PARAMS
    rows = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        row = {"trial": t.number, "state": t.state.name}
        for key in ["finished_at", "val_accuracy", "test_accuracy", "epochs", "best_epoch"]:
            row[key] = t.user_attrs.get(key, "")
        if t.state == optuna.trial.TrialState.RUNNING:
            row["finished_at"] = ""  # it did not finish in the budget
        elif row["finished_at"] == "" and t.datetime_complete is not None:
            # A trial that raised never reached Objective.finish.
            row["finished_at"] = t.datetime_complete.timestamp() - start_time
        row.update({name: t.params.get(name, "") for name in PARAMS})
        rows.append(row)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def summarize(rows, budget):
    finished = [r for r in rows if r["finished_at"] != "" and r["finished_at"] <= budget]
    count = lambda state: sum(r["state"] == state for r in finished)  # noqa: E731
    print(f"optuna_search: {len(finished)} trials finished within the {budget:g} s budget "
          f"({count('COMPLETE')} complete, {count('PRUNED')} pruned, {count('FAIL')} failed), "
          f"{len(rows) - len(finished)} unfinished")
    ranked = [r for r in finished if r["state"] in ("COMPLETE", "PRUNED")
              and not math.isnan(r["val_accuracy"])]
    if ranked:
        best = max(ranked, key=lambda r: (r["val_accuracy"], -r["finished_at"]))
        params = ", ".join(f"{name}={best[name]:.4g}" if isinstance(best[name], float)
                           else f"{name}={best[name]}" for name in PARAMS)
        print(f"optuna_search: best validation accuracy {best['val_accuracy']:.4f} "
              f"(trial {best['trial']}, {best['state'].lower()}, test accuracy "
              f"{best['test_accuracy']:.4f}, finished at {best['finished_at']:.0f} s; {params})")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="See the module docstring for the data, study and training details.")
    parser.add_argument("--config", required=True, type=Path,
                        help="hpsearch config: search.space, max_epochs, patience")
    parser.add_argument("--out", required=True, type=Path,
                        help="output directory (journal.log, start_time, trials.csv, logs)")
    parser.add_argument("--budget", required=True, type=float,
                        help="wall-clock seconds the workers get")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=11,
                        help="split seed; worker i's TPE seed is seed * 1000 + i (default 11)")
    parser.add_argument("--train-limit", type=int,
                        help="use only the first N training images (smoke tests)")
    parser.add_argument("--logpdf-fix", action="store_true",
                        help="score TPE candidates with Optuna 3.5's normalized logpdf (#5110)")
    parser.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker_index is not None:
        optuna.logging.set_verbosity(optuna.logging.INFO)
        run_worker(args)
        return

    if not 1 <= args.workers <= MAX_WORKERS:
        sys.exit(f"optuna_search: --workers must be 1 to {MAX_WORKERS}, got {args.workers}")
    if not 0 <= args.seed < 2**32 // MAX_WORKERS:
        sys.exit(f"optuna_search: --seed must be 0 to {2**32 // MAX_WORKERS - 1}, got {args.seed}")
    Settings(args.config)  # a bad config fails here, before anything is written
    args.out.mkdir(parents=True, exist_ok=True)
    if journal_path(args.out).exists():
        sys.exit(f"optuna_search: {journal_path(args.out)} exists; remove {args.out} first")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    open_study(args.out, args.seed)  # created here, so the workers only load it
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the workers on SIGTERM too
    completed = run_search(args)

    study = optuna.load_study(study_name=STUDY_NAME, storage=optuna.storages.JournalStorage(
        optuna.storages.JournalFileStorage(str(journal_path(args.out)))))
    start_time = float((args.out / "start_time").read_text())
    rows = write_trials(study, args.out / "trials.csv", start_time)
    summarize(rows, args.budget)
    print(f"optuna_search: wrote {args.out / 'trials.csv'}")
    if not completed:
        sys.exit(130)


if __name__ == "__main__":
    main()
