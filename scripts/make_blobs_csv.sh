#!/usr/bin/env bash
# Writes ROWS rows of a small generated classification set as CSV to standard output: 100
# features x0..x99 with standard normal noise, and a label 0, 1 or 2 that shifts the first 10
# features by 0.3 per class. Fixed seed, so the same ROWS give the same file.
# Usage: scripts/make_blobs_csv.sh ROWS > data.csv
set -euo pipefail
rows="${1:-}"
case "$rows" in '' | *[!0-9]*) echo "usage: $0 ROWS (a whole number) > data.csv" >&2; exit 2 ;; esac
awk -v rows="$rows" 'BEGIN {
  srand(1)
  for (j = 0; j < 100; ++j) printf "x%d,", j
  print "label"
  for (i = 0; i < rows; ++i) {
    c = i % 3
    for (j = 0; j < 100; ++j) {
      z = sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand())
      printf "%.5f,", (j < 10 ? 0.3 * c : 0) + z
    }
    print c
  }
}'
