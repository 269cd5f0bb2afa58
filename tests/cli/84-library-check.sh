# SPDX-License-Identifier: ISC
# check re-hashes every file of every edition against its kept, signed
# manifest: a flipped byte in one edition's own file and in a file shared by
# three editions are each named (every path that shows it), a missing and
# an extra file too, exit 1; status stays consistent (sizes are right);
# install --force of the newest edition repairs its files and, the shared
# copy being rewritten in place, the older editions that link it.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
lib_src s1 1
lib_src s2 2
lib_pack s1 key.key news 1 n1.folio
lib_pack s2 key.key news 2 n2.folio
lib_pack s1 key.key sport 7 s7.folio
expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" trust add sport key.pub --library lib
for b in n1 n2 s7; do
	expect_status 0 "$UNPACK" install $b.folio --library lib -q
done
lib_consistent
expect_stderr_match "^folio-unpack: 3 editions, [0-9]+ files, all good$"

flip() { # flip FILE OFFSET: one byte changed in place (the inode kept)
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
flip lib/news/2/tag.txt 3
flip lib/news/1/media/same.bin 1000
expect_status 0 "$UNPACK" status --library lib
expect_stdout_match '^consistent: yes'
expect_status 1 "$UNPACK" check --library lib
for p in news/2/tag.txt news/1/media/same.bin news/2/media/same.bin sport/7/media/same.bin; do
	ed=${p#*/}
	ed=${ed%%/*}
	expect_stderr_match "^folio-unpack: lib/$(re_quote "$p"): its bytes differ from the signed manifest \(the storage may be failing\); reinstall edition $ed with --force$"
done
expect_stderr_match "^folio-unpack: 4 problems in 3 editions"
[ "$(grep -c 'bytes differ' "$ERR")" = 4 ] || fail "check named other files"
expect_stderr_clean

# install --force of news 2 repairs it and the shared copy
expect_status 0 "$UNPACK" install n2.folio --library lib --force
expect_stderr_match "installed edition 2 of channel 'news'"
lib_consistent
[ "$(stat -c %i lib/news/1/media/same.bin)" = "$(stat -c %i lib/news/2/media/same.bin)" ] ||
	fail "the repaired edition no longer shares media/same.bin"

# a missing file, an extra file, a damaged kept manifest
rm lib/sport/7/tag.txt
echo extra >lib/sport/7/extra.txt
expect_status 1 "$UNPACK" status --library lib
expect_stdout_match "^consistent: no"
expect_stdout_match "lib/sport/7/tag.txt' is missing"
expect_status 1 "$UNPACK" check --library lib
expect_stderr_match "^folio-unpack: lib/sport/7/tag.txt: missing .*reinstall edition 7 with --force$"
expect_stderr_match "^folio-unpack: lib/sport/7/extra.txt: not in the signed manifest"
rm lib/sport/7/extra.txt
expect_status 0 "$UNPACK" install s7.folio --library lib --force
lib_consistent
flip lib/news/2/.folio/manifest.json 20
expect_status 1 "$UNPACK" check --library lib
expect_stderr_match "lib/news/2/.folio/manifest.json.*reinstall edition 2 with --force$"
expect_status 0 "$UNPACK" install n2.folio --library lib --force
lib_consistent
exit 0
