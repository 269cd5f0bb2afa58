# SPDX-License-Identifier: ISC
# A bundle is a plain tar.zst that stock tools read, and its manifest is a file
# that stock minisign verifies; a key made by stock minisign signs bundles.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need tar zstd bsdtar minisign
use_test_keys

sde=$(recent_epoch)
SOURCE_DATE_EPOCH=$sde expect_status 0 "$PACK" pack --verbatim "$FIXTURES/edition" -k key.key -c cairo-news -o news.folio

# GNU tar and bsdtar list it, manifest first, then its signature.
tar --zstd -tf news.folio >gnu.txt 2>gnu.err || { cat gnu.err >&2; fail "tar --zstd -tf failed"; }
bsdtar -tf news.folio >bsd.txt 2>bsd.err || { cat bsd.err >&2; fail "bsdtar -tf failed"; }
[ "$(sed -n 1p gnu.txt)" = .folio/manifest.json ] || fail "tar: first entry is $(sed -n 1p gnu.txt)"
[ "$(sed -n 2p gnu.txt)" = .folio/manifest.json.minisig ] || fail "tar: second entry is $(sed -n 2p gnu.txt)"
[ "$(sed -n 1p bsd.txt)" = .folio/manifest.json ] || fail "bsdtar: first entry is $(sed -n 1p bsd.txt)"
[ "$(sed -n 2p bsd.txt)" = .folio/manifest.json.minisig ] || fail "bsdtar: second entry is $(sed -n 2p bsd.txt)"
cmp -s gnu.txt bsd.txt || fail "tar and bsdtar list different entries"
# Every distinct file once, nothing else; no folders, no links.
(cd "$FIXTURES/edition" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >want-all.txt
sed 1,2d gnu.txt | LC_ALL=C sort >stored.txt
comm -13 want-all.txt stored.txt >extra.txt
[ ! -s extra.txt ] || fail "entries not in the source: $(cat extra.txt)"
[ "$(wc -l <stored.txt)" = $(($(wc -l <want-all.txt) - 1)) ] ||
	fail "expected every file but one duplicate stored: $(cat stored.txt)"
grep -q 'أخبار/مقال تجريبي.html' stored.txt || fail "Arabic path not listed by tar"
tar --zstd -tvf news.folio | grep -v '^-' && fail "tar lists entries that are not regular files"
# The archive is pax with fixed metadata: mode 0644, owner 0/0.
tar --zstd -tvf news.folio | grep -v '^-rw-r--r-- 0/0 ' && fail "tar metadata not fixed (mode 0644, 0/0)"

# Extract manifest and signature with stock tar, verify with stock minisign.
tar --zstd -xOf news.folio .folio/manifest.json >manifest.json || fail "tar -xOf manifest"
tar --zstd -xOf news.folio .folio/manifest.json.minisig >manifest.json.minisig || fail "tar -xOf minisig"
minisign -Vm manifest.json -x manifest.json.minisig -p key.pub >mv.out 2>&1 ||
	{ cat mv.out >&2; fail "stock minisign rejects the bundle's manifest"; }
created_iso=$(date -u -d "@$sde" +%Y-%m-%dT%H:%M:%SZ)
expires_iso=$(date -u -d "@$((sde + 30 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
want="Trusted comment: folio-1 channel:cairo-news edition:$sde created:$created_iso expires:$expires_iso"
grep -qxF "$want" mv.out || { cat mv.out >&2; fail "trusted comment is not: $want"; }
# The other key does not verify it (control for the check above).
minisign -Vm manifest.json -x manifest.json.minisig -p other.pub >/dev/null 2>&1 &&
	fail "stock minisign accepted the manifest with another key"
# Whole-bundle extraction by stock tar gives the source back too (duplicates aside).
mkdir x && tar --zstd -xf news.folio -C x || fail "tar -xf"
cmp x/articles/article-ar-cairo-news.txt "$FIXTURES/edition/articles/article-ar-cairo-news.txt" || fail "tar -x: Arabic article"

# The zstd stream: standard frames with checksums that zstd -t accepts.
zstd -tq news.folio || fail "zstd -t rejects the bundle"

# A key made by stock minisign (no password) signs bundles folio accepts.
minisign -G -W -p k.pub -s k.key >mg.out 2>&1 </dev/null || { cat mg.out >&2; fail "minisign -G -W"; }
SOURCE_DATE_EPOCH=$sde expect_status 0 "$PACK" pack --verbatim "$FIXTURES/edition" -k k.key -c cairo-news -o mk.folio
expect_status 0 "$UNPACK" verify mk.folio -p k.pub
expect_reject 1 "$(err_re folio-unpack mk.folio 'key')" "$UNPACK" verify mk.folio -p key.pub
mkid=$(pub_keyid k.pub) || fail "k.pub"
expect_status 0 "$UNPACK" list mk.folio -p k.pub
expect_stdout_match "$mkid"
tar --zstd -xOf mk.folio .folio/manifest.json >m2.json
tar --zstd -xOf mk.folio .folio/manifest.json.minisig >m2.json.minisig
minisign -Vm m2.json -x m2.json.minisig -p k.pub >/dev/null 2>&1 || fail "minisign rejects a bundle signed with its own key"

# The untrusted comment is minisign's own line (FORMAT.md: not authenticated).
head -n1 manifest.json.minisig | grep -qx "untrusted comment: signature from minisign secret key" ||
	fail "untrusted comment: $(head -n1 manifest.json.minisig)"
exit 0
