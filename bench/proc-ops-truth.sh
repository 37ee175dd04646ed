#!/usr/bin/env bash
# Ground truth for rules/proc_ops.toml (issue 14): what kcodemod makes of an old tree, struct by
# struct, against what upstream did in a new one.
#
#   bench/proc-ops-truth.sh OLD_TREE NEW_TREE [KCODEMOD]
#
# e.g. bench/proc-ops-truth.sh linux-5.3.1 linux-5.6.4. KCODEMOD defaults to the debug binary
# (built first). OLD_TREE is only read: the files that register /proc entries are copied to a
# temporary tree and `kcodemod apply --rule proc_ops` runs there.
#
# Every `struct proc_ops NAME = { ... }` definition in NEW_TREE's .c files is one row, matched in
# the same file of the converted copy:
#   converted  a struct proc_ops of that name (or, failing that, the one unmatched struct of
#              the same members) whose member map (member -> value) is upstream's
#   wrong      matched by name, but its member map differs
#   flagged    kcodemod flagged a struct of that name, or one the rule's template renames to it
#              (in any file: a struct defined in one file may be registered from another)
#   missing    none of these (not registered through /proc in OLD_TREE, or not in OLD_TREE)
# Then every flagged site with its reason, and the structs kcodemod converted that upstream did
# not. Prints the table; exits 1 when any row is wrong.
set -euo pipefail

old=${1:?usage: proc-ops-truth.sh OLD_TREE NEW_TREE [KCODEMOD]}
new=${2:?usage: proc-ops-truth.sh OLD_TREE NEW_TREE [KCODEMOD]}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${3:-} ]]; then
	kcodemod=$3
else
	cargo build --quiet --manifest-path "$here/Cargo.toml"
	kcodemod=$here/target/debug/kcodemod
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The files the rule's prefilter lets through, copied with their paths.
(cd "$old" && grep -rlE --include='*.c' --include='*.h' \
	'proc_create\(|proc_create_data\(|svc_proc_register\(' . || true) |
	while read -r f; do
		mkdir -p "$work/tree/$(dirname "$f")"
		cp "$old/$f" "$work/tree/$f"
	done
"$kcodemod" apply --json --rule proc_ops "$work/tree" >"$work/sites.jsonl" 2>/dev/null || true

# proc_ops definitions: "file<TAB>name<TAB>member=value;..." (members sorted).
defs() {
	(cd "$1" && grep -rlE --include='*.c' 'struct proc_ops [A-Za-z_0-9]+\s*=' . || true) |
		sed 's|^\./||' | sort | while read -r f; do
		F="$f" perl -0777 -ne '
			while (/struct\s+proc_ops\s+(\w+)\s*=\s*\{(.*?)\n\s*\};/sg) {
				my ($n, $b) = ($1, $2);
				$b =~ s{/\*.*?\*/}{}sg;
				$b =~ s{^\s*#.*$}{}mg;
				my @m;
				while ($b =~ /\.(\w+)\s*=\s*([^,]+?)\s*(,|$)/sg) { push @m, "$1=$2" }
				print "$ENV{F}\t$n\t", join(";", sort @m), "\n";
			}' "$1/$f"
	done
}
defs "$new" >"$work/upstream.tsv"
defs "$work/tree" >"$work/ours.tsv"
jq -r 'select(.type == "site") | [.file, .function, .status, (.code // ""), (.reason // "")] | @tsv' \
	"$work/sites.jsonl" >"$work/sites.tsv"

OLD=$old perl -e '
	my ($up, $ours, $sites) = @ARGV;
	sub rows { open my $h, "<", shift or die; map { chomp; [split /\t/, $_, -1] } <$h> }
	my @up = rows($up); my @ours = rows($ours); my @sites = rows($sites);
	# The rule file`s naming: strip these suffixes in order, each at most once, add _proc_ops.
	sub renamed { my $b = shift; $b =~ s/^proc_(?=.)//;
		for my $s (qw(_fops _fileops _file_operations _operations _ops _seq _proc)) {
			$b =~ s/\Q$s\E$// if length($b) > length($s) } return "${b}_proc_ops" }
	my (%count, @wrong, %used, @renamed, @missing);
	for my $u (@up) {
		my ($file, $name, $members) = @$u;
		my ($o) = grep { $_->[0] eq $file && $_->[1] eq $name } @ours;
		# Named otherwise than upstream: the struct of this file with upstream`s members.
		($o) = grep { my $c = $_; $c->[0] eq $file && $c->[2] eq $members
			&& !$used{"$c->[0]:$c->[1]"} && !grep({ $_->[0] eq $file && $_->[1] eq $c->[1] } @up)
			} @ours unless $o;
		my $verdict;
		if ($o) {
			$used{"$o->[0]:$o->[1]"} = 1;
			$verdict = $o->[2] eq $members ? "converted" : "wrong";
			push @wrong, "$file: $name: upstream {$members} ours {$o->[2]}" if $verdict eq "wrong";
			push @renamed, "$file: upstream $name, kcodemod $o->[1]" if $o->[1] ne $name;
		} elsif (grep { $_->[2] eq "flagged" && ($_->[1] eq $name || renamed($_->[1]) eq $name) }
				@sites) {
			$verdict = "flagged";
		} else {
			$verdict = "missing";
			my @near = map { "$_->[1] ($_->[3])" } grep { $_->[0] eq $file && $_->[2] eq "flagged" } @sites;
			my $hint = !-e "$ENV{OLD}/$file" ? "not in the old tree"
				: @near ? "flagged in this file: @near"
				: "no file_operations of this file reaches a /proc registration";
			push @missing, "$file: $name: $hint";
		}
		$count{$verdict}++;
		print "$verdict\t$file\t$name\n" if $ENV{VERBOSE};
	}
	my %files; $files{$_->[0]} = 1 for @up;
	printf "upstream struct proc_ops definitions: %d in %d .c files\n", scalar @up, scalar keys %files;
	printf "%-10s %5s\n", $_, $count{$_} // 0 for qw(converted flagged missing wrong);
	print "\nwrong:\n", map { "  $_\n" } @wrong if @wrong;
	print "\nconverted under another name than upstream`s:\n", map { "  $_\n" } @renamed if @renamed;
	print "\nflagged sites (file: struct: code: reason):\n";
	print "  $_->[0]: $_->[1]: $_->[3]: $_->[4]\n" for grep { $_->[2] eq "flagged" } @sites;
	my @extra = grep { !$used{"$_->[0]:$_->[1]"} } @ours;
	print "\nconverted by kcodemod, not a proc_ops upstream:\n", map { "  $_->[0]: $_->[1]\n" } @extra if @extra;
	print "\nmissing:\n", map { "  $_\n" } @missing;
	exit(@wrong ? 1 : 0);
' "$work/upstream.tsv" "$work/ours.tsv" "$work/sites.tsv"
