# SPDX-License-Identifier: ISC
# The library's policy, each refusal exit status 1 with one line a person
# can act on, the library byte for byte unchanged: rollback (older refused;
# the same edition is a no-op that says so, a damaged copy of it refused),
# freeze (expired refused; with the clock at 1970 still refused, "now" being
# when the newest accepted edition was made), fast-forward (made too far in
# the future; --future-margin allows it), wrong channel (a bundle for
# channel b signed by a's key; -c mismatch; an untrusted channel; an
# unknown key).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
expect_status 0 "$PACK" keygen -o stranger --unencrypted -q
lib_src s1 1
lib_src s2 2
lib_src s3 3
lib_pack s1 key.key news 1 n1.folio
lib_pack s2 key.key news 2 n2.folio
lib_pack s3 key.key news 3 n3.folio
expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" trust add other other.pub --library lib
expect_status 0 "$UNPACK" install n2.folio --library lib

# refused BUNDLE REGEX [ARGS...]: install refused, exit 1, one clean line,
# the library unchanged.
refused() {
	local bundle=$1 re=$2 before
	shift 2
	before=$(tree_digest lib)
	expect_reject 1 "^folio-unpack: cannot (install|verify) '$(re_quote "$bundle")': .*$re" \
		"$UNPACK" install "$bundle" --library lib "$@"
	assert_same_digest "$before" lib "install $bundle $*"
}

# ---- rollback
refused n1.folio "edition 1 of channel 'news' is older than edition 2, already accepted; an older edition can bring back what was corrected or withdrawn: get the newest edition"
before=$(tree_digest lib)
expect_status 0 "$UNPACK" install n2.folio --library lib
expect_stderr_match "^folio-unpack: edition 2 of channel 'news' is already installed: nothing to do$"
assert_same_digest "$before" lib "installing the same edition again"
# a damaged copy of the installed edition is refused, not "nothing to do"
cp n2.folio bad2.folio
size=$(stat -c %s bad2.folio)
printf '\x55' | dd of=bad2.folio bs=1 seek=$((size - 200)) conv=notrunc status=none
cmp -s n2.folio bad2.folio && fail "the flip changed nothing"
refused bad2.folio ""
# --force never installs an older edition
refused n1.folio "older than edition 2" --force

# ---- freeze: expired
lib_pack s3 key.key news 9 expired.folio 978307200 30
refused expired.folio "edition expired at 2001-01-31T00:00:00Z"
# with the clock at 1970 (libfaketime): the expired edition is still
# refused: "now" is taken as when edition 2 was made
if command -v faketime >/dev/null 2>&1 && [ "$(faketime '1970-01-02 00:00:00' date +%Y)" = 1970 ]; then
	before=$(tree_digest lib)
	expect_reject 1 "^folio-unpack: cannot verify 'expired.folio': edition expired at 2001-01-31T00:00:00Z \(this device's time is taken as .*, when the newest edition accepted was made, because its clock says 1970-01-02" \
		env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime '1970-01-02 00:00:00' "$UNPACK" install expired.folio --library lib
	assert_same_digest "$before" lib "expired edition with the clock at 1970"
	# and a good next edition is still accepted at 1970 (made within the
	# margin of the last accepted one)
	expect_status 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime '1970-01-02 00:00:00' "$UNPACK" install n3.folio --library lib
	expect_status 0 "$UNPACK" status --library lib
	expect_stdout_match '^ +3  made'
else
	echo "note: faketime is not installed: the 1970 clock case is not checked"
	expect_status 0 "$UNPACK" install n3.folio --library lib
fi

# ---- fast-forward
lib_pack s1 key.key news 10 future.folio $(($(date +%s) + 2 * 86400))
refused future.folio "edition 10 says it was made at .*, more than 1 day after this device's time .*; if the device's clock is wrong, set it, or allow more with --future-margin"
refused future.folio "more than 12 hours after" --future-margin 12h
expect_status 0 "$UNPACK" install future.folio --library lib --future-margin 3d

# ---- channels and keys
lib_pack s1 key.key other 5 other-by-news-key.folio
refused other-by-news-key.folio "it says it is for channel 'other' but is signed by key $TEST_KEY_ID \(channel 'news'\), not by key $OTHER_KEY_ID, the one channel 'other' is pinned to"
lib_pack s1 key.key news 11 n11.folio
refused n11.folio "bundle is for channel 'news', not 'other'" -c other
lib_pack s1 key.key weather 1 w1.folio
refused w1.folio "it is for channel 'weather', which this library does not trust .*folio-unpack trust add weather KEY.pub --library lib"
lib_pack s1 stranger.key news 12 stranger.folio
kid=$(pub_keyid stranger.pub)
refused stranger.folio "it is signed by key $kid, which this library trusts for no channel; if you trust its publisher: folio-unpack trust add CHANNEL KEY.pub --library lib"
# a bundle that is not one
printf 'not a bundle' >junk.folio
refused junk.folio "not a folio bundle"
# -c naming its channel is fine
expect_status 0 "$UNPACK" install n11.folio --library lib -c news
lib_consistent
exit 0
