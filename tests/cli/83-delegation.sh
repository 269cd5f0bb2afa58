# SPDX-License-Identifier: ISC
# Key lists (FORMAT.md section 15): a root key delegates signing to day keys
# for ranges of editions, and revokes them.  folio-pack delegate / revoke
# write the list, stock minisign verifies it with the root's public key,
# pack --keys carries it, and folio-unpack -p ROOT.pub accepts a bundle
# signed by a listed key for an edition in its range, and refuses every
# other combination: exit 1, one line, nothing written.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need zstd tar minisign
make_small_src src
export SOURCE_DATE_EPOCH=$(($(date +%s) - 3600))
for k in root day1 day2; do
	expect_status 0 "$PACK" keygen -o $k --unencrypted -q
done
ROOT=$(pub_keyid root.pub)
DAY1=$(pub_keyid day1.pub)
DAY2=$(pub_keyid day2.pub)

# refused BUNDLE REGEX: verify and unpack both refuse it, exit 1, one line,
# nothing written.
refused() {
	local before
	expect_reject 1 "$(err_re folio-unpack "$1" "$2")" "$UNPACK" verify "$1" -p root.pub
	mkdir -p out
	before=$(tree_digest out)
	expect_reject 1 "$(err_re folio-unpack "$1" "$2")" "$UNPACK" unpack "$1" -p root.pub -C out/dest
	assert_same_digest "$before" out "refused $1"
	assert_no_staging out
}

# with_list BUNDLE LIST OUT: BUNDLE with entries 3 and 4 replaced by LIST and
# LIST.minisig (what a publisher cannot make with folio-pack: pack refuses).
with_list() {
	local dir entries
	dir=$(mktemp -d "$SCRATCH/swap.XXXXXX")
	bundle_extract "$1" "$dir" || fail "extract $1"
	cp "$2" "$dir/.folio/keys.json"
	cp "$2.minisig" "$dir/.folio/keys.json.minisig"
	mapfile -t entries < <(bundle_entries "$1")
	bundle_build "$dir" "$3" "${entries[@]}"
	rm -rf "$dir"
}

# ---- delegate: the list, stock minisign, its output ----
expect_status 0 "$PACK" delegate -k root.key -p day1.pub -c news -o news.keys --last 10
expect_stderr_match "key list version 1 of channel news, signed by root $ROOT"
expect_stderr_match "key $DAY1: editions 1 to 10$"
[ "$(tail -c 1 news.keys | od -An -c | tr -d ' ')" = '\n' ] || fail "news.keys does not end in LF"
grep -q "^{\"format\":\"folio-keys-1\",\"channel\":\"news\",\"version\":1,\"created\":$SOURCE_DATE_EPOCH,\"keys\":\[{\"id\":\"$DAY1\",\"key\":\"$(sed -n 2p day1.pub)\",\"first\":1,\"last\":10}\]}$" news.keys ||
	fail "news.keys is not as FORMAT.md section 15 says: $(cat news.keys)"
expect_status 0 minisign -Vm news.keys -p root.pub
grep -q "Trusted comment: folio-keys-1 channel:news version:1 created:" "$OUT" "$ERR" ||
	fail "minisign does not show the key list's trusted comment"
expect_status 1 minisign -Vm news.keys -p day1.pub
cp news.keys v1.keys
cp news.keys.minisig v1.keys.minisig

# ---- pack --keys, then verify, list and unpack with the root key ----
expect_status 0 "$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys news.keys -o e5.folio -q
expect_status 0 "$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys news.keys -o e5-again.folio -q
cmp -s e5.folio e5-again.folio || fail "a bundle with a key list is not reproducible"
[ "$(bundle_entries e5.folio | head -n 4 | tr '\n' ' ')" = ".folio/manifest.json .folio/manifest.json.minisig .folio/keys.json .folio/keys.json.minisig " ] ||
	fail "entries 3 and 4 are not the key list: $(bundle_entries e5.folio | head -n 4 | tr '\n' ' ')"
expect_status 0 "$UNPACK" verify e5.folio -p root.pub -c news
expect_stderr_match "signed by key $DAY1 \\(delegated by root $ROOT, key list version 1\\)"
expect_status 0 "$UNPACK" list e5.folio -p root.pub
expect_stdout_match "^key: +$DAY1$"
expect_stdout_match "^keys: +version 1 \\(signed by root $ROOT\\)$"
expect_status 0 "$UNPACK" unpack e5.folio -p root.pub -C ed5 -q
cmp -s ed5/.folio/keys.json news.keys || fail "DEST/.folio/keys.json is not the list as signed"
cmp -s ed5/.folio/keys.json.minisig news.keys.minisig || fail "DEST/.folio/keys.json.minisig differs"
[ "$(stat -c %a ed5/.folio/keys.json ed5/.folio/keys.json.minisig | tr '\n' ' ')" = "644 644 " ] ||
	fail "the kept key list is not mode 0644"
expect_status 0 minisign -Vm ed5/.folio/keys.json -p root.pub
# A bundle without a list is read as before: no keys line, the key is the root.
expect_status 0 "$PACK" pack src -k root.key -c news -e 5 -l 1 -o plain.folio -q
expect_status 0 "$UNPACK" list plain.folio -p root.pub
grep -q '^keys:' "$OUT" && fail "list shows a key list for a bundle without one"
expect_status 0 "$UNPACK" unpack plain.folio -p root.pub -C plain -q
[ ! -e plain/.folio/keys.json ] || fail "an edition without a key list has .folio/keys.json"

# ---- refused by the reader ----
# The day key taken for the root: the list is not signed by the trusted key.
expect_reject 1 "$(err_re folio-unpack e5.folio "key list: signed by key $ROOT, not by the trusted key $DAY1")" \
	"$UNPACK" verify e5.folio -p day1.pub
# A day key's bundle without the list: not signed by the root.
expect_status 0 "$PACK" pack src -k day1.key -c news -e 5 -l 1 -o nolist.folio -q
refused nolist.folio "signed by key $DAY1, not by the trusted key $ROOT"
# Tampered list: one changed byte.
dir=$SCRATCH/tamper
bundle_extract e5.folio "$dir"
sed -i 's/"last":10/"last":90/' "$dir/.folio/keys.json"
mapfile -t entries < <(bundle_entries e5.folio)
bundle_build "$dir" tampered.folio "${entries[@]}"
refused tampered.folio "key list: signature does not match key $ROOT"
# The list without its signature entry (entry 4 missing).
bundle_build "$dir" nosig.folio "${entries[@]:0:3}" "${entries[@]:4}"
refused nosig.folio "unexpected entry where '.folio/keys.json.minisig' belongs"
rm -rf "$dir"

# Range narrowed in version 2: edition 5 is now outside 1..4.  pack refuses
# it; a bundle built with the new list is refused by the reader.
expect_status 0 "$PACK" delegate -k root.key -p day1.pub -c news -o news.keys --first 1 --last 4 -q
cp news.keys v2.keys
cp news.keys.minisig v2.keys.minisig
expect_reject 2 "^folio-pack: cannot pack with key list 'news.keys': edition 5 is outside the editions key $DAY1 may sign \\(1 to 4\\)" \
	"$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys news.keys -o x.folio
[ ! -e x.folio ] || fail "pack wrote a bundle it refused"
with_list e5.folio v2.keys range.folio
refused range.folio "edition 5 is outside the editions key $DAY1 may sign \\(1 to 4\\)"

# Revoked in version 3: pack refuses, the reader refuses a bundle carrying it.
expect_status 0 "$PACK" revoke -k root.key -p day1.pub -c news -o news.keys
expect_stderr_match "key list version 3 of channel news"
expect_stderr_match "key $DAY1: no edition, revoked at "
cp news.keys v3.keys
cp news.keys.minisig v3.keys.minisig
expect_reject 2 "^folio-pack: cannot pack with key list 'news.keys': key $DAY1 is revoked" \
	"$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys news.keys -o x.folio
with_list e5.folio v3.keys revoked.folio
refused revoked.folio "signed by key $DAY1, which the publisher revoked \\(key list version 3\\); ask for a newer edition"
# Revoked --after 5: what it signed up to edition 5 stays good.
expect_status 0 "$PACK" delegate -k root.key -p day1.pub -c news -o after.keys -q
expect_status 0 "$PACK" revoke -k root.key --key-id "$DAY1" -c news -o after.keys --after 5 -q
with_list e5.folio after.keys after.folio
expect_status 0 "$UNPACK" verify after.folio -p root.pub -q
# Revoking a key the list does not name, or with the wrong root: refused.
expect_reject 2 "cannot revoke key $DAY2: the key list 'news.keys' \\(version 3\\) does not name it" \
	"$PACK" revoke -k root.key -p day2.pub -c news -o news.keys
expect_reject 1 "^folio-pack: cannot verify 'news.keys': key list: signed by key $ROOT, not by the trusted key $DAY2" \
	"$PACK" delegate -k day2.key -p day2.pub -c news -o news.keys
expect_reject 2 "'news.keys': it is the key list of channel 'news', not 'sport'" \
	"$PACK" delegate -k root.key -p day2.pub -c sport -o news.keys
cmp -s news.keys v3.keys && cmp -s news.keys.minisig v3.keys.minisig ||
	fail "a refused delegate or revoke changed the list"

# A list for another channel; a list signed by another key than the root.
expect_status 0 "$PACK" delegate -k root.key -p day1.pub -c sport -o sport.keys -q
expect_reject 2 "^folio-pack: cannot pack with key list 'sport.keys': it is for channel 'sport', not 'news'" \
	"$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys sport.keys -o x.folio
with_list e5.folio sport.keys sport.folio
refused sport.folio "the key list is for channel 'sport', not 'news'"
expect_status 0 "$PACK" delegate -k day2.key -p day1.pub -c news -o forged.keys -q
with_list e5.folio forged.keys forged.folio
refused forged.folio "key list: signed by key $DAY2, not by the trusted key $ROOT"
# A list that does not name the signing key: pack refuses.
expect_reject 2 "^folio-pack: cannot pack with key list 'v1.keys': it does not name key $DAY2" \
	"$PACK" pack src -k day2.key -c news -e 6 -l 1 --keys v1.keys -o x.folio
# A malformed list: exit 1.
printf '{"format":"folio-keys-1"}\n' >bad.keys
cp v1.keys.minisig bad.keys.minisig
expect_reject 1 "^folio-pack: cannot verify 'bad.keys': key list: trusted comment|^folio-pack: cannot verify 'bad.keys': key list: " \
	"$PACK" pack src -k day1.key -c news -e 5 -l 1 --keys bad.keys -o x.folio
[ ! -e x.folio ] || fail "pack wrote a bundle it refused"

# ---- rotation: day2 delegated in version 4 signs edition 6 ----
expect_status 0 "$PACK" delegate -k root.key -p day2.pub -c news -o news.keys --first 6 -q
expect_status 0 "$PACK" pack src -k day2.key -c news -e 6 -l 1 --keys news.keys -o e6.folio -q
expect_status 0 "$UNPACK" list e6.folio -p root.pub
expect_stdout_match "^key: +$DAY2$"
expect_stdout_match "^keys: +version 4 \\(signed by root $ROOT\\)$"
expect_status 0 "$UNPACK" unpack e6.folio -p root.pub -C ed5 --force -q
cmp -s ed5/.folio/keys.json news.keys || fail "the newer edition did not bring its key list"
# The old bundle, carrying version 1, still verifies on its own: only a
# reader that keeps the newest list (the library) knows of version 3.
expect_status 0 "$UNPACK" verify e5.folio -p root.pub -q
exit 0
