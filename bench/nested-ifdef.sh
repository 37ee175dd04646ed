#!/usr/bin/env bash
# Time `kcodemod check` on one function whose preprocessor conditionals nest N levels deep
# (issue 21, bounded work). Not a test: the numbers go into commit messages and docs.
#
#   bench/nested-ifdef.sh [KCODEMOD] [N...]        (default: target/release/kcodemod, 1000 2000 4000)
#
# Shapes (each inside one walk of struct mm_walk, so the struct-to-ops analysis reads them):
#   nested    #ifdef levels around one statement each (no conditional splits a statement)
#   expr      #ifdef levels; in each, a conditional splits an expression (`x = x + 1 / 2;`)
#   if        #ifdef levels; in each, a conditional removes an `if` header
#   sequence  N conditionals one after the other, each removing an `if` header
# Prints shape, N, exit code, seconds, and the run's verdict on the file.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/release/kcodemod}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 4000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

body() {
	local shape=$1 n=$2 i
	for ((i = 0; i < n; i++)); do
		case $shape in
		nested) printf '#ifdef CONFIG_A%d\n\tx++;\n' "$i" ;;
		expr) printf '#ifdef CONFIG_A%d\n\tx = x +\n#ifdef CONFIG_B%d\n\t\t1\n#else\n\t\t2\n#endif\n\t;\n' "$i" "$i" ;;
		if) printf '#ifdef CONFIG_A%d\n#ifdef CONFIG_B%d\n\tif (x > %d)\n#endif\n\t\tx++;\n' "$i" "$i" "$i" ;;
		sequence) printf '#ifdef CONFIG_A%d\n\tif (x > %d)\n#endif\n\t\tx++;\n' "$i" "$i" ;;
		esac
	done
	if [ "$shape" != sequence ]; then
		for ((i = 0; i < n; i++)); do printf '#endif\n'; done
	fi
}

for shape in nested expr if sequence; do
	for n in "${sizes[@]}"; do
		rm -rf "$tmp/t" && mkdir -p "$tmp/t/mm"
		{
			printf '#include <linux/mm.h>\nstatic int cb(pte_t *pte, unsigned long a, unsigned long e, struct mm_walk *w)\n{\n\treturn 0;\n}\n\n'
			printf 'static int f(struct mm_struct *mm, int x)\n{\n\tstruct mm_walk w = { .pte_entry = cb, .mm = mm };\n\n'
			body "$shape" "$n"
			printf '\n\treturn walk_page_range(0, 1, &w);\n}\n'
		} >"$tmp/t/mm/a.c"
		start=$(date +%s.%N)
		rc=0
		"$bin" check "$tmp/t" --parse-timeout-ms 600000 >/dev/null 2>"$tmp/err" || rc=$?
		end=$(date +%s.%N)
		verdict=$(grep -o 'unchecked: .*\|would convert\|flagged.*\]' "$tmp/err" | head -1 | cut -c1-60)
		printf '%-9s %5d  exit %d  %7.2fs  %s\n' "$shape" "$n" "$rc" "$(echo "$end - $start" | bc)" "$verdict"
	done
done
