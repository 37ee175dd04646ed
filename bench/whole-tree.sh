#!/usr/bin/env bash
# Whole-tree benchmark for kcodemod (speed goal, issue 5).
#
#   bench/whole-tree.sh [TREE...]
#
# Builds the release binary, then for each kernel TREE (default: Debian's linux-source-6.1,
# unpacked once under ${XDG_CACHE_HOME:-$HOME/.cache}/kcodemod-bench/linux-6.1) times, with
# public tools only (bash's clock and /usr/bin/time):
#
#   floor       rg -l mm_walk TREE             grep -rl mm_walk TREE
#   kcodemod    check / diff / series with --rule mm_walk_ops (series: fixed --date/--signoff,
#               --no-checkpatch: checkpatch is perl's time, about 2 s of CPU per patch)
#               check with every bundled rule named (the v5.4 and v5.6 migrations at once)
#               check with a rule whose prefilter matches nothing (walk + read + scan only)
#               check with 1, 10 and 50 rules (mm_walk_ops + 9 / 49 made-up rules templated
#               from fixtures/rules/irq_walker_ops.toml, prefilter literals kcm_fake_walkNN)
#               diff -j1 and diff -j2
#
# Method: one warm-up run of every command (it also warms the page cache), then BENCH_RUNS
# rounds (default 7). A round runs `rg -l` then `grep -rl`, then each kcodemod command right
# after its own `rg -l` run (A B A B ...). Ratios are medians of the per-pair ratios (command /
# the rg run just before it; command / the grep run of the same round). Wall time is bash's
# EPOCHREALTIME around the run, user/sys/max RSS come from /usr/bin/time -f '%e %U %S %M'.
# Every command's stdout goes to a regular file: rg and grep stop at the first match when
# stdout is /dev/null, which would make the floor unfairly cheap.
#
# Checks: every diff run's output is byte-identical (-j1, -j2 and the default -j), and every
# series output directory is identical to the first one.
#
# Goals (issue 5): check and diff <= 1.3x rg -l (also with every bundled rule), series <= 1.5x, peak RSS <= 150 MB, 1/10/50
# rules within 20 % (max/min of the three paired wall ratios to rg -l <= 1.2).

set -euo pipefail

RUNS=${BENCH_RUNS:-7}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIT=mm_walk                    # prefilter literal of rules/mm_walk_ops.toml
RULE=mm_walk_ops
NULL_LIT=kcm_fake_walk01       # prefilter literal of the first made-up rule
SERIES_DATE='Thu, 01 Jan 2026 00:00:00 GMT'
SERIES_SIGNOFF='Kcodemod Bench <bench@example.invalid>'

say() { printf '%s\n' "$*" >&2; }
die() { say "whole-tree.sh: $*"; exit 2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"

# ---- helpers ---------------------------------------------------------------------------------

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        return 1
    fi
}

apt_install() { # PKG WHY
    say "installing $1 ($2) with apt-get ..."
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >&2; then
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2 \
            || ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >&2; then
            die "apt-get install -y $1 failed: it needs root (or password-less sudo) and a \
Debian/Ubuntu package source. Install $1 yourself, or pass the tree(s) to benchmark."
        fi
    fi
}

now() { # seconds, microsecond resolution, no fork
    if [[ -n ${EPOCHREALTIME:-} ]]; then printf '%s' "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi
}

median() { # numbers on stdin -> median
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- tools -----------------------------------------------------------------------------------

[[ -x /usr/bin/time ]] || apt_install time "/usr/bin/time for user/sys time and max RSS"
command -v rg >/dev/null || apt_install ripgrep "rg -l is the speed floor"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"

say "building the release binary ..."
(cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/kcodemod
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
[[ -x $BIN ]] || die "$BIN: not built"

# ---- trees -----------------------------------------------------------------------------------

TREES=("$@")
if [[ ${#TREES[@]} -eq 0 ]]; then
    CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kcodemod-bench
    DEFAULT_TREE=$CACHE/linux-6.1
    TARBALL=/usr/src/linux-source-6.1.tar.xz
    if [[ ! -e $DEFAULT_TREE/.kcodemod-bench-unpacked ]]; then
        [[ -f $TARBALL ]] || apt_install linux-source-6.1 "the default tree, $TARBALL"
        [[ -f $TARBALL ]] || die "$TARBALL still absent after installing linux-source-6.1"
        say "unpacking $TARBALL into $DEFAULT_TREE (once) ..."
        rm -rf "$DEFAULT_TREE.tmp"
        mkdir -p "$DEFAULT_TREE.tmp"
        tar -xJf "$TARBALL" -C "$DEFAULT_TREE.tmp" --strip-components=1
        touch "$DEFAULT_TREE.tmp/.kcodemod-bench-unpacked"
        rm -rf "$DEFAULT_TREE"
        mv "$DEFAULT_TREE.tmp" "$DEFAULT_TREE"
    fi
    TREES=("$DEFAULT_TREE")
fi
for t in "${TREES[@]}"; do [[ -d $t ]] || die "$t: not a directory"; done

# ---- work dir and made-up rules --------------------------------------------------------------

W=$(mktemp -d "${TMPDIR:-/tmp}/kcodemod-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$W/rules"
TEMPLATE=$ROOT/fixtures/rules/irq_walker_ops.toml
[[ -f $TEMPLATE ]] || die "$TEMPLATE: missing (the made-up rules are templated from it)"
FAKE=()
for i in $(seq -w 1 49); do
    # irq_walker -> kcm_fake_walkNN (id, old struct, ops struct, prefilter);
    # irq_walk_tree / irq_walk_desc -> kcm_fake_entryNN_tree / _desc; iw_walk -> kcm_fakeNN_walk.
    sed -e "s/irq_walker/kcm_fake_walk$i/g" \
        -e "s/irq_walk_/kcm_fake_entry${i}_/g" \
        -e "s/iw_walk/kcm_fake${i}_walk/g" \
        -e "s/^subject = .*/subject = \"kcm fake $i: made-up benchmark rule\"/" \
        "$TEMPLATE" >"$W/rules/kcm_fake_walk$i.toml"
    FAKE+=("$W/rules/kcm_fake_walk$i.toml")
done
R1=(--rule "$RULE")
R10=(--rule "$RULE")
for f in "${FAKE[@]:0:9}"; do R10+=(--rule "$f"); done
R50=(--rule "$RULE")
for f in "${FAKE[@]}"; do R50+=(--rule "$f"); done
RNULL=(--rule "${FAKE[0]}")
RALL=()
for f in "$ROOT"/rules/*.toml; do RALL+=(--rule "$(basename "$f" .toml)"); done
"$BIN" rules "${R50[@]}" >"$W/rules.list" 2>&1 || { cat "$W/rules.list" >&2; die "the made-up rules do not load"; }
[[ $(wc -l <"$W/rules.list") -eq 50 ]] || die "expected 50 rules, got: $(cat "$W/rules.list")"

# ---- one timed run ---------------------------------------------------------------------------

# run_once LABEL ROUND CMD...: stdout -> $W/out/LABEL.ROUND, stderr -> $W/err/LABEL.ROUND;
# appends "wall cpu rss_kb rc usr sys" to $W/s/LABEL (ROUND "w" = warm-up: not recorded).
declare -A CMD
run_once() {
    local label=$1 round=$2 t0 t1 rc line e u s m
    eval "set -- ${CMD[$label]}"
    if [[ $label == series* ]]; then rm -rf "$W/series-out"; fi
    t0=$(now)
    set +e
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" >"$W/out/$label.$round" 2>"$W/err/$label.$round"
    rc=$?
    set -e
    t1=$(now)
    line=$(tail -n 1 "$W/time")
    read -r e u s m <<<"$line"
    if [[ $rc -gt 1 ]]; then
        say "warning: $label exited $rc:"
        tail -n 5 "$W/err/$label.$round" >&2
    fi
    if [[ $label == series* ]]; then
        if [[ -d $W/series-ref ]]; then
            diff -r "$W/series-ref" "$W/series-out" >"$W/series.diff" 2>&1 || echo "$round" >>"$W/series-mismatch"
        else
            cp -r "$W/series-out" "$W/series-ref"
        fi
    fi
    [[ $round == w ]] && return 0
    awk -v a="$t0" -v b="$t1" -v u="$u" -v s="$s" -v m="$m" -v rc="$rc" \
        'BEGIN { printf "%.4f %.2f %d %d %.2f %.2f\n", b - a, u + s, m, rc, u, s }' >>"$W/s/$label"
    # Keep only the outputs the checks need.
    case $label in
        diff*) ;;
        *) rm -f "$W/out/$label.$round" ;;
    esac
}

# ---- one tree --------------------------------------------------------------------------------

bench_tree() {
    local tree=$1 name label r i
    tree=$(cd "$tree" && pwd)
    name=$(basename "$tree")
    rm -rf "$W/out" "$W/err" "$W/s" "$W/series-ref" "$W/series-out" "$W/series-mismatch"
    mkdir -p "$W/out" "$W/err" "$W/s"
    q() { printf '%q ' "$@"; }
    CMD=(
        [rg]="$(q rg -l "$LIT" "$tree")"
        [grep]="$(q grep -rl "$LIT" "$tree")"
        [rgnull]="$(q rg -l "$NULL_LIT" "$tree")"
        [check]="$(q "$BIN" check "${R1[@]}" "$tree")"
        [diff]="$(q "$BIN" diff "${R1[@]}" "$tree")"
        [series]="$(q "$BIN" series "${R1[@]}" --no-checkpatch --date "$SERIES_DATE" --signoff "$SERIES_SIGNOFF" -o "$W/series-out" "$tree")"
        [null]="$(q "$BIN" check "${RNULL[@]}" "$tree")"
        [checkall]="$(q "$BIN" check "${RALL[@]}" "$tree")"
        [check10]="$(q "$BIN" check "${R10[@]}" "$tree")"
        [check50]="$(q "$BIN" check "${R50[@]}" "$tree")"
        [diffj1]="$(q "$BIN" diff -j1 "${R1[@]}" "$tree")"
        [diffj2]="$(q "$BIN" diff -j2 "${R1[@]}" "$tree")"
    )
    # kcodemod command -> the floor it is paired with
    local -A FLOOR=([grep]=rg [check]=rg [diff]=rg [series]=rg [null]=rgnull [checkall]=rg
        [check10]=rg [check50]=rg [diffj1]=rg [diffj2]=rg)
    local order=(grep check diff series null checkall check10 check50 diffj1 diffj2)

    local load0
    load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
    say "== $name: warm-up ..."
    for label in rg rgnull "${order[@]}"; do run_once "$label" w; done
    local t_start t_end
    t_start=$(now)
    for ((r = 1; r <= RUNS; r++)); do
        say "== $name: round $r/$RUNS ..."
        for label in "${order[@]}"; do
            run_once "${FLOOR[$label]}" "$r"
            # the grep run of this round is the reference for the grep ratios
            run_once "$label" "$r"
        done
    done
    t_end=$(now)

    # per-pair ratios: the k-th run of LABEL against the k-th run of its floor in the same slot.
    # rg runs once per slot, in order, so its samples are interleaved: slot j of round r is
    # line (r-1)*nslots + j of $W/s/rg (rgnull: one per round).
    local nslots=0
    for label in "${order[@]}"; do [[ ${FLOOR[$label]} == rg ]] && nslots=$((nslots + 1)); done
    local -A SLOT=()
    local j=0
    for label in "${order[@]}"; do
        if [[ ${FLOOR[$label]} == rg ]]; then j=$((j + 1)); SLOT[$label]=$j; fi
    done

    col() { awk -v c="$2" '{ print $c }' "$W/s/$1"; }
    med() { col "$1" "$2" | median; }
    ratio_rg() { # LABEL -> median of per-pair wall ratios to the rg run right before it
        local l=$1 f=${FLOOR[$1]}
        if [[ $f == rgnull ]]; then
            paste -d' ' "$W/s/$l" "$W/s/rgnull" | awk '{ print $1 / $7 }' | median
        else
            awk -v n="$nslots" -v j="${SLOT[$l]}" 'NR % n == j % n { print $1 }' "$W/s/rg" \
                | paste -d' ' "$W/s/$l" - | awk '{ print $1 / $7 }' | median
        fi
    }
    cpu_rg() { # LABEL -> median of per-pair cpu (user+sys) ratios to the rg run right before it
        local l=$1
        if [[ ${FLOOR[$l]:-rg} == rgnull ]]; then
            paste -d' ' "$W/s/$l" "$W/s/rgnull" | awk '{ print $2 / $8 }' | median
        else
            awk -v n="$nslots" -v j="${SLOT[$l]:-1}" 'NR % n == j % n { print $2 }' "$W/s/rg" \
                | paste -d' ' "$W/s/$l" - | awk '{ print $2 / $7 }' | median
        fi
    }
    ratio_grep() { # LABEL -> median of per-round wall ratios to that round's grep run
        paste -d' ' "$W/s/$1" "$W/s/grep" | awk '{ print $1 / $7 }' | median
    }
    counts() { # LABEL -> "read/parsed/changed" from the summary line on stderr
        sed -n 's/^kcodemod: \([0-9]*\) files read, \([0-9]*\) parsed, \([0-9]*\) \(would change\|changed\).*/\1\/\2\/\3/p' \
            "$W/err/$1.1" | tail -n 1
    }
    rcs() { col "$1" 4 | sort -u | paste -sd, -; }

    local nfiles
    nfiles=$(find "$tree" -type f | wc -l)
    local json
    json=$("$BIN" check --json -q "${R1[@]}" "$tree" 2>/dev/null | grep '"type":"summary"' || true)

    # ---- checks ----
    local j_ok="identical" s_ok="identical" x ndiff=0
    for x in "$W"/out/diff*.*; do
        ndiff=$((ndiff + 1))
        cmp -s "$W/out/diffj1.1" "$x" || { j_ok="DIFFER ($(basename "$x") vs diffj1.1)"; break; }
    done
    if [[ -s $W/series-mismatch ]]; then s_ok="DIFFER (rounds $(paste -sd, "$W/series-mismatch"))"; fi
    local nseries
    nseries=$(find "$W/series-ref" -type f | wc -l)

    # ---- table ----
    local -A DESC=(
        [rg]="rg -l $LIT"
        [grep]="grep -rl $LIT"
        [rgnull]="rg -l $NULL_LIT"
        [check]="check --rule $RULE"
        [diff]="diff --rule $RULE"
        [series]="series --rule $RULE"
        [null]="check, 1 made-up rule (no match)"
        [checkall]="check, every bundled rule"
        [check10]="check, 10 rules"
        [check50]="check, 50 rules"
        [diffj1]="diff -j1 --rule $RULE"
        [diffj2]="diff -j2 --rule $RULE"
    )
    local -A GOAL=([check]=1.3 [diff]=1.3 [series]=1.5 [checkall]=1.3)
    echo
    echo "== $name  ($tree)"
    echo "   $nfiles files; $(nproc) CPUs; $RUNS rounds (+1 warm-up); $(date -u '+%Y-%m-%d %H:%M UTC');" \
        "kcodemod $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo '?'); $(rg --version | sed -n 1p); $(grep --version | sed -n 1p)"
    printf '%-34s %7s %7s %7s %7s %7s %7s %9s %7s  %-17s %-4s %s\n' \
        command "wall s" "cpu s" "usr s" "sys s" "RSS MB" "×rg -l" "×grep -rl" "cpu×rg" read/parsed/chgd exit "goal (wall ×rg -l)"
    for label in rg grep rgnull "${order[@]:1}"; do
        local rr rgp cnt goal="" cr="-"
        case $label in
            rg) rr=1
                rgp=$(awk -v n="$nslots" 'NR % n == 1 % n { print $1 }' "$W/s/rg" \
                    | paste -d' ' - "$W/s/grep" | awk '{ print $1 / $2 }' | median) ;;
            grep) rr=$(ratio_rg grep); rgp=1 ;;
            rgnull) rr=$(awk -v n="$nslots" 'NR % n == 1 % n { print $1 }' "$W/s/rg" \
                    | paste -d' ' "$W/s/rgnull" - | awk '{ print $1 / $7 }' | median)
                rgp=$(ratio_grep rgnull) ;;
            *) rr=$(ratio_rg "$label"); rgp=$(ratio_grep "$label"); cr=$(cpu_rg "$label") ;;
        esac
        [[ $cr == - ]] || cr=$(printf '%.2f' "$cr")
        cnt=$(counts "$label" 2>/dev/null || true)
        if [[ -n ${GOAL[$label]:-} ]]; then
            goal=$(awk -v r="$rr" -v g="${GOAL[$label]}" 'BEGIN { printf "<= %s×: %s", g, (r <= g ? "met" : "MISSED") }')
        fi
        printf '%-34s %7.3f %7.2f %7.2f %7.2f %7.1f %7.2f %9.2f %7s  %-17s %-4s %s\n' \
            "${DESC[$label]}" "$(med "$label" 1)" "$(med "$label" 2)" "$(med "$label" 5)" \
            "$(med "$label" 6)" "$(col "$label" 3 | sort -n | tail -n 1 | awk '{ print $1 / 1024 }')" \
            "$rr" "$rgp" "$cr" "${cnt:--}" "$(rcs "$label")" "$goal"
    done
    echo "   (wall, cpu = medians; cpu = user+sys; RSS = max over runs; ×rg -l and cpu×rg = medians of"
    echo "    per-pair ratios to the rg run just before; ×grep -rl: to the grep run of the same round;"
    echo "    the made-up-rule check is paired with rg -l $NULL_LIT)"
    echo "   --json summary (check --rule $RULE): ${json:-none}"

    # ---- rules curve ----
    # max/min over the paired ratios to rg -l (robust to a machine whose speed drifts); the
    # unpaired median walls and cpu are shown too.
    local r1 r10 r50 flat
    r1=$(ratio_rg check); r10=$(ratio_rg check10); r50=$(ratio_rg check50)
    flat=$(printf '%s\n%s\n%s\n' "$r1" "$r10" "$r50" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f", hi / lo }')
    printf '   rules curve (check): 1 / 10 / 50 rules: wall ×rg -l %.2f / %.2f / %.2f; median wall %.3f / %.3f / %.3f s; cpu %.2f / %.2f / %.2f s\n' \
        "$r1" "$r10" "$r50" "$(med check 1)" "$(med check10 1)" "$(med check50 1)" "$(med check 2)" "$(med check10 2)" "$(med check50 2)"
    echo "   rules curve max/min (of wall ×rg -l): $flat (goal <= 1.2: $(awk -v f="$flat" 'BEGIN { print (f <= 1.2 ? "met" : "MISSED") }'))"

    # ---- other goals ----
    local peak
    peak=$(cat "$W"/s/{check,diff,series,null,check10,check50,diffj1,diffj2} | awk '$3 > m { m = $3 } END { printf "%.1f", m / 1024 }')
    echo "   peak RSS of any kcodemod run: $peak MB (goal <= 150 MB: $(awk -v p="$peak" 'BEGIN { print (p <= 150 ? "met" : "MISSED") }'))"
    echo "   diff output, -j1 vs -j2 vs default -j, all $ndiff runs (warm-ups included): $j_ok ($(wc -c <"$W/out/diffj1.1") bytes)"
    echo "   series output dir (fixed --date/--signoff), $((RUNS + 1)) runs: $s_ok ($nseries files)"
    printf '   diff -j1 vs -j2: wall %.3f s vs %.3f s, cpu %.2f s vs %.2f s\n' \
        "$(med diffj1 1)" "$(med diffj2 1)" "$(med diffj1 2)" "$(med diffj2 2)"
    awk -v a="$t_start" -v b="$t_end" -v l0="$load0" -v l1="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" \
        'BEGIN { printf "   measured rounds took %.0f s; load average before %s, after %s\n", b - a, l0, l1 }'
}

say "kcodemod: $BIN"
say "made-up rules: $W/rules (50 rules loaded: ok)"
for t in "${TREES[@]}"; do bench_tree "$t"; done
