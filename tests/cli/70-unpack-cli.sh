# SPDX-License-Identifier: ISC
# unpack's destination rules, channel pinning, usage errors, --help, --version.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 $FIXED_VALIDITY -o b.folio -q

# An existing DEST (a folder with content, an empty folder, a file): exit 2, unchanged.
mkdir dest
printf 'yesterday\n' >dest/old.txt
mkdir dest/sub
before=$(tree_digest .)
expect_reject 2 "^folio-unpack: .*'dest'.*(exist|force)" "$UNPACK" unpack b.folio -p key.pub -C dest
assert_same_digest "$before" . "unpack into an existing DEST"
mkdir empty
before=$(tree_digest .)
expect_status 2 "$UNPACK" unpack b.folio -p key.pub -C empty
expect_stderr_match "^folio-unpack: .*'empty'"
assert_same_digest "$before" . "unpack into an existing empty DEST"
printf 'a file\n' >afile
before=$(tree_digest .)
expect_status 2 "$UNPACK" unpack b.folio -p key.pub -C afile
expect_stderr_match "^folio-unpack: .*'afile'"
assert_same_digest "$before" . "unpack onto an existing file"

# --force replaces it whole: old files gone, the edition in place.
expect_status 0 "$UNPACK" unpack b.folio -p key.pub -C dest --force
[ ! -e dest/old.txt ] && [ ! -e dest/sub ] || fail "--force kept files of the old DEST"
diff -r -x .folio src dest || fail "--force: DEST is not the edition"
[ -f dest/.folio/manifest.json ] || fail "--force: no .folio/manifest.json"
assert_no_staging .
ls -A | grep -v -x -e src -e key.key -e key.pub -e other.pub -e b.folio -e dest -e empty -e afile &&
	fail "unpack --force left something beside DEST"
expect_status 0 "$UNPACK" unpack b.folio -p key.pub -C dest -f -q
expect_stdout_empty
expect_stderr_empty

# A refused bundle with --force leaves the old DEST exactly as it was.
python3 "$TOOL" flip b.folio $(($(stat -c %s b.folio) - 20)) 80 bad.folio || fail "flip"
before=$(tree_digest .)
expect_reject 1 "$(err_re folio-unpack bad.folio '')" "$UNPACK" unpack bad.folio -p key.pub -C dest --force
assert_same_digest "$before" . "refused unpack --force"

# DEST inside a folder that does not exist: not created.
before=$(tree_digest .)
expect_status_in "2 3" "$UNPACK" unpack b.folio -p key.pub -C no/such/dest
expect_stderr_match "^folio-unpack: .*'no/such/dest'"
assert_same_digest "$before" . "unpack below a missing folder"

# Channel pinning.
expect_status 0 "$UNPACK" verify b.folio -p key.pub -c chan
before=$(tree_digest .)
expect_reject 1 "$(err_re folio-unpack b.folio 'channel')" "$UNPACK" verify b.folio -p key.pub -c other-chan
expect_stderr_match 'chan'
expect_reject 1 "$(err_re folio-unpack b.folio 'channel')" "$UNPACK" list b.folio -p key.pub -c other-chan
expect_reject 1 "$(err_re folio-unpack b.folio 'channel')" "$UNPACK" unpack b.folio -p key.pub -C new -c other-chan
expect_reject 1 "$(err_re folio-unpack b.folio 'channel')" "$UNPACK" unpack b.folio -p key.pub -C dest -c cha --force
assert_same_digest "$before" . "channel mismatch"
expect_status 0 "$UNPACK" unpack b.folio -p key.pub -C new -c chan
[ -d new ] || fail "unpack with the right channel made no DEST"

# Missing or bad inputs.
expect_status_in "2 3" "$UNPACK" verify missing.folio -p key.pub
expect_stderr_match "^folio-unpack: .*'missing\\.folio'"
expect_reject 1 "$(err_re folio-unpack src/a.txt '')" "$UNPACK" verify src/a.txt -p key.pub
: >empty.folio
expect_reject 1 "$(err_re folio-unpack empty.folio '')" "$UNPACK" verify empty.folio -p key.pub
expect_status_in "2 3" "$UNPACK" verify b.folio -p missing.pub
expect_stderr_match "^folio-unpack: .*'missing\\.pub'"
expect_reject 1 "^folio-unpack: .*'key\\.key'" "$UNPACK" verify b.folio -p key.key

# Usage errors: exit 2, a synopsis on stderr, nothing on stdout, nothing written.
before=$(tree_digest .)
usage_error() {
	expect_status 2 "$@"
	expect_stderr_match '[Uu]sage'
	expect_stdout_empty
}
usage_error "$UNPACK"
usage_error "$UNPACK" frobnicate b.folio -p key.pub
usage_error "$UNPACK" verify
usage_error "$UNPACK" verify b.folio
usage_error "$UNPACK" verify b.folio -p
usage_error "$UNPACK" verify b.folio c.folio -p key.pub
usage_error "$UNPACK" verify b.folio -p key.pub --no-such-option
usage_error "$UNPACK" list b.folio
usage_error "$UNPACK" unpack b.folio -p key.pub
usage_error "$UNPACK" unpack b.folio -C out2
usage_error "$PACK"
usage_error "$PACK" frobnicate
usage_error "$PACK" keygen
usage_error "$PACK" pack
assert_same_digest "$before" . "usage errors"

# --help: stdout, exit 0, names the commands; -h too.
for prog in "$PACK" "$UNPACK"; do
	for h in --help -h; do
		expect_status 0 "$prog" "$h"
		expect_stderr_empty
		expect_stdout_match '[Uu]sage'
	done
done
expect_status 0 "$PACK" --help
expect_stdout_match 'keygen'
expect_stdout_match 'pack'
expect_stdout_match 'SOURCE_DATE_EPOCH|--level'
expect_status 0 "$UNPACK" --help
expect_stdout_match 'verify'
expect_stdout_match 'list'
expect_stdout_match 'unpack'
expect_stdout_match 'exit|status'

# --version: folio's and the libraries' versions, as found at run time.
for prog in "$PACK" "$UNPACK"; do
	for v in --version -V; do
		expect_status 0 "$prog" "$v"
		expect_stderr_empty
		expect_stdout_match '0\.1\.0'
		expect_stdout_match 'zstd[ /-]v?[0-9]+\.[0-9]+\.[0-9]+'
		expect_stdout_match 'libarchive[ /-]v?[0-9]+\.[0-9]+\.[0-9]+'
		expect_stdout_match 'libsodium[ /-]v?[0-9]+\.[0-9]+\.[0-9]+'
		expect_stdout_match 'jansson[ /-]v?[0-9]+\.[0-9]+'
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for lib in libzstd libarchive libsodium; do
			ver=$(pkg-config --modversion "$lib" 2>/dev/null) || continue
			expect_stdout_match "$(re_quote "$ver")"
		done
	fi
done
exit 0
