# SPDX-License-Identifier: ISC
# Encrypted keys (scrypt, minisign's default cost: about a second and 1 GiB per
# derivation, so this is the only test that makes them; three derivations:
# keygen, the right passphrase, a wrong one).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
make_small_src src
printf 'correct horse battery staple\n' >pass.txt
printf 'correct horse battery stapler\n' >wrong.txt

# 1: keygen with a passphrase file (first line, newline stripped).
expect_status 0 "$PACK" keygen -o enc --passphrase-file pass.txt
[ "$(stat -c %a enc.key)" = 600 ] || fail "enc.key mode $(stat -c %a enc.key)"
python3 - enc.key enc.pub <<'PY' || fail "encrypted key is not minisign's format"
import base64, struct, sys
k = base64.b64decode(open(sys.argv[1], "rb").read().split(b"\n")[1], validate=True)
p = base64.b64decode(open(sys.argv[2], "rb").read().split(b"\n")[1], validate=True)
assert len(k) == 158 and k[0:2] == b"Ed" and k[2:4] == b"Sc" and k[4:6] == b"B2", k[:6]
ops, mem = struct.unpack("<QQ", k[38:54])
assert (ops, mem) == (33554432, 1073741824), (ops, mem)
assert k[6:38] != bytes(32), "zero salt"
# the key id sits in the encrypted part (minisign XORs key id, key and checksum)
assert k[54:62] != p[2:10], "key id stored in clear"
assert k[94:126] != p[10:42], "secret key looks unencrypted"
PY

# No passphrase file and no terminal: a usage error, no derivation, no output.
before=$(tree_digest .)
SOURCE_DATE_EPOCH=$(recent_epoch) expect_reject 2 "^folio-pack: .*'enc\.key'.*passphrase" \
	"$PACK" pack src -k enc.key -c chan -l 1 -o nopass.folio
assert_same_digest "$before" . "pack without a passphrase"

# 2: the right passphrase signs.
SOURCE_DATE_EPOCH=$(recent_epoch) expect_status 0 "$PACK" pack src -k enc.key -c chan -l 1 -o ok.folio --passphrase-file pass.txt
expect_status 0 "$UNPACK" verify ok.folio -p enc.pub

# 3: a wrong passphrase is refused clearly, nothing written.
before=$(tree_digest .)
SOURCE_DATE_EPOCH=$(recent_epoch) expect_reject 1 "^folio-pack: .*'enc\.key'.*(passphrase|password)" \
	"$PACK" pack src -k enc.key -c chan -l 1 -o bad.folio --passphrase-file wrong.txt
assert_same_digest "$before" . "pack with a wrong passphrase"

# A passphrase file that does not exist (a usage or a system error): no derivation.
expect_status_in "2 3" "$PACK" pack src -k enc.key -c chan -l 1 -o x.folio --passphrase-file missing.txt
expect_stderr_match "^folio-pack: .*'missing\.txt'"
[ ! -e x.folio ] || fail "x.folio written"
exit 0
