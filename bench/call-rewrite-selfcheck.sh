#!/usr/bin/env bash
# Checks bench/call-rewrite-truth.sh itself, with stand-ins for kcodemod (no kcodemod needed):
#
#   bench/call-rewrite-selfcheck.sh RULE OLD_TREE NEW_TREE
#
# RULE may be a rule file (`*.toml`, as call-rewrite-truth.sh takes it); its `sed` run
# changes nothing (no naive rename is known for it).
#
#   nochange  touches nothing, reports nothing     every scored site must be missed, exit 1
#   flagall   touches nothing, flags every line    every scored site must be flagged, exit 0
#             that names the old API
#   copynew   puts NEW_TREE's version of each      every scored site must be right, exit 0
#             file in place
#   sed       a naive textual rename of the        printed only (plausible numbers: the issue's
#             calls (no reports)                   peers score about the same)
# Prints each run's table line; exits 1 when one of the expectations fails.
set -euo pipefail
rule=${1:?usage: call-rewrite-selfcheck.sh RULE OLD_TREE NEW_TREE}
old=${2:?usage: call-rewrite-selfcheck.sh RULE OLD_TREE NEW_TREE}
new=${3:?usage: call-rewrite-selfcheck.sh RULE OLD_TREE NEW_TREE}
here=$(cd "$(dirname "$0")" && pwd)
new=$(cd "$new" && pwd)
fakes=$(mktemp -d)
trap 'rm -rf "$fakes"' EXIT

# Every fake is called as `FAKE apply --rule RULE --json TREE`.
printf '#!/usr/bin/env bash\nexit 0\n' >"$fakes/nochange"
cat >"$fakes/flagall" <<'SH'
#!/usr/bin/env bash
cd "${!#}" && grep -rnwE --include='*.c' --include='*.h' "$FAKE_PATTERN" . |
	sed -E 's|^\./([^:]*):([0-9]+):.*|{"type":"site","rule":"'"$3"'","file":"\1","line":\2,"function":"","status":"flagged","code":"fake","reason":"every line"}|'
SH
cat >"$fakes/copynew" <<'SH'
#!/usr/bin/env bash
cd "${!#}" && find . -type f | while read -r f; do
	if [[ -f $FAKE_NEW/$f ]]; then cp "$FAKE_NEW/$f" "$f"; fi
done
SH
cat >"$fakes/sed" <<'SH'
#!/usr/bin/env bash
o='&\([A-Za-z0-9_>.-]*\)->mmap_sem'
case $3 in
ioremap_nocache) e='s/\bdevm_ioremap_nocache\b/devm_ioremap/g; s/\bioremap_nocache\b/ioremap/g' ;;
mmap_lock)
	e=''
	for p in down_read_trylock:mmap_read_trylock down_read_killable:mmap_read_lock_killable \
		down_write_killable:mmap_write_lock_killable downgrade_write:mmap_write_downgrade \
		down_read:mmap_read_lock up_read:mmap_read_unlock down_write:mmap_write_lock \
		up_write:mmap_write_unlock lockdep_assert_held:mmap_assert_locked; do
		e+="s/\\b${p%%:*}($o)/${p#*:}(\\1)/g;"
	done
	e+="s/\\bdown_write_nested($o, */mmap_write_lock_nested(\\1, /g" ;;
esac
find "${!#}" -type f -name '*.[ch]' -print0 | xargs -0 sed -i "$e"
SH
chmod +x "$fakes"/*
case $rule in
ioremap_nocache) export FAKE_PATTERN='(devm_)?ioremap_nocache' ;;
*.toml)
	FAKE_PATTERN=$(python3 -c 'import sys, tomllib
print("|".join(tomllib.load(open(sys.argv[1], "rb")).get("watch", {}).get("names", [])))' "$rule")
	export FAKE_PATTERN ;;
*) export FAKE_PATTERN='mmap_sem' ;;
esac
export FAKE_NEW=$new

fail=0
for fake in nochange flagall copynew sed; do
	rc=0
	"$here/call-rewrite-truth.sh" "$rule" "$old" "$new" "$fakes/$fake" >"$fakes/$fake.out" || rc=$?
	read -r scored right wrong flagged missed < <(awk '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "scored") s = $(i - 1) }
		$1 == "right" && NF == 2 { r = $2 } $1 == "wrong" && NF == 2 { w = $2 }
		$1 == "flagged" && NF == 2 { f = $2 } $1 == "missed" && NF == 2 { m = $2 }
		END { print s, r, w, f, m }' "$fakes/$fake.out")
	case $fake in
	nochange) want="$scored 0 0 0 $scored 1" ;;
	flagall) want="$scored 0 0 $scored 0 0" ;;
	copynew) want="$scored $scored 0 0 0 0" ;;
	sed) want="" ;;
	esac
	got="$scored $right $wrong $flagged $missed $rc"
	verdict=ok
	if [[ -n $want && $got != "$want" ]]; then verdict="FAIL (want $want)"; fail=1; fi
	[[ -z $want ]] && verdict=info
	printf '%-8s scored %4s  right %4s  wrong %3s  flagged %4s  missed %4s  exit %s  %s\n' \
		"$fake" "$scored" "$right" "$wrong" "$flagged" "$missed" "$rc" "$verdict"
done
exit "$fail"
