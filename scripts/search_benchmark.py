#!/usr/bin/python3
"""Compares hyperparameter searches run under the same wall-clock budget: a markdown table and
a plot of the incumbent's accuracy over time (scripts/search_benchmark.sh runs the searches).

Usage:
  /usr/bin/python3 scripts/search_benchmark.py --budget SECONDS --png OUT.png
      [--markdown OUT.md] LABEL=PATH [LABEL=PATH ...]

PATH is an hpsearch result file (.h5, read from its /summary table: trial, status,
best_val_accuracy, test_accuracy, finished_at in seconds since the search started) or an
output directory of scripts/optuna_search.py (read from its trials.csv). LABEL names the run in
the table and the legend (everything before the first "=").

Only trials finished within the budget count. The incumbent at time t is the trial with the
highest best validation accuracy among those finished by t (ties: the earlier finish); pruned
trials count with their best value, failed or diverged trials and unfinished ones never. Per
run the table gives the trials finished in the budget (how many of them pruned), the epochs
those trials trained (how much training the run got through, whatever its networks' sizes), the
incumbent's validation accuracy and its test accuracy at 5, 10 and 20 minutes and at the
budget (checkpoints past the budget are left out), and the first time the incumbent's test
accuracy reaches 0.89 and 0.895 (with "held from T" when a later incumbent fell below the
target again: T is when it reached the target for good). The test accuracy is that of the incumbent trial's
best-validation weights; it plays no part in choosing the incumbent.

The PNG has two panels: the incumbent's validation accuracy (left) and its test accuracy
(right, dotted lines at the targets) against minutes, with the checkpoints marked. The y-axis
spans 0.85 to 0.91, widened to the data down to 0.75 at most.
"""
import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CHECKPOINTS_MIN = [5, 10, 20]
TARGETS = [0.89, 0.895]
Y_RANGE = (0.85, 0.91)
Y_FLOOR = 0.75
NOT_RANKED_HPSEARCH = {"failed", "diverged"}
RANKED_OPTUNA = {"COMPLETE", "PRUNED"}


@dataclass
class Trial:
    finished_at: float  # seconds since the search started
    pruned: bool
    val: float  # best validation accuracy; NaN when the trial cannot be the incumbent
    test: float  # test accuracy of its best-validation weights; NaN if unknown
    epochs: int  # epochs it trained


@dataclass
class Step:
    """The incumbent from time `at` on."""
    at: float
    val: float
    test: float


# ---------------------------------------------------------------------------------------------
# Reading runs


def read_hpsearch(path):
    with h5py.File(path, "r") as f:
        if "summary" not in f:
            sys.exit(f"search_benchmark: {path} has no /summary table")
        table = f["summary"][()]
    fields = table.dtype.names or ()
    for needed in ("status", "best_val_accuracy", "finished_at", "epochs_run"):
        if needed not in fields:
            sys.exit(f"search_benchmark: {path}: /summary has no '{needed}' column "
                     f"(a classification result from an hpsearch that records finished_at?)")
    trials = []
    for row in table:
        status = bytes(row["status"]).split(b"\0", 1)[0].decode()
        val = float(row["best_val_accuracy"])
        test = float(row["test_accuracy"]) if "test_accuracy" in fields else math.nan
        trials.append(Trial(float(row["finished_at"]), status == "pruned",
                            math.nan if status in NOT_RANKED_HPSEARCH else val, test,
                            int(row["epochs_run"])))
    return trials


def read_optuna(directory):
    path = Path(directory) / "trials.csv"
    trials = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["state"] == "RUNNING" or row["finished_at"] == "":
                continue  # unfinished when the budget ran out
            number = lambda key: float(row[key]) if row[key] != "" else math.nan  # noqa: E731
            trials.append(Trial(number("finished_at"), row["state"] == "PRUNED",
                                number("val_accuracy") if row["state"] in RANKED_OPTUNA
                                else math.nan, number("test_accuracy"),
                                int(row["epochs"]) if row["epochs"] != "" else 0))
    return trials


def read_run(path):
    path = Path(path)
    if path.is_dir():
        if not (path / "trials.csv").exists():
            sys.exit(f"search_benchmark: {path} has no trials.csv (an optuna_search.py output?)")
        return read_optuna(path)
    if not path.exists():
        sys.exit(f"search_benchmark: {path} does not exist")
    return read_hpsearch(path)


# ---------------------------------------------------------------------------------------------
# Incumbents


def incumbent_steps(trials):
    """Each change of incumbent in time order (trials already limited to the budget)."""
    steps = []
    for trial in sorted(trials, key=lambda t: t.finished_at):  # stable: file order on ties
        if math.isfinite(trial.val) and (not steps or trial.val > steps[-1].val):
            steps.append(Step(trial.finished_at, trial.val, trial.test))
    return steps


def incumbent_at(steps, t):
    current = None
    for step in steps:
        if step.at > t:
            break
        current = step
    return current


def first_reaching(steps, target):
    return next((step.at for step in steps if step.test >= target), None)


def held_from(steps, target):
    """When the incumbent's test accuracy reached `target` and never fell below it again."""
    held = None
    for step in steps:
        if step.test >= target:
            held = step.at if held is None else held
        else:
            held = None
    return held


def reaching_text(steps, target):
    first, held = first_reaching(steps, target), held_from(steps, target)
    if first is None:
        return "not within budget"
    if held is None:
        return f"{minutes_text(first)} (then below it)"
    if held != first:
        return f"{minutes_text(first)} (held from {minutes_text(held)})"
    return minutes_text(first)


# ---------------------------------------------------------------------------------------------
# Output


def minutes_text(seconds):
    return f"{seconds / 60:.1f} min"


def checkpoints(budget):
    """Checkpoint times in seconds: 5, 10, 20 min within the budget, and the budget."""
    times = [60.0 * m for m in CHECKPOINTS_MIN if 60.0 * m <= budget]
    if not times or not math.isclose(times[-1], budget):
        times.append(budget)
    return times


def accuracy_text(value):
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def markdown_table(runs, budget):
    times = checkpoints(budget)
    header = (["run", "trials finished (pruned)", "epochs trained"]
              + [f"val / test at {t / 60:g} min" for t in times]
              + [f"test ≥ {target:g} first at" for target in TARGETS])
    lines = [f"Budget {budget / 60:g} min ({budget:g} s) per run. \"val / test\": the "
             "incumbent's best validation accuracy and the test accuracy of that trial.", "",
             "| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for label, trials, steps in runs:
        cells = [label, f"{len(trials)} ({sum(t.pruned for t in trials)})",
                 str(sum(t.epochs for t in trials))]
        for t in times:
            step = incumbent_at(steps, t)
            cells.append(f"{accuracy_text(step.val)} / {accuracy_text(step.test)}" if step
                         else "—")
        cells += [reaching_text(steps, target) for target in TARGETS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def y_limits(values):
    finite = [v for v in values if math.isfinite(v)]
    low, high = Y_RANGE
    if finite:
        low = max(min(low, math.floor(min(finite) * 100) / 100), Y_FLOOR)
        high = min(max(high, math.ceil(max(finite) * 100) / 100), 1.0)
    return low, high


def plot(runs, budget, path):
    fig, (val_ax, test_ax) = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    end = budget / 60
    plotted = []
    for i, (label, _, steps) in enumerate(runs):
        color = f"C{i}"
        if not steps:
            val_ax.plot([], [], color=color, label=f"{label} (no trial finished)")
            continue
        xs = [s.at / 60 for s in steps] + [end]
        for ax, ys in ((val_ax, [s.val for s in steps]), (test_ax, [s.test for s in steps])):
            ax.step(xs, ys + ys[-1:], where="post", color=color, lw=1.8,
                    label=label if ax is val_ax else None)
            ax.plot(xs[:-1], ys, "o", color=color, ms=3)
            plotted += ys
    for ax in (val_ax, test_ax):
        for t in checkpoints(budget):
            ax.axvline(t / 60, color="0.75", ls="--", lw=0.8, zorder=0)
        ax.set_xlim(0, end)
        ax.set_xlabel("minutes since the search started")
        ax.grid(alpha=0.3)
    for target in TARGETS:
        test_ax.axhline(target, color="black", ls=":", lw=1)
        test_ax.annotate(f"{target:g}", (0, target), xytext=(2, 2), textcoords="offset points",
                         ha="left", va="bottom", fontsize=8)
    val_ax.set_ylim(*y_limits(plotted))
    val_ax.set_ylabel("accuracy")
    val_ax.set_title("incumbent: best validation accuracy")
    test_ax.set_title("incumbent's test accuracy")
    val_ax.legend(loc="lower right", fontsize=9)
    fig.suptitle(f"Fashion-MNIST MLP search, {budget / 60:g}-minute budget")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_run(text):
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH, got '{text}'")
    return label, path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, required=True,
                        help="seconds; trials finished later are ignored")
    parser.add_argument("--png", required=True, help="write the plot here")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("runs", nargs="+", type=parse_run, metavar="LABEL=PATH",
                        help="an hpsearch .h5 result or an optuna_search.py output directory")
    args = parser.parse_args()

    runs = []
    for label, path in args.runs:
        trials = [t for t in read_run(path) if t.finished_at <= args.budget]
        runs.append((label, trials, incumbent_steps(trials)))

    table = markdown_table(runs, args.budget)
    print(table, end="")
    if args.markdown:
        Path(args.markdown).write_text(table)
    plot(runs, args.budget, args.png)


if __name__ == "__main__":
    main()
