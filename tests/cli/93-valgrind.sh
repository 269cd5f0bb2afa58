# SPDX-License-Identifier: ISC
# valgrind (memcheck) on the round trip and on the failure paths: keygen,
# pack, verify, list, list --json, unpack, unpack --force (the same edition,
# a newer one); a bundle with one flipped byte (verify, list, unpack); a
# write failing in the middle of unpack; usage errors; a missing key, an
# existing DEST, a wrong key.  Any memory error, any definitely or
# indirectly lost block, or any file descriptor left open fails.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need valgrind
# The ASan+UBSan build cannot run under valgrind (both replace malloc); the
# plain build of the same `make check` runs this test.
if grep -q __asan_init "$UNPACK" "$PACK"; then
	skip "sanitizer build: valgrind runs on the plain build only"
fi

VG_LOG=$SCRATCH/valgrind.log
# vg "STATUS..." CMD...: CMD under valgrind exits with one of STATUS (99 =
# valgrind found an error), and valgrind's log shows no descriptor that CMD
# opened still open at exit (those inherited from the test say so).
vg() {
	local want=$1
	shift
	: >"$VG_LOG"
	expect_status_in "$want" valgrind -q --read-inline-info=no --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes \
		--log-file="$VG_LOG" "$@"
	if grep -q 'ERROR SUMMARY: [1-9]\|definitely lost: [1-9]\|indirectly lost: [1-9]' "$VG_LOG"; then
		sed 's/^/  vg| /' "$VG_LOG" >&2
		fail "valgrind: errors or leaks in: $*"
	fi
	# A descriptor the program opened has a stack under its line; an
	# inherited one says so.
	if awk '/Open (file )?descriptor [0-9]+:/ { open = $0; next }
		open != "" { if ($0 !~ /inherited from parent/) { print open; bad = 1 } open = "" }
		END { exit !bad }' "$VG_LOG" >&2; then
		sed 's/^/  vg| /' "$VG_LOG" >&2
		fail "valgrind: a file descriptor left open at exit by: $*"
	fi
}

src=$FIXTURES/edition
export SOURCE_DATE_EPOCH=$FIXED_EPOCH

# The round trip.
vg 0 "$PACK" keygen -o pub --unencrypted
[ -f pub.key ] && [ -f pub.pub ] || fail "keygen wrote no key pair"
vg 0 "$PACK" pack "$src" -k pub.key -c chan -t 'Valgrind run' -l 3 $FIXED_VALIDITY -o b.folio
vg 0 "$UNPACK" verify b.folio -p pub.pub
vg 0 "$UNPACK" list b.folio -p pub.pub
expect_stdout_match 'Valgrind run'
vg 0 "$UNPACK" list b.folio -p pub.pub --json
expect_stdout_match '"channel":"chan"'
vg 0 "$UNPACK" unpack b.folio -p pub.pub -C dest
# every source file arrives (folio-pack adds pages, thumbnails, the edition
# page, and strips the photo's GPS position)
while IFS= read -r f; do
	[ "$f" = ./assets/img/nile.jpg ] && continue
	cmp -s "$src/$f" "dest/$f" || fail "the round trip under valgrind lost '$f'"
done < <(cd "$src" && find . -type f)
[ -s dest/assets/img/nile.jpg ] || fail "the round trip under valgrind lost the photo"
[ -s dest/index.html ] || fail "the round trip under valgrind made no edition page"
# --force: the same edition (nothing to do), then a newer one (replaced)
vg 0 "$UNPACK" unpack b.folio -p pub.pub -C dest --force
expect_status 0 "$PACK" pack "$src" -k pub.key -c chan -e $((FIXED_EPOCH + 1)) -l 3 $FIXED_VALIDITY \
	-o newer.folio -q
vg 0 "$UNPACK" unpack newer.folio -p pub.pub -C dest --force
# pack to standard output, one thread; verify from standard input.
vg 0 "$PACK" pack "$src" -k pub.key -c chan -t 'Valgrind run' -l 3 $FIXED_VALIDITY -o - -T 1 -q
cmp -s "$OUT" b.folio || fail "pack -o - under valgrind wrote other bytes than pack -o b.folio"
vg 0 "$UNPACK" verify - -p pub.pub <b.folio

# A rejected bundle: one byte flipped near the end (past the signed head),
# and one in the signed head.
python3 "$TOOL" flip b.folio $(($(stat -c %s b.folio) - 20)) 80 bad.folio || fail "flip"
python3 "$TOOL" flip b.folio 60 01 badhead.folio || fail "flip"
before=$(tree_digest .)
vg 1 "$UNPACK" verify bad.folio -p pub.pub
expect_stderr_match "^folio-unpack: .*'bad\\.folio'"
vg 1 "$UNPACK" unpack bad.folio -p pub.pub -C dest2
expect_stderr_match "^folio-unpack: .*'bad\\.folio'"
vg 1 "$UNPACK" list badhead.folio -p pub.pub
assert_same_digest "$before" . "rejected bundles under valgrind"

# Wrong key, missing key, existing DEST.
use_test_keys
vg 1 "$UNPACK" verify b.folio -p key.pub
vg 2 "$UNPACK" unpack b.folio -p pub.pub -C dest
vg "2 3" "$PACK" pack "$src" -k missing.key -c chan -o c.folio
[ ! -e c.folio ] || fail "pack with a missing key wrote c.folio"

# A system error in the middle of unpack (a file larger than RLIMIT_FSIZE:
# write fails with EFBIG): the staging folder is removed on the way out.
mkdir src2
cp -R "$src/." src2/ && head -c 64K /dev/urandom >src2/big.bin || fail "cannot make src2"
expect_status 0 "$PACK" pack src2 -k pub.key -c chan -l 1 $FIXED_VALIDITY -o b2.folio -q
before=$(tree_digest .)
(
	trap '' XFSZ
	ulimit -f 16
	vg 3 "$UNPACK" unpack b2.folio -p pub.pub -C dest2
) || exit 1
assert_same_digest "$before" . "unpack stopped by RLIMIT_FSIZE"

# Usage errors.
vg 2 "$UNPACK" unpack b.folio -p pub.pub --no-such-option
vg 2 "$PACK" pack "$src" -k pub.key -c 'Bad Channel' -o c.folio
exit 0
