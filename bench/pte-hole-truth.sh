#!/usr/bin/env bash
# Ground truth for rules/pte_hole_depth.toml (issue 14): every function stored as `.pte_hole`
# in NEW_TREE, its parameter list after `kcodemod apply --rule mm_walk_ops --rule
# pte_hole_depth` on OLD_TREE against NEW_TREE's, and its direct calls.
#
#   bench/pte-hole-truth.sh OLD_TREE NEW_TREE [KCODEMOD]
#
# e.g. bench/pte-hole-truth.sh linux-5.3.1 linux-5.6.4. OLD_TREE is only read: the files that
# mention mm_walk are copied to a temporary tree and converted there. Parameter lists are
# compared with whitespace collapsed; a row is `same`, `differs`, or `absent` (the callback
# is not in OLD_TREE). Exits 1 when any row differs.
set -euo pipefail

old=${1:?usage: pte-hole-truth.sh OLD_TREE NEW_TREE [KCODEMOD]}
new=${2:?usage: pte-hole-truth.sh OLD_TREE NEW_TREE [KCODEMOD]}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${3:-} ]]; then
	kcodemod=$3
else
	cargo build --quiet --manifest-path "$here/Cargo.toml"
	kcodemod=$here/target/debug/kcodemod
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

files=$(cd "$old" && grep -rl --include='*.c' --include='*.h' mm_walk . || true)
for f in $files; do
	mkdir -p "$work/tree/$(dirname "$f")"
	cp "$old/$f" "$work/tree/$f"
done
"$kcodemod" apply --rule mm_walk_ops --rule pte_hole_depth "$work/tree" 2>"$work/log" || true

# "file<TAB>callback" for every .pte_hole initializer of NEW_TREE.
(cd "$new" && grep -rnoE --include='*.c' '\.pte_hole\s*=\s*[A-Za-z_0-9]+' . || true) |
	sed -E 's|^\./([^:]*):[0-9]+:\.pte_hole\s*=\s*|\1\t|' | sort -u >"$work/callbacks"

# The parameter list of the definition of $2 in file $1, whitespace collapsed.
params() {
	[[ -f $1 ]] || return 0
	NAME=$2 perl -0777 -ne '
		if (/\b\Q$ENV{NAME}\E\s*\(([^)]*)\)\s*\{/s) { my $p = $1; $p =~ s/\s+/ /g; print $p }
	' "$1"
}
calls() {
	[[ -f $1 ]] || return 0
	NAME=$2 perl -0777 -ne '
		my $n = () = /[^\w]\Q$ENV{NAME}\E\s*\([^;{]*-1\s*,/sg; print $n
	' "$1"
}

status=0
printf '%-8s %-28s %-32s %s\n' row file callback "parameters (5.6 form) / direct calls with -1"
while IFS=$'\t' read -r file cb; do
	want=$(params "$new/$file" "$cb")
	got=$(params "$work/tree/$file" "$cb")
	if [[ -z $(params "$old/$file" "$cb") ]]; then
		row=absent
	elif [[ $want == "$got" ]]; then
		row=same
	else
		row=differs
		status=1
	fi
	printf '%-8s %-28s %-32s %s\n' "$row" "$file" "$cb" "$want"
	[[ $row == differs ]] && printf '%-8s %-28s %-32s %s\n' "" "" "kcodemod:" "$got"
	printf '%-8s %-28s %-32s upstream %s, kcodemod %s\n' "" "" "" \
		"$(calls "$new/$file" "$cb")" "$(calls "$work/tree/$file" "$cb")"
done <"$work/callbacks"
grep -E '\[[a-z-]+\]$' "$work/log" || true
exit "$status"
