# SPDX-License-Identifier: ISC
# Keys that change, in the library (FORMAT.md sections 15 and 16.3): the
# channel is pinned to its root key only; bundles signed by day keys the
# root delegated to install; the newest key list accepted decides, also for
# bundles that carry an older one; a newer list that revokes a stolen key
# removes the editions it forged and resets the rollback floor it pushed up;
# a replayed or forged bundle of the revoked key is refused; a second list
# with the same version is refused; a root-signed bundle still installs;
# check verifies delegated editions against their kept key lists.
# Each refusal: exit 1, one line, the library byte for byte unchanged.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

for k in root day1 day2 day3; do
	expect_status 0 "$PACK" keygen -o $k --unencrypted -q
done
DAY1=$(pub_keyid day1.pub)
lib_src src 1

# pack_with KEY LIST EDITION OUT: edition EDITION of channel news signed by
# KEY, carrying LIST.
pack_with() {
	printf 'edition %s\n' "$3" >src/tag.txt
	SOURCE_DATE_EPOCH=$(($(date +%s) - 3600 + $3)) expect_status 0 "$PACK" pack src -k "$1" \
		-c news -e "$3" -t "news edition $3" -l 1 --keys "$2" -o "$4" -q
}
# keep LIST NAME: a copy of the list as it is now.
keep() { cp "$1" "$2" && cp "$1.minisig" "$2.minisig" || fail "copy $1"; }

refused() {
	local bundle=$1 re=$2 before
	before=$(tree_digest lib)
	expect_reject 1 "^folio-unpack: cannot (install|verify) '$(re_quote "$bundle")': .*$re" \
		"$UNPACK" install "$bundle" --library lib
	assert_same_digest "$before" lib "install $bundle"
}

# Version 1: day1 signs editions 1 to 1000.
expect_status 0 "$PACK" delegate -k root.key -p day1.pub -c news -o news.keys --last 1000 -q
keep news.keys v1.keys
pack_with day1.key v1.keys 10 e10.folio
expect_status 0 "$UNPACK" trust add news root.pub --library lib
expect_status 0 "$UNPACK" install e10.folio --library lib
[ "$(lib_json channels.0.keys_version)" = 1 ] || fail "the key list accepted is not version 1"
[ "$(lib_json channels.0.editions.0.signer)" = "$DAY1" ] || fail "edition 10 is not shown signed by day1"
cmp -s lib/news/10/.folio/keys.json v1.keys || fail "the edition does not keep its key list"
lib_consistent

# The day key is stolen: the thief signs edition 900, inside day1's range,
# and the library takes it (nothing tells it apart yet).
pack_with day1.key v1.keys 900 e900.folio
expect_status 0 "$UNPACK" install e900.folio --library lib
[ "$(lib_json channels.0.edition)" = 900 ] || fail "edition 900 not accepted"

# The publisher delegates to day2 from edition 11 (version 2) and revokes
# day1 after edition 10 (version 3); edition 11, signed by day2, brings
# version 3.  Edition 11 is lower than 900, but version 3 voids what day1
# signed after 10: the floor goes back to 10, edition 900 is removed.
expect_status 0 "$PACK" delegate -k root.key -p day2.pub -c news -o news.keys --first 11 -q
keep news.keys v2.keys
expect_status 0 "$PACK" revoke -k root.key -p day1.pub -c news -o news.keys --after 10 -q
keep news.keys v3.keys
pack_with day2.key v3.keys 11 e11.folio
expect_status 0 "$UNPACK" install e11.folio --library lib
expect_stderr_match "removed 1 edition of channel 'news' signed by a key its publisher has revoked"
[ "$(lib_editions)" = "news/10 news/11 " ] || fail "after the revocation the library holds: $(lib_editions)"
[ "$(lib_json channels.0.keys_version)" = 3 ] || fail "key list version 3 not kept"
[ "$(lib_json channels.0.edition)" = 11 ] || fail "the floor is not edition 11"
[ "$(lib_json "channels.0.signers.$DAY1")" = 10 ] || fail "day1's newest edition is not cut back to 10"
lib_consistent
grep -q 'news edition 900' lib/index.html && fail "the library page still lists edition 900"

# Replays of what day1 signed, carrying version 1, are refused: the library
# knows version 3.  So is an edition the thief makes next.
refused e900.folio "signed by key $DAY1, which the publisher revoked"
pack_with day1.key v1.keys 950 e950.folio
refused e950.folio "signed by key $DAY1, which the publisher revoked"
# Edition 10 is older than 11: rollback, as ever.
refused e10.folio "edition 10 of channel 'news' is older than edition 11"

# day2 carrying version 2 (older than the library's 3, but day2 is still
# good in 3) installs.
pack_with day2.key v2.keys 12 e12.folio
expect_status 0 "$UNPACK" install e12.folio --library lib -q
[ "$(lib_json channels.0.keys_version)" = 3 ] || fail "an older key list replaced a newer one"

# A different list that also says version 3 (made from version 2 by another
# change) is refused: one version, one list.
cp v2.keys fork.keys && cp v2.keys.minisig fork.keys.minisig
expect_status 0 "$PACK" delegate -k root.key -p day3.pub -c news -o fork.keys -q
pack_with day3.key fork.keys 13 fork13.folio
refused fork13.folio "key list of channel 'news' is version 3 but not the version 3 accepted before"

# A bundle the root signs itself still installs.
printf 'edition 14\n' >src/tag.txt
SOURCE_DATE_EPOCH=$(($(date +%s) - 3600 + 14)) expect_status 0 "$PACK" pack src -k root.key \
	-c news -e 14 -l 1 -o e14.folio -q
expect_status 0 "$UNPACK" install e14.folio --library lib -q
[ "$(lib_editions)" = "news/10 news/11 news/12 news/14 " ] || fail "the library holds: $(lib_editions)"

# check verifies every edition with its own key list and the root.
lib_consistent
# A kept key list that was changed on disk is found.
chmod u+w lib/news/11/.folio/keys.json
sed -i 's/"version":3/"version":4/' lib/news/11/.folio/keys.json
expect_status 1 "$UNPACK" check --library lib
expect_stderr_match "lib/news/11"
echo "key lists in the library: delegation, rotation, revocation with the floor reset, replays refused"
