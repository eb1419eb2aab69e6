#!/usr/bin/python3
"""Writes the Friedman #1 regression benchmark as CSV (Friedman, Ann. Statist. 1991):
y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1), x1..x10 ~ U(0, 1).

Usage: /usr/bin/python3 scripts/make_friedman_csv.py OUT.csv [--rows 4000] [--seed 1]
"""
import argparse
import math
import os
import random

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out")
parser.add_argument("--rows", type=int, default=4000)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

rng = random.Random(args.seed)
os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
with open(args.out, "w") as f:
    f.write(",".join(f"x{i}" for i in range(1, 11)) + ",y\n")
    for _ in range(args.rows):
        x = [rng.random() for _ in range(10)]
        y = (10 * math.sin(math.pi * x[0] * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4]
             + rng.gauss(0, 1))
        f.write(",".join(f"{v:.6f}" for v in x) + f",{y:.6f}\n")
