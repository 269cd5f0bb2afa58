# SPDX-License-Identifier: ISC
# Every case of tests/hostile/cases.json, built by tools/folio-hostile: the
# Content (signed) and Stream cases of ../shared/SECURITY.md.  Each case is
# built signed with the test key (so it reaches the checks behind the
# signature), forged (another key's signature under the test key's id) and,
# when its manifest is not the base one, stale (the base manifest's good
# signature).  For each, folio-unpack verify and unpack must give the status
# the case expects; a refusal is one clean stderr line naming the bundle and
# matching the case's regex, nothing on stdout, and nothing written: the test
# folder (library and keys) byte-for-byte as before, no staging, the bundles
# untouched, no /tmp/folio-escape.  Accepted cases (the controls, modes from
# the manifest, archives as plain content) must unpack to exactly the
# described files, bytes and modes.  Every failing case is listed, then the
# test fails.
# shellcheck shell=bash source=tests/cli/lib.sh
. "$TESTLIB"
need zstd minisign
use_test_keys
repo=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
HOSTILE=$repo/tools/folio-hostile
CASES=$repo/tests/hostile/cases.json

# The bundles live beside the test folder, so that the digest of the test
# folder taken after every run stays cheap.
BUNDLES=$SCRATCH/bundles
t0=$(date +%s)
python3 "$HOSTILE" build-all "$CASES" "$BUNDLES" --key key.key --jobs "$(nproc)" ||
	fail "folio-hostile build-all failed"
echo "built $(find "$BUNDLES" -name '*.folio' | wc -l) bundles in $(($(date +%s) - t0)) s"

# The generator's control is what folio-pack makes of the same files: the
# same manifest bytes, and stock minisign gives the same signature.
mkdir -p src/news
printf 'first story\n' >src/a.txt
printf 'second story\n' >src/news/b.txt
printf 'first story\n' >src/news/copy.txt
# shellcheck disable=SC2086 # FIXED_VALIDITY is two words
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack --verbatim src -k key.key -c hostile $FIXED_VALIDITY -o packed.folio -q
expect_status 0 "$UNPACK" unpack packed.folio -p key.pub -C packed -q
expect_status 0 "$UNPACK" unpack "$BUNDLES/control.folio" -p key.pub -C generated -q
for f in manifest.json manifest.json.minisig; do
	cmp -s packed/.folio/$f generated/.folio/$f ||
		fail "the generator's control is not what folio-pack writes ($f differs)"
done
rm -rf src packed packed.folio generated

# Two shards check the bundles at once, each in its own folder wN holding a
# library (lib/keep.txt); DEST is wN/lib/dest.  After every unpack the
# shard's folder has the tree digest it had before (lib.sh tree_digest:
# names, types, modes, sizes and bytes), after every verify the same names,
# inodes, sizes and times; no staging is left; /tmp/folio-escape is as it
# was; and at the end the bundles and the test folder are as they were.
escape_check() { # WHAT: /tmp/folio-escape is as it was
	local now=absent
	if [ -e /tmp/folio-escape ] || [ -L /tmp/folio-escape ]; then
		now=$(stat -c '%i %s %Y' /tmp/folio-escape)
	fi
	if [ "$now" != "$escape_before" ]; then
		problem "$1, or the other shard's run at the same time, wrote /tmp/folio-escape"
		escape_before=$now
	fi
}
listing() { # DIR: names, types, modes, sizes, inodes, times (cheap)
	find "$1" \( -type d -printf '%y %m %p\n' \) -o -printf '%y %m %s %i %T@ %p -> %l\n' |
		LC_ALL=C sort | sha256sum
}

# run_one WHAT BUNDLE QUOTED-BUNDLE STATUSES REGEX CMD ARGS...: folio-unpack
# CMD on BUNDLE; its status, its message, and that nothing changed.
# Problems go to $PROBLEMS, one a line; every run to $RUNS.
run_one() {
	local what=$1 b=$2 rq=$3 statuses=$4 re=$5 cmd=$6 rc ok=0 s line
	local -a lines staging
	shift 6
	if [ "$cmd" = unpack ]; then
		"$UNPACK" unpack "$b" -p ../key.pub -C lib/dest "$@" </dev/null >"$OUT" 2>"$ERR"
	else
		"$UNPACK" verify "$b" -p ../key.pub "$@" </dev/null >"$OUT" 2>"$ERR"
	fi
	rc=$?
	mapfile -t lines <"$ERR"
	line=${lines[0]:-}
	printf '%-44s %-6s %s %s %s\n' "$what" "$cmd" "$EPOCHREALTIME" "$rc" "${line//[[:cntrl:]]/?}" >>"$RUNS"
	for s in ${statuses//,/ }; do
		[ "$rc" = "$s" ] && ok=1
	done
	if [ $ok = 0 ]; then
		problem "$what: $cmd: exit status $rc, expected $statuses: ${line//[[:cntrl:]]/?}"
	elif [ "$rc" = 0 ]; then
		if [ "$cmd" = unpack ]; then
			python3 "$HOSTILE" check-tree "$CASES" "${what%%/*}" lib/dest --bundle "$b" >"$OUT" 2>&1 ||
				problem "$what: the unpacked tree is wrong: $(head -c 600 "$OUT" | tr '\n' ' ')"
			rm -rf lib/dest
		fi
	else
		if ! [[ $line =~ ^folio-unpack:\ cannot\ (verify|unpack)\ \'$rq\':\ .*$re ]]; then
			problem "$what: $cmd: the message does not match /$re/: ${line//[[:cntrl:]]/?}"
		elif [ ${#lines[@]} != 1 ]; then
			problem "$what: $cmd: ${#lines[@]} lines on stderr, expected 1"
		elif [[ $line == *[[:cntrl:]]* ]]; then
			problem "$what: $cmd: control characters on stderr: ${line//[[:cntrl:]]/?}"
		fi
		[ ! -s "$OUT" ] || problem "$what: $cmd: wrote to stdout"
	fi
	if [ "$cmd" = unpack ]; then
		[ "$(tree_digest .)" = "$digest_before" ] || changed "$what: $cmd"
	else
		[ "$(listing .)" = "$listing_before" ] || changed "$what: $cmd"
	fi
	staging=(lib/.*.folio-*)
	[ ! -e "${staging[0]}" ] || problem "$what: $cmd left staging behind: ${staging[*]}"
	escape_check "$what: $cmd"
}

problem() {
	printf '%s (pending: %s)\n' "$*" "${pending:--}" >>"$PROBLEMS"
}

# changed WHAT: the shard's folder changed; say how and start again.
changed() {
	problem "$1 changed $PWD: $(find . -newer "$SCRATCH/start.$n" | LC_ALL=C sort | head -n 20 | tr '\n' ' ')"
	rm -rf lib
	mkdir lib
	cp "$SCRATCH/keep.txt" lib/keep.txt
	digest_before=$(tree_digest .)
	listing_before=$(listing .)
}

# shard N: the cases whose row number is N modulo 2, in the folder wN.
shard() {
	local n=$1 i=0 variant b st rx rq vst vrx
	local -a argv
	mkdir "w$n" && cd "w$n" || exit 1
	mkdir lib
	cp "$SCRATCH/keep.txt" lib/keep.txt
	OUT=$SCRATCH/stdout.$n ERR=$SCRATCH/stderr.$n
	PROBLEMS=$SCRATCH/problems.$n RUNS=$SCRATCH/runs.$n
	: >"$PROBLEMS"
	: >"$RUNS"
	touch "$SCRATCH/start.$n"
	digest_before=$(tree_digest .)
	listing_before=$(listing .)
	escape_before=absent
	[ ! -e /tmp/folio-escape ] || escape_before=$(stat -c '%i %s %Y' /tmp/folio-escape)
	while IFS=$'\037' read -r -u 3 label bundle status re ustatus ure args pending vstatus vre; do
		i=$((i + 1))
		[ $((i % 2)) = "$n" ] || continue
		read -ra argv <<<"$args"
		argv=("${argv[@]//@SOURCE@/$BUNDLES/$bundle.source}")
		for variant in signed forged stale; do
			case $variant in
			signed) b=$BUNDLES/$bundle.folio st=$status rx=$re ;;
			*) b=$BUNDLES/$bundle.$variant.folio st=$ustatus rx=$ure ;;
			esac
			if [ ! -e "$b" ]; then
				[ "$variant" != signed ] || problem "$label: $b was not built"
				continue
			fi
			rq=$(re_quote "$b")
			vst=$st vrx=$rx
			if [ "$variant" = signed ] && [ -n "$vstatus" ]; then
				vst=$vstatus vrx=$vre
			fi
			run_one "$label/$variant" "$b" "$rq" "$vst" "$vrx" verify "${argv[@]}"
			run_one "$label/$variant" "$b" "$rq" "$st" "$rx" unpack "${argv[@]}"
		done
	done 3< <(python3 "$HOSTILE" list "$CASES" --tsv)
}

printf 'the library before\n' >"$SCRATCH/keep.txt"
bundles_before=$(listing "$BUNDLES")
top_before=$(tree_digest .)
shard 0 &
shard 1 &
wait
rm -rf w0 w1
[ "$(tree_digest .)" = "$top_before" ] || fail "the test folder changed: $(ls -A)"
[ "$(listing "$BUNDLES")" = "$bundles_before" ] || fail "the bundle folder changed"
n=$(cat "$SCRATCH"/runs.* | wc -l)
[ "$n" -gt 500 ] || fail "only $n runs: the case list is broken"
echo "$n runs ($((n / 2)) bundles) in $(($(date +%s) - t0)) s"
if [ -s "$SCRATCH/problems.0" ] || [ -s "$SCRATCH/problems.1" ]; then
	cat "$SCRATCH"/problems.* >&2
	fail "$(cat "$SCRATCH"/problems.* | wc -l) problems; FOLIO_CLI_KEEP=1 keeps every run in scratch/runs.*"
fi
exit 0
