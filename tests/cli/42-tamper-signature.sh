# SPDX-License-Identifier: ISC
# The signature binds the manifest: another key, an edited manifest, a moved
# signature, an edited trusted comment, a legacy signature, a patched key id
# are all refused.  Bundles are taken apart and rebuilt with stock tar/zstd.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need tar zstd
use_test_keys
mkdir src
printf 'first story\n' >src/one.txt
printf 'second story\n' >src/two.txt
sde=$(recent_epoch)
export SOURCE_DATE_EPOCH=$sde
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 3 -t 'Edition A' -o a.folio -q
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 3 -t 'Edition B' -o b.folio -q
expect_status 0 "$PACK" keygen -o stranger --unencrypted -q
expect_status 0 "$PACK" pack --verbatim src -k stranger.key -c chan -l 3 -t 'Edition A' -o s.folio -q
unset SOURCE_DATE_EPOCH
mkdir lib
before=$(tree_digest lib)

# check_refused BUNDLE REGEX: verify and unpack refuse BUNDLE with REGEX; lib unchanged.
check_refused() {
	expect_reject 1 "$(err_re folio-unpack "$1" "$2")" "$UNPACK" verify "$1" -p key.pub
	expect_status 1 "$UNPACK" unpack "$1" -p key.pub -C lib/dest
	expect_stderr_match "$(err_re folio-unpack "$1" "$2")"
	assert_same_digest "$before" lib "refused unpack of $1"
	assert_no_staging lib
}

# Signed by another key.
check_refused s.folio 'key'
expect_stderr_match "$(pub_keyid stranger.pub)|$TEST_KEY_ID"
expect_reject 1 "$(err_re folio-unpack a.folio 'key')" "$UNPACK" verify a.folio -p other.pub
expect_reject 1 "$(err_re folio-unpack a.folio 'key')" "$UNPACK" list a.folio -p other.pub

bundle_entries a.folio >entries.txt || fail "cannot list a.folio"
[ "$(sed -n 1p entries.txt)" = .folio/manifest.json ] || fail "a.folio: first entry $(sed -n 1p entries.txt)"
mapfile -t entries <entries.txt
bundle_extract a.folio a || fail "extract a.folio"
bundle_extract b.folio b || fail "extract b.folio"
bundle_extract s.folio s || fail "extract s.folio"

# Control: the same entries rebuilt by stock tools are a valid bundle.  (If
# this fails, the cases below prove nothing.)
bundle_build a rebuilt.folio "${entries[@]}"
expect_status 0 "$UNPACK" verify rebuilt.folio -p key.pub
expect_status 0 "$UNPACK" unpack rebuilt.folio -p key.pub -C rebuilt-dest
diff -r -x .folio src rebuilt-dest || fail "rebuilt bundle unpacks differently"

# A manifest edited after signing: the title, then a file's hash and content.
cp -a a e1
edit_manifest e1 'm["title"] = "Edition X"'
bundle_build e1 e1.folio "${entries[@]}"
check_refused e1.folio 'signature'

cp -a a e2
printf 'forged story\n' >e2/one.txt
edit_manifest e2 '
import hashlib
for f in m["files"]:
    if f["path"] == "one.txt":
        d = open("e2/one.txt", "rb").read()
        f["size"] = len(d)
        f["blake2b"] = hashlib.blake2b(d, digest_size=32).hexdigest()'
bundle_build e2 e2.folio "${entries[@]}"
check_refused e2.folio 'signature'

# A byte appended to the manifest (whitespace, still the same JSON).
cp -a a e3
printf ' ' >>e3/.folio/manifest.json
bundle_build e3 e3.folio "${entries[@]}"
check_refused e3.folio 'signature'

# The signature of edition B moved onto edition A (and B's manifest with A's).
cp -a a m1
cp b/.folio/manifest.json.minisig m1/.folio/manifest.json.minisig
bundle_build m1 m1.folio "${entries[@]}"
check_refused m1.folio 'signature'

# The trusted comment edited (global signature), or with a CR injected.
cp -a a t1
python3 "$TOOL" minisig-edit a/.folio/manifest.json.minisig comment t1/.folio/manifest.json.minisig || fail "edit"
bundle_build t1 t1.folio "${entries[@]}"
check_refused t1.folio 'signature|comment'
cp -a a t2
python3 "$TOOL" minisig-edit a/.folio/manifest.json.minisig inject-cr t2/.folio/manifest.json.minisig || fail "edit"
bundle_build t2 t2.folio "${entries[@]}"
check_refused t2.folio 'signature|comment|malformed'

# The legacy (non-prehashed) algorithm.
cp -a a l1
python3 "$TOOL" minisig-edit a/.folio/manifest.json.minisig legacy l1/.folio/manifest.json.minisig || fail "edit"
bundle_build l1 l1.folio "${entries[@]}"
check_refused l1.folio 'legacy|algorithm|signature'

# Another key's signature with its key id patched to the pinned key's.
cp -a s k1
python3 "$TOOL" minisig-edit s/.folio/manifest.json.minisig "keyid:$TEST_KEY_ID" k1/.folio/manifest.json.minisig || fail "edit"
bundle_build k1 k1.folio "${entries[@]}"
check_refused k1.folio 'signature'

# The signature entry missing, or the manifest and signature swapped.
n=${#entries[@]}
bundle_build a nosig.folio .folio/manifest.json "${entries[@]:2:n}"
check_refused nosig.folio ''
bundle_build a swapped.folio .folio/manifest.json.minisig .folio/manifest.json "${entries[@]:2:n}"
check_refused swapped.folio ''

# Malformed signature files inside an otherwise good bundle: each line cut
# short or made long, bad base64, a NUL, an over-long line, no final
# newline, lines missing or added.  (The unit tests cover the parser; these
# prove the bundle reader reaches it and refuses with one line.)
sigfile=a/.folio/manifest.json.minisig
n_sig=0
malformed() {
	local name=$1 code=$2
	rm -rf "m-$name"
	cp -a a "m-$name"
	python3 - "$sigfile" "m-$name/.folio/manifest.json.minisig" "$code" <<'PY' || fail "malformed $name"
import sys
src, dst, code = sys.argv[1:4]
L = open(src, "rb").read().split(b"\n")  # L[4] == b"" (the final newline)
exec(code)
open(dst, "wb").write(b"\n".join(L) if isinstance(L, list) else L)
PY
	cmp -s "$sigfile" "m-$name/.folio/manifest.json.minisig" && fail "malformed $name: no change"
	bundle_build "m-$name" "m-$name.folio" "${entries[@]}"
	check_refused "m-$name.folio" ''
	rm -rf "m-$name" "m-$name.folio"
	n_sig=$((n_sig + 1))
}
malformed short-sig 'L[1] = L[1][:-4]'
malformed long-sig 'L[1] = L[1] + b"AAAA"'
malformed short-global 'L[3] = L[3][:-4]'
malformed long-global 'L[3] = L[3] + b"AAAA"'
malformed bad-base64 'L[1] = L[1][:10] + b"*" + L[1][11:]'
malformed base64-high-byte 'L[1] = L[1][:10] + b"\xc3" + L[1][11:]'
malformed base64-no-padding 'L[1] = L[1].rstrip(b"=")'
malformed nul-in-comment 'L[2] = L[2][:20] + b"\0" + L[2][20:]'
malformed nul-in-sig 'L[1] = L[1][:10] + b"\0" + L[1][10:]'
malformed overlong-comment 'L[2] = L[2] + b"x" * 70000'
malformed overlong-untrusted 'L[0] = L[0] + b"x" * 70000'
malformed no-final-newline 'L = b"\n".join(L).rstrip(b"\n")'
malformed missing-global 'del L[3]'
malformed extra-line 'L.insert(4, b"trusted comment: more")'
malformed no-trusted-prefix 'L[2] = L[2].replace(b"trusted comment: ", b"")'
malformed empty 'L = b""'
malformed crlf-mixed 'L[1] = L[1] + b"\r\r"'
echo "$n_sig malformed signature files refused"
exit 0
