#!/usr/bin/env bash
# The full compile check against the quick one, per arch group (issue 23: full ≤ 1.5× quick).
#
#   bench/check-speed.sh CHECK_DIR TREE [ROUNDS]
#
# CHECK_DIR is the check/ directory `kcodemod series` wrote; TREE is a git repository with the
# series applied as a commit (its parent the series' base). Each round runs, in fresh build
# directories, `CHECK_DIR/all.sh --quick --no-baseline TREE` and `CHECK_DIR/all.sh TREE` (the
# full check: the baseline, both sides of every guard), quick first in odd rounds and full
# first in even ones, so that a change of the machine's load weighs on both alike. Both must
# PASS (exit 0) in every round, else the script stops with exit 1: a fast check that does not
# pass measures nothing.
#
# Prints per round and group the wall time of each (as all.sh's summary gives it), the full
# check's phases of that group (config, prepare, objects, polarity = the guard builds), then
# the medians per group and in all, and the ratio full / quick of the medians, and of each
# round's totals (their median). ROUNDS defaults to 3. The load average is printed per round:
# on a shared machine the ratio moves with it.
set -euo pipefail

usage() { echo "usage: ${0##*/} CHECK_DIR TREE [ROUNDS]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
check=$(cd -- "$1" && pwd)
tree=$(cd -- "$2" && pwd)
rounds=${3:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage
[ -f "$check/all.sh" ] || { echo "${0##*/}: $check/all.sh: no such script" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One run of all.sh in a fresh build directory; its output in $work/KIND-ROUND.out.
run() { # kind round
	local kind=$1 r=$2 args=() rc=0
	if [ "$kind" = quick ]; then args=(--quick --no-baseline); fi
	rm -rf "$work/build"
	bash "$check/all.sh" ${args[@]+"${args[@]}"} "$tree" "$work/build" >"$work/$kind-$r.out" 2>&1 || rc=$?
	if [ $rc != 0 ]; then
		echo "${0##*/}: round $r: the $kind check exited $rc, not PASS:" >&2
		tail -n 30 "$work/$kind-$r.out" >&2
		exit 1
	fi
}
# `GROUP SECONDS` per group from all.sh's summary (`PASS  GROUP (12.345s)`).
times() { # output
	sed -nE 's/^PASS  ([^ ]+) \(([0-9.]+)s\)$/\1 \2/p' "$1"
}
median() { # numbers (one a line) on stdin
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) = 1 ]; then run quick "$r"; run full "$r"; else run full "$r"; run quick "$r"; fi
	echo "round $r (load $(cut -d' ' -f1-3 /proc/loadavg)):"
	while read -r g q; do
		f=$(times "$work/full-$r.out" | awk -v g="$g" '$1 == g { print $2 }')
		phases=$(grep -m1 -E "^$g: [0-9]+ objects, " "$work/full-$r.out" | sed -E 's/.*; (config [^;]*); total .*/\1/')
		printf '  %-10s quick %8.3fs  full %8.3fs  (full: %s)\n' "$g" "$q" "$f" "$phases"
		echo "$g $q $f" >>"$work/rows"
	done < <(times "$work/quick-$r.out")
	awk -v r="$r" '{ q += $2; f += $3 } END { printf "  %-10s quick %8.3fs  full %8.3fs  %.2fx\n", "all", q, f, f / q }' \
		<(times "$work/quick-$r.out" | while read -r g q; do
			echo "$g $q $(times "$work/full-$r.out" | awk -v g="$g" '$1 == g { print $2 }')"
		done) | tee -a "$work/totals"
done

echo "medians over $rounds rounds:"
awk '!seen[$1]++ { print $1 }' "$work/rows" | while read -r g; do
	q=$(awk -v g="$g" '$1 == g { print $2 }' "$work/rows" | median)
	f=$(awk -v g="$g" '$1 == g { print $3 }' "$work/rows" | median)
	printf '  %-10s quick %8.3fs  full %8.3fs  %.2fx\n' "$g" "$q" "$f" "$(echo "$f $q" | awk '{ print $1 / $2 }')"
done
q=$(awk '{ print $3 }' "$work/totals" | tr -d s | median)
f=$(awk '{ print $5 }' "$work/totals" | tr -d s | median)
ratio=$(awk '{ print $6 }' "$work/totals" | tr -d x | median)
printf '  %-10s quick %8.3fs  full %8.3fs  %.2fx (median of the rounds'"'"' ratios: %sx)\n' \
	all "$q" "$f" "$(echo "$f $q" | awk '{ print $1 / $2 }')" "$ratio"
