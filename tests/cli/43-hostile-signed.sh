# SPDX-License-Identifier: ISC
# Hostile content behind a good signature (as if the key were stolen): the
# manifest is re-signed with the test key by stock minisign, so every case
# reaches the checks behind the signature.  Nothing may appear outside DEST,
# and a refused bundle writes nothing at all.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need tar zstd minisign
use_test_keys
mkdir -p src/news
printf 'first story\n' >src/a.txt
printf 'second story\n' >src/news/b.txt
printf 'first story\n' >src/news/copy.txt
SOURCE_DATE_EPOCH=$(recent_epoch) expect_status 0 "$PACK" pack src -k key.key -c chan -l 3 -o good.folio -q
bundle_extract good.folio good || fail "extract"
mapfile -t entries < <(bundle_entries good.folio)
[ "${#entries[@]}" = 4 ] || fail "expected 4 entries (copy.txt stored once), got: ${entries[*]}"

# Control: stock minisign re-signing the same manifest with the same key gives
# the same signature (Ed25519 is deterministic), and the rebuilt bundle passes.
cp -a good c0
sign_manifest c0 key.key
sed -n 2,4p good/.folio/manifest.json.minisig >want.sig
sed -n 2,4p c0/.folio/manifest.json.minisig >got.sig
cmp -s want.sig got.sig || { diff want.sig got.sig >&2; fail "minisign re-signing differs from folio's signature"; }
bundle_build c0 c0.folio "${entries[@]}"
expect_status 0 "$UNPACK" unpack c0.folio -p key.pub -C c0-dest
diff -r -x .folio src c0-dest || fail "control bundle unpacks differently"

mkdir lib
printf 'the library before\n' >lib/keep.txt
outside_before=$(tree_digest .)
lib_before=$(tree_digest lib)
case_no=0

# hostile NAME PYTHON-EDIT [ENTRY...]: copies good/ to NAME/ (then runs the
# shell snippet PREP in it, if set), edits the manifest with PYTHON (m, F: see
# edit_manifest), re-signs it, builds NAME.folio of the manifest, signature and
# ENTRYs (default: the original file entries) with BUILD_TAR_OPTS, and expects
# verify and unpack to refuse it with one message and nothing written.
hostile() {
	local name=$1 edit=$2 b
	shift 2
	rm -rf "$name"
	cp -a good "$name"
	if [ -n "${PREP:-}" ]; then
		(cd "$name" && eval "$PREP") || fail "$name: preparation failed"
	fi
	[ -z "$edit" ] || edit_manifest "$name" "$edit"
	sign_manifest "$name" key.key
	if [ $# -gt 0 ]; then
		bundle_build "$name" "$name.folio" .folio/manifest.json .folio/manifest.json.minisig "$@"
	else
		bundle_build "$name" "$name.folio" "${entries[@]}"
	fi
	b=$name.folio
	outside_before=$(tree_digest .)
	expect_reject 1 "$(err_re folio-unpack "$b" '')" "$UNPACK" verify "$b" -p key.pub
	expect_status 1 "$UNPACK" unpack "$b" -p key.pub -C lib/dest
	expect_stderr_match "$(err_re folio-unpack "$b" '')"
	expect_stderr_lines 1
	assert_same_digest "$lib_before" lib "$name: refused unpack"
	assert_same_digest "$outside_before" . "$name: refused unpack (outside lib)"
	assert_no_staging lib
	[ ! -e /tmp/folio-escape ] || fail "$name: wrote /tmp/folio-escape"
	printf '%-22s %s' "$name" "$(cat "$ERR")"
	echo
	rm -rf "$name" "$name.folio" # keep the folder small: digests stay quick
	case_no=$((case_no + 1))
}
rm -f /tmp/folio-escape

# tar options storing the local file a.txt under the name $1.
as_name() {
	printf -- '-P --transform=s,^a\\.txt$,%s,' "$1"
}
E1=${entries[2]} E2=${entries[3]}

# Paths that leave the destination, or are not plain relative paths.
for p in ../evil news/../../evil /tmp/folio-escape ./a.txt news//a.txt .folio/evil; do
	BUILD_TAR_OPTS=$(as_name "$p") \
		hostile "path-$case_no" "F[\"a.txt\"][\"path\"] = \"$p\"" "${entries[@]:2}"
done
hostile backslash 'F["news/b.txt"]["path"] = "news\\b.txt"'
hostile control 'F["news/b.txt"]["path"] = "news/b\u001b[31m.txt"'
hostile newline 'F["news/b.txt"]["path"] = "news/b\n.txt"'
hostile bad-utf8 'F["news/b.txt"]["path"] = "news/b\udcff.txt"'
hostile long-component 'F["news/b.txt"]["path"] = "news/" + "x" * 300'
hostile deep-path 'F["news/b.txt"]["path"] = "d/" * 3000 + "b.txt"'

# Manifest shapes the signature does not make safe.
hostile dup-path 'F["news/b.txt"]["path"] = "a.txt"'
hostile file-and-dir 'F["a.txt"]["path"] = "news"'
hostile setuid 'F["a.txt"]["mode"] = "4755"'
hostile mode-777 'F["a.txt"]["mode"] = "0777"'
hostile bad-hash 'F["news/b.txt"]["blake2b"] = "0" * 64'
hostile upper-hash 'F["news/b.txt"]["blake2b"] = F["news/b.txt"]["blake2b"].upper()'
hostile size-plus-one 'F["news/b.txt"]["size"] += 1'
hostile size-minus-one 'F["news/b.txt"]["size"] -= 1'
hostile huge-size 'F["news/b.txt"]["size"] = 10**15'
hostile format 'm["format"] = "folio-2"'
hostile no-files 'del m["files"]'
hostile expires-before-created 'm["expires"] = m["created"] - 1'

# Tar contents that do not match the manifest.
printf 'forged story\n' >forged.txt
PREP='cp ../forged.txt news/b.txt' hostile changed-content ''
PREP='printf "forged story, longer\n" >news/b.txt' hostile longer-content ''
PREP='printf "first story\n" >news/copy.txt' hostile duplicate-stored '' "$E1" "$E2" news/copy.txt
PREP='printf extra >extra.txt' hostile extra-entry '' "$E1" "$E2" extra.txt
hostile missing-entry '' "$E1"
hostile out-of-order '' "$E2" "$E1"
hostile repeated-entry '' "$E1" "$E1" "$E2"
PREP='rm news/b.txt && ln -s ../a.txt news/b.txt' hostile symlink '' "${entries[@]:2}"
PREP='rm a.txt && ln -s /etc/passwd a.txt' hostile symlink-abs '' "${entries[@]:2}"
PREP='rm news/b.txt && ln a.txt news/b.txt' hostile hardlink '' a.txt news/b.txt
PREP='rm news/b.txt && mkfifo news/b.txt' hostile fifo '' "${entries[@]:2}"
PREP='rm news/b.txt && mkdir news/b.txt' hostile directory-entry '' "${entries[@]:2}"
PREP='ln -s /tmp news/link' hostile symlink-then-through '' a.txt news/link news/b.txt
hostile folder-entry '' news "${entries[@]:2}"

# A forward-compatible manifest (unknown keys) is accepted: the control for
# the edits above being judged on their content, not on being re-signed.
cp -a good fwd
edit_manifest fwd 'm["future"] = {"x": 1}'
sign_manifest fwd key.key
bundle_build fwd fwd.folio "${entries[@]}"
expect_status 0 "$UNPACK" unpack fwd.folio -p key.pub -C fwd-dest
diff -r -x .folio src fwd-dest || fail "forward-compatible bundle unpacks differently"

# An unsigned tar entry name with terminal escapes and a newline: refused,
# and the message must not carry them raw (expect_reject checks).
PREP='printf extra >"$(printf "x\033]0;owned\007\nnext")"' \
	hostile escape-entry '' "$E1" "$E2" "$(printf 'x\033]0;owned\007\nnext')"
echo "$case_no hostile bundles refused"
exit 0
