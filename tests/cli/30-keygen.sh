# SPDX-License-Identifier: ISC
# keygen: file modes, no overwrite without --force, unencrypted keys.
# (Encrypted keys are in 31-keygen-encrypted.sh: they cost a second each.)
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
make_small_src src

umask 022
expect_status 0 "$PACK" keygen -o k --unencrypted
[ "$(stat -c %a k.key)" = 600 ] || fail "k.key mode $(stat -c %a k.key), want 600"
m=$(stat -c %a k.pub)
[ $((0$m & 044)) = $((044)) ] || fail "k.pub mode $m: not readable by group and others"
[ $((0$m & 022)) = 0 ] || fail "k.pub mode $m: writable by others"
grep -q '^untrusted comment: ' k.key || fail "k.key is not a minisign key file"
grep -q '^untrusted comment: ' k.pub || fail "k.pub is not a minisign key file"
keyid=$(pub_keyid k.pub) || fail "k.pub is not a minisign public key"
# A stricter umask does not make the public key unreadable to its owner, and the secret stays 0600.
(umask 077 && "$PACK" keygen -o u --unencrypted -q) || fail "keygen under umask 077"
[ "$(stat -c %a u.key)" = 600 ] || fail "u.key mode $(stat -c %a u.key)"
[ $((0$(stat -c %a u.pub) & 0600)) = $((0600)) ] || fail "u.pub mode $(stat -c %a u.pub): not readable and writable by its owner"

# Refuse to overwrite either file without --force.
ks=$(sha k.key) ps=$(sha k.pub)
expect_reject 2 "^folio-pack: .*'k\.(key|pub)'.*(exist|overwrite|force)" "$PACK" keygen -o k --unencrypted
[ "$(sha k.key)" = "$ks" ] && [ "$(sha k.pub)" = "$ps" ] || fail "keygen without --force changed the key files"
# Only one of the two present: still refused, nothing written.
mv k.pub k.pub.saved
before=$(tree_digest .)
expect_status 2 "$PACK" keygen -o k --unencrypted
expect_stderr_match "^folio-pack: .*'k\.key'"
assert_same_digest "$before" . "keygen refusing to overwrite k.key"
mv k.pub.saved k.pub

# --force replaces both, with a new key.
expect_status 0 "$PACK" keygen -o k --unencrypted --force
[ "$(sha k.key)" != "$ks" ] && [ "$(sha k.pub)" != "$ps" ] || fail "--force did not replace the key"
[ "$(stat -c %a k.key)" = 600 ] || fail "k.key mode after --force: $(stat -c %a k.key)"
expect_status 0 "$PACK" keygen -o k --unencrypted -f -q
expect_stdout_empty
expect_stderr_empty

# The new pair works together, and not with another pair.
SOURCE_DATE_EPOCH=$(recent_epoch) expect_status 0 "$PACK" pack src -k k.key -c chan -l 1 -o b.folio
expect_status 0 "$UNPACK" verify b.folio -p k.pub
expect_reject 1 "$(err_re folio-unpack b.folio 'key')" "$UNPACK" verify b.folio -p u.pub

# keygen into a folder that does not exist: a system error, nothing written.
before=$(tree_digest .)
expect_status 3 "$PACK" keygen -o no/such/dir/k --unencrypted
expect_stderr_match "^folio-pack: .*'no/such/dir/k"
assert_same_digest "$before" . "keygen into a missing folder"

# Usage errors.
expect_status 2 "$PACK" keygen --unencrypted
expect_stderr_match '[Uu]sage'
expect_status 2 "$PACK" keygen -o k2 --unencrypted --bogus-option
[ ! -e k2.key ] || fail "keygen with a bad option wrote k2.key"
exit 0
