# SPDX-License-Identifier: ISC
# The reader's limits as options of both programs: each refuses (exit 1, one
# line, nothing written) just past its value and accepts at it; folio-pack
# refuses a tree that a reader with the same limits would refuse, and keeps
# its zstd window within --max-window; bad values are usage errors.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need zstd
use_test_keys
export SOURCE_DATE_EPOCH=$(recent_epoch)
mkdir -p src/a/b
printf '%s\n' one >src/one.txt
printf '%s\n' two >src/a/two.txt
head -c 3000 /dev/urandom >src/a/b/noise.bin
printf '%s\n' four >src/a/b/four.txt
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 19 -o b.folio -q
total=$(find src -type f -printf '%s\n' | awk '{t += $1} END {print t}')
manifest=$(zstd -dcq b.folio | tar -xO .folio/manifest.json | wc -c)
mkdir lib
before=$(tree_digest lib)

# limit OPTION AT PAST PROBLEM: unpack refuses with OPTION PAST, accepts with
# OPTION AT; pack the same.
limit() {
	local opt=$1 at=$2 past=$3 problem=$4
	expect_reject 1 "$(err_re folio-unpack b.folio "$problem")" \
		"$UNPACK" unpack b.folio -p key.pub -C lib/dest "$opt" "$past"
	assert_same_digest "$before" lib "unpack with $opt $past"
	assert_no_staging lib
	expect_status 0 "$UNPACK" verify b.folio -p key.pub "$opt" "$at" -q
	expect_reject 1 "^folio-pack: cannot pack 'src.*$problem" \
		"$PACK" pack --verbatim src -k key.key -c chan -l 1 -o p.folio "$opt" "$past"
	[ ! -e p.folio ] || fail "pack with $opt $past wrote p.folio"
	expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 -o p.folio "$opt" "$at" -q
	rm -f p.folio
}
limit --max-files 4 3 'more than the limit of 3'
limit --max-file 3000 2999 'limit of 2999'
limit --max-total "$total" $((total - 1)) "more than the limit of $((total - 1)) bytes"
limit --max-depth 3 2 'too deep'
limit --max-path 13 12 'too long'
# The manifest limit: the reader refuses the entry, the packer the encoding.
expect_reject 1 "$(err_re folio-unpack b.folio 'manifest.json. is larger than its limit')" \
	"$UNPACK" verify b.folio -p key.pub --max-manifest $((manifest - 1))
expect_status 0 "$UNPACK" verify b.folio -p key.pub --max-manifest "$manifest" -q
expect_reject 1 "^folio-pack: cannot pack 'src'.*manifest.*larger than the limit of 100" \
	"$PACK" pack --verbatim src -k key.key -c chan -l 1 -o p.folio --max-manifest 100
[ ! -e p.folio ] || fail "pack with --max-manifest 100 wrote p.folio"

# The window: level 19 streams with a window as large as the bundle needs,
# up to 2^23 (a 3 MB edition: 2^22); a reader limited to 1M refuses that
# bundle before decoding it, and pack --max-window 1M writes one that the
# same reader takes.  A bundle of a few KB gets a window of its size.
zstd -lv b.folio 2>&1 | grep -Eq 'Window Size: *(1|2|4|8|16|32|64|128)(\.0+)? KiB' || {
	zstd -lv b.folio >&2
	fail "a bundle of a few KB has a larger window than it needs"
}
head -c 3000000 /dev/urandom >src/a/b/big.bin
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 19 -o big.folio -q
expect_reject 1 "$(err_re folio-unpack big.folio 'window larger than the limit of 2\^20')" \
	"$UNPACK" unpack big.folio -p key.pub -C lib/dest --max-window 1M --max-total 4M
assert_same_digest "$before" lib "unpack with --max-window 1M"
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 19 -o w.folio --max-window 1M -q
zstd -lv w.folio 2>&1 | grep -Eq 'Window Size: *1\.0+ MiB' || {
	zstd -lv w.folio >&2
	fail "pack --max-window 1M wrote another window"
}
expect_status 0 "$UNPACK" unpack w.folio -p key.pub -C lib/w --max-window 1M -q
diff -r -x .folio src lib/w || fail "unpack with --max-window 1M differs"
rm -rf lib/w
# Suffixes: K, M, G, T are powers of 1024.
expect_status 0 "$UNPACK" verify b.folio -p key.pub --max-file 3K --max-total 1G --max-manifest 1M -q
expect_reject 1 'limit of 2048' "$UNPACK" verify b.folio -p key.pub --max-file 2K

# Bad values: usage errors (exit 2), nothing written.
before_all=$(tree_digest .)
for bad in "--max-window 3K" "--max-window 512" "--max-window 4G" "--max-files 0" \
	"--max-file 0" "--max-file 1X" "--max-file -1" "--max-total 1KB" "--max-depth x" \
	"--max-path 99999999999" "--max-total 99999999999T" "--max-manifest"; do
	# shellcheck disable=SC2086 # the option and its value are two words
	expect_status 2 "$UNPACK" unpack b.folio -p key.pub -C lib/dest $bad
	expect_stderr_match '^folio-unpack: '
	# shellcheck disable=SC2086
	expect_status 2 "$PACK" pack --verbatim src -k key.key -c chan -o p.folio $bad
	expect_stderr_match '^folio-pack: '
done
assert_same_digest "$before_all" . "bad limit values"
# The limits are pack options, not keygen ones.
expect_status 2 "$PACK" keygen -o k2 --unencrypted --max-files 3
[ ! -e k2.key ] || fail "keygen with a pack option wrote a key"
# Both programs document every limit in --help.
for prog in "$PACK" "$UNPACK"; do
	expect_status 0 "$prog" --help
	for o in --max-window --max-manifest --max-file --max-total --max-files --max-path --max-depth; do
		expect_stdout_match "^ +$o "
	done
done
exit 0
