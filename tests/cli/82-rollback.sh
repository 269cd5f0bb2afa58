# SPDX-License-Identifier: ISC
# Rollback and freeze against the edition DEST already holds: an older
# edition of the same channel is refused even with --force, the same one is
# verified and then nothing to do, a newer one replaces it; DEST's creation
# time is a floor for a clock that is behind.  Refusals write nothing.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src
now=$(date +%s)
TOOL=$(dirname "$TESTLIB")/bundle-tool.py
export SOURCE_DATE_EPOCH=$((now - 3600))
for e in 3 5 7; do
	printf 'edition %s\n' "$e" >src/edition.txt
	expect_status 0 "$PACK" pack src -k key.key -c chan -e "$e" -l 1 -o "e$e.folio" -q
done
expect_status 0 "$PACK" pack src -k key.key -c other -e 1 -l 1 -o other.folio -q
mkdir lib
expect_status 0 "$UNPACK" unpack e5.folio -p key.pub -C lib/dest -q
edition_in() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["edition"])' "$1/.folio/manifest.json"
}

# Older: refused, with and without --force (without, DEST's existence is
# the first complaint: exit 2).
before=$(tree_digest lib)
expect_reject 1 "$(err_re folio-unpack e3.folio "edition 3 of channel 'chan' is older than edition 5 in 'lib/dest'")" \
	"$UNPACK" unpack e3.folio -p key.pub -C lib/dest --force
assert_same_digest "$before" lib "rollback to edition 3"
assert_no_staging lib
expect_reject 2 "'lib/dest'.*exists" "$UNPACK" unpack e3.folio -p key.pub -C lib/dest
assert_same_digest "$before" lib "rollback without --force"

# The same edition: verified, nothing written, exit 0.
expect_status 0 "$UNPACK" unpack e5.folio -p key.pub -C lib/dest --force
expect_stderr_match "'lib/dest' already holds edition 5 of channel chan"
assert_same_digest "$before" lib "same edition again"
assert_no_staging lib
# ... but a damaged copy of it is still refused.
python3 "$TOOL" flip e5.folio $(($(stat -c %s e5.folio) - 30)) 01 e5-bad.folio || fail "flip"
expect_reject 1 "$(err_re folio-unpack e5-bad.folio '')" "$UNPACK" unpack e5-bad.folio -p key.pub -C lib/dest --force
assert_same_digest "$before" lib "damaged copy of the same edition"

# Newer: replaces it.
expect_status 0 "$UNPACK" unpack e7.folio -p key.pub -C lib/dest --force -q
[ "$(edition_in lib/dest)" = 7 ] || fail "edition 7 not installed"
[ "$(cat lib/dest/edition.txt)" = "edition 7" ] || fail "edition 7 content not installed"
assert_no_staging lib
# Another channel's edition is no rollback: --force replaces it.
expect_status 0 "$UNPACK" unpack other.folio -p key.pub -C lib/dest --force -q
[ "$(edition_in lib/dest)" = 1 ] || fail "other channel not installed"
# A DEST without a readable edition in it is replaced as before.
rm -rf lib/dest/.folio
expect_status 0 "$UNPACK" unpack e3.folio -p key.pub -C lib/dest --force -q
[ "$(edition_in lib/dest)" = 3 ] || fail "edition 3 not installed over a plain folder"

# The clock floor.  DEST holds edition 10, made 20 hours ahead of this
# clock (within the one-day allowance for wrong clocks).  Edition 11 expires
# in 2 hours by this clock: verify alone accepts it, but it expired before
# edition 10 was made, so this clock is behind and it is refused.
rm -rf lib/dest
SOURCE_DATE_EPOCH=$((now + 20 * 3600)) expect_status 0 "$PACK" pack src -k key.key -c chan -e 10 -l 1 -o e10.folio -q
SOURCE_DATE_EPOCH=$((now - 10 * 86400 + 7200)) \
	expect_status 0 "$PACK" pack src -k key.key -c chan -e 11 -l 1 --valid-days 10 -o e11.folio -q
expect_status 0 "$UNPACK" unpack e10.folio -p key.pub -C lib/dest -q
expect_status 0 "$UNPACK" verify e11.folio -p key.pub -q
before=$(tree_digest lib)
expect_reject 1 "$(err_re folio-unpack e11.folio 'expired at .*before edition 10 in .lib/dest. was made')" \
	"$UNPACK" unpack e11.folio -p key.pub -C lib/dest --force
assert_same_digest "$before" lib "edition that expired before DEST's was made"
assert_no_staging lib

# A clock set to 1970 (libfaketime): an edition that expired long ago is
# still refused (its creation time is then "in the future").  libfaketime is
# preloaded ahead of ASan's runtime in the sanitizer build: let ASan allow it.
if command -v faketime >/dev/null 2>&1 && [ "$(faketime '1970-01-02 00:00:00' date +%Y)" = 1970 ]; then
	SOURCE_DATE_EPOCH=978307200 expect_status 0 "$PACK" pack src -k key.key -c chan -e 12 -l 1 -o old.folio -q
	before=$(tree_digest lib)
	expect_reject 1 "$(err_re folio-unpack old.folio 'future')" \
		env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime '1970-01-02 00:00:00' "$UNPACK" unpack old.folio -p key.pub -C lib/dest --force
	assert_same_digest "$before" lib "expired edition with the clock at 1970"
	assert_no_staging lib
else
	echo "note: faketime is not installed: the 1970 clock case is not checked"
fi
exit 0
