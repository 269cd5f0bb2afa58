# SPDX-License-Identifier: ISC
# folio's keys are minisign's: it loads the shared conformance key, and stock
# minisign accepts what folio keygen writes.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need minisign tar zstd

conf=$SHARED/conformance/minisign
[ -f "$conf/test.key" ] || skip "shared conformance vectors not found in '$SHARED' (set SHARED)"
cmp -s "$conf/test.key" "$FIXTURES/keys/test.key" || fail "fixtures/keys/test.key is not the conformance test.key"
cmp -s "$conf/test.pub" "$FIXTURES/keys/test.pub" || fail "fixtures/keys/test.pub is not the conformance test.pub"
cmp -s "$conf/other.pub" "$FIXTURES/keys/other.pub" || fail "fixtures/keys/other.pub is not the conformance other.pub"
make_small_src src
sde=$(recent_epoch)

# The conformance key, straight from shared/ (copied: git does not keep 0600).
cp "$conf/test.key" t.key && chmod 0600 t.key
SOURCE_DATE_EPOCH=$sde expect_status 0 "$PACK" pack src -k t.key -c conf -l 1 -o t.folio
expect_status 0 "$UNPACK" verify t.folio -p "$conf/test.pub"
expect_status 0 "$UNPACK" list t.folio -p "$conf/test.pub"
expect_stdout_match "$TEST_KEY_ID"
expect_reject 1 "$(err_re folio-unpack t.folio 'key')" "$UNPACK" verify t.folio -p "$conf/other.pub"
tar --zstd -xOf t.folio .folio/manifest.json >t.json
tar --zstd -xOf t.folio .folio/manifest.json.minisig >t.json.minisig
minisign -Vm t.json -x t.json.minisig -p "$conf/test.pub" >/dev/null || fail "minisign rejects folio's signature with test.pub"
# The signature is the prehashed kind: its algorithm is "ED".
sed -n 2p t.json.minisig | base64 -d 2>/dev/null | head -c 2 | grep -qx ED || fail "signature algorithm is not ED"
sed -n 2p t.json.minisig | base64 -d 2>/dev/null | head -c 10 | tail -c 8 | od -An -tx1 | tr -d ' \n' |
	grep -qx ea0bc9c997cc0061 || fail "signature key id is not test.key's"

# A key pair from folio keygen, unencrypted.
expect_status 0 "$PACK" keygen -o fk --unencrypted
python3 - fk.key fk.pub <<'PY' || fail "keygen files are not minisign's format"
import base64, sys, hashlib
k = open(sys.argv[1], "rb").read().split(b"\n")
p = open(sys.argv[2], "rb").read().split(b"\n")
assert k[0].startswith(b"untrusted comment: "), k[0]
assert p[0].startswith(b"untrusted comment: "), p[0]
kb = base64.b64decode(k[1], validate=True)
pb = base64.b64decode(p[1], validate=True)
assert len(kb) == 158, len(kb)
assert len(pb) == 42, len(pb)
assert kb[0:2] == b"Ed" and kb[2:4] == b"\0\0" and kb[4:6] == b"B2", kb[:6]
assert pb[0:2] == b"Ed"
keyid = kb[54:62]
assert keyid == pb[2:10], "key ids differ"
sk = kb[62:126]
assert sk[32:] == pb[10:42], "public key in secret key differs"
# minisign -G -W leaves the checksum of an unencrypted key zero; a computed one is fine too.
assert kb[126:158] in (bytes(32), hashlib.blake2b(b"Ed" + keyid + sk, digest_size=32).digest()), "checksum"
PY
SOURCE_DATE_EPOCH=$sde expect_status 0 "$PACK" pack src -k fk.key -c conf -l 1 -o fk.folio
expect_status 0 "$UNPACK" verify fk.folio -p fk.pub
tar --zstd -xOf fk.folio .folio/manifest.json >fk.json
tar --zstd -xOf fk.folio .folio/manifest.json.minisig >fk.json.minisig
minisign -Vm fk.json -x fk.json.minisig -p fk.pub >mv.out 2>&1 || { cat mv.out >&2; fail "minisign rejects a manifest signed by a folio key"; }
minisign -Vm fk.json -x fk.json.minisig -p "$conf/test.pub" >/dev/null 2>&1 && fail "minisign accepted it with another key"
# Stock minisign signs with folio's secret key; its signature verifies with folio's public key.
printf 'any file\n' >doc.txt
minisign -S -s fk.key -m doc.txt -t 'made by minisign' </dev/null >ms.out 2>&1 || { cat ms.out >&2; fail "minisign -S with a folio key"; }
minisign -Vm doc.txt -p fk.pub >/dev/null || fail "minisign rejects its own signature made with a folio key"
exit 0
