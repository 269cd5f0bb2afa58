# SPDX-License-Identifier: ISC
# "-" is standard output for pack and standard input for verify, list and
# unpack; a bundle is never written to a terminal.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src
# Fixed time: the same bytes every run (the flipped byte below stays a real change).
export SOURCE_DATE_EPOCH=$FIXED_EPOCH

expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 $FIXED_VALIDITY -o -
cp "$OUT" b
[ -s b ] || fail "pack -o - wrote nothing to stdout"
[ ! -e ./- ] || fail "pack -o - created a file named '-'"
# Same bytes as a pack to a file.
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 $FIXED_VALIDITY -o file.folio
cmp b file.folio || fail "pack -o - differs from pack -o file.folio"
unset SOURCE_DATE_EPOCH

expect_status 0 sh -c 'cat b | "$1" verify - -p key.pub' sh "$UNPACK"
expect_status 0 sh -c 'cat b | "$1" list - -p key.pub' sh "$UNPACK"
expect_stdout_match 'a\.txt'
expect_status 0 sh -c 'cat b | "$1" unpack - -p key.pub -C dest' sh "$UNPACK"
diff -r -x .folio src dest || fail "unpack from a pipe differs"

# A damaged bundle on stdin is refused like a file.
python3 "$TOOL" flip b 40 01 bad
expect_status 1 sh -c 'cat bad | "$1" verify - -p key.pub' sh "$UNPACK"
expect_stderr_match '^folio-unpack: '
expect_stderr_lines 1
before=$(tree_digest .)
expect_status 1 sh -c 'cat bad | "$1" unpack - -p key.pub -C dest3' sh "$UNPACK"
assert_same_digest "$before" . "a refused unpack from stdin"

# Refuse to write a bundle to a terminal (needs script(1) for a pty).
if ! command -v script >/dev/null 2>&1; then
	echo "note: script(1) missing: terminal refusal not checked"
	exit 0
fi
before=$(tree_digest .)
SOURCE_DATE_EPOCH=$(recent_epoch) expect_status 2 script -qec "'$PACK' pack src -k key.key -c chan -l 1 -o -" /dev/null
grep -Eqi 'terminal|tty' "$OUT" || { show_last; fail "no message about the terminal"; }
LC_ALL=C grep -qF "$(printf '\050\265\057\375')" "$OUT" && fail "bundle bytes went to the terminal"
assert_same_digest "$before" . "pack to a terminal"
exit 0
