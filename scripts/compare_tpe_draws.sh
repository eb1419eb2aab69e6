#!/usr/bin/env bash
# Whether two commits' TPE samplers propose the same points, bit for bit: builds
# tests/benchmarks/tpe_sequence.cpp (from this checkout) against the core library of OLD and of
# NEW, runs both and compares the 400 printed draws. Use it to check that a change meant to
# leave TPE's proposals alone does.
# Usage: scripts/compare_tpe_draws.sh OLD [NEW]   (commits; NEW defaults to the working tree)
# Exit status: 0 the same, 1 different (the first differences are shown), 2 bad usage or a
# build that fails (the program compiles against commits from 85bbdff, 2026-11-23, on).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: scripts/compare_tpe_draws.sh OLD [NEW]   (NEW defaults to the working tree)" >&2
  exit 2
fi
for commit in "$@"; do
  if ! git rev-parse --verify --quiet "$commit^{commit}" >/dev/null; then
    echo "compare_tpe_draws: '$commit' is not a commit of this repository" >&2
    exit 2
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
program="$PWD/tests/benchmarks/tpe_sequence.cpp"

# Prints the draws of the core library in source tree $1, built in $2.
draws() {
  local tree="$1" build="$2"
  mkdir -p "$build/wrapper"
  # A project of its own around the tree: the program only needs hpsearch_core, and the tree's
  # tests and benchmarks (whose packages an old commit may name differently) stay out.
  cat >"$build/wrapper/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(tpe_sequence_of_tree LANGUAGES C CXX)
set(HPSEARCH_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(HPSEARCH_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
add_subdirectory("$tree" hpsearch EXCLUDE_FROM_ALL)
add_executable(tpe_sequence "$program")
target_link_libraries(tpe_sequence PRIVATE hpsearch_core)
EOF
  cmake -S "$build/wrapper" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/cmake.log" 2>&1 ||
    { cat "$build/cmake.log" >&2; return 1; }
  cmake --build "$build" --target tpe_sequence -j "$(nproc)" >"$build/build.log" 2>&1 ||
    { tail -40 "$build/build.log" >&2; return 1; }
  "$build/tpe_sequence"
}

# Exports commit $1 (or the working tree, for "") into $2.
export_tree() {
  mkdir -p "$2"
  if [[ -z "$1" ]]; then
    cp -r core worker coordinator CMakeLists.txt "$2"/
  else
    git archive "$1" | tar -x -C "$2"
  fi
}

export_tree "$1" "$work/old"
export_tree "${2:-}" "$work/new"
echo "compare_tpe_draws: building $1 and ${2:-the working tree} (a few minutes)" >&2
fail() {
  echo "compare_tpe_draws: could not build or run the program against $1" >&2
  exit 2
}
draws "$work/old" "$work/old-build" >"$work/old.txt" ||
  fail "$1 (it builds against commits from 85bbdff on)"
draws "$work/new" "$work/new-build" >"$work/new.txt" || fail "${2:-the working tree}"
old_name="$1"
new_name="${2:-working tree}"
# One line per sequence (space, form, ranking): the same, or how many of its draws differ.
paste -d '\n' "$work/old.txt" "$work/new.txt" | paste - - | awk -F '\t' '
  $1 ~ /^checksum/ { next }
  { split($1, w, " "); key = w[1] " " w[2] " " w[3]; if (!(key in n)) order[++k] = key
    n[key]++; if ($1 != $2) d[key]++ }
  END { for (i = 1; i <= k; ++i)
          printf "%-40s %s\n", order[i], d[order[i]] ? d[order[i]] " of " n[order[i]] " draws differ" : "the same " n[order[i]] " draws" }'
if cmp -s "$work/old.txt" "$work/new.txt"; then
  echo "same: every draw at $old_name and $new_name ($(tail -1 "$work/new.txt"))"
  exit 0
fi
echo "DIFFERENT between $old_name and $new_name; the first differing draws:"
diff "$work/old.txt" "$work/new.txt" | grep '^[<>]' | grep -v checksum | head -6
exit 1
