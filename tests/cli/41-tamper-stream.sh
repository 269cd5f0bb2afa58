# SPDX-License-Identifier: ISC
# A cut or extended zstd stream is refused: truncation at every length,
# trailing garbage of several kinds, nothing written by unpack.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src

# Fixed time: the same bundle bytes every run, so a failure names a position
# that reproduces.
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 -T 1 $FIXED_VALIDITY -o good.folio -q
expect_status 0 "$UNPACK" verify good.folio -p key.pub

if ! python3 "$TOOL" truncate-all good.folio 'w@N/t.folio' "^folio-unpack: .*'@FILE@'" -- \
	"$UNPACK" verify @FILE@ -p key.pub >cuts.txt; then
	head -n 40 cuts.txt
	fail "some truncated bundles were not refused by verify ($(tail -n 1 cuts.txt))"
fi
tail -n 1 cuts.txt

python3 "$TOOL" truncations good.folio cut 11 || fail "truncations"
mkdir lib
before=$(tree_digest lib)
for f in $(ls cut | sort -n); do
	expect_status 1 "$UNPACK" unpack "cut/$f" -p key.pub -C lib/dest
	expect_stderr_match "$(err_re folio-unpack "cut/$f" '')"
	assert_same_digest "$before" lib "length $f: refused unpack"
done
assert_no_staging lib

# Trailing bytes after the last frame.
trailing() { # NAME: makes NAME.folio = good.folio + stdin
	{ cat good.folio; cat; } >"$1.folio"
}
printf '\0' | trailing zero-byte
printf 'x' | trailing one-byte
head -c 512 /dev/zero | trailing zero-block
cat good.folio | trailing twice
printf '\120\052\115\030\004\000\000\000abcd' | trailing skippable
have_zstd=0
if command -v zstd >/dev/null 2>&1; then
	have_zstd=1
	printf 'garbage after the bundle\n' | zstd -qc | trailing frame
	printf '' | zstd -qc | trailing empty-frame
	head -c 1024 /dev/zero | zstd -qc | trailing zero-frame
fi
for b in zero-byte one-byte zero-block twice skippable $([ $have_zstd = 1 ] && echo frame zero-frame empty-frame); do
	expect_reject 1 "$(err_re folio-unpack "$b.folio" '')" "$UNPACK" verify "$b.folio" -p key.pub
	expect_status 1 "$UNPACK" unpack "$b.folio" -p key.pub -C lib/dest
	expect_stderr_match "$(err_re folio-unpack "$b.folio" '')"
	assert_same_digest "$before" lib "$b: refused unpack"
	expect_status 1 sh -c 'cat "$1" | "$2" verify - -p key.pub' sh "$b.folio" "$UNPACK"
done
assert_no_staging lib
[ $have_zstd = 1 ] || skip "zstd is not installed: trailing zstd frames not checked (the rest passed)"
exit 0
