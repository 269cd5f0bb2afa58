# SPDX-License-Identifier: ISC
# Same folder, key and SOURCE_DATE_EPOCH: the same bytes, whatever the thread
# count, the folder's location or its files' times; another time: other bytes.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
src=$FIXTURES/edition
export SOURCE_DATE_EPOCH=1764338400

expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o a.folio -q
expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o b.folio -q -T 1
expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o c.folio -q --threads 4
expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o d.folio -q -T 0
cmp a.folio b.folio || fail "two packs differ (default threads vs -T 1)"
cmp b.folio c.folio || fail "-T 1 and --threads 4 differ"
cmp b.folio d.folio || fail "-T 1 and -T 0 differ"

# A copy elsewhere, with other mtimes and another umask, packs the same.
(umask 077 && cp -r "$src" copy) || fail "cp"
find copy -type f -exec chmod 0644 {} + -exec touch -d '2001-02-03 04:05:06' {} +
find copy -type d -exec chmod 0755 {} +
expect_status 0 "$PACK" pack copy -k key.key -c cairo-news -o e.folio -q -T 2
cmp a.folio e.folio || fail "a copy of the folder with other times packs differently"

# Another creation time: other bytes (and still a valid bundle at its time).
SOURCE_DATE_EPOCH=1764338401 expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o f.folio -q
cmp -s a.folio f.folio && fail "different SOURCE_DATE_EPOCH, same bundle"
# Another level: other bytes, same content.
expect_status 0 "$PACK" pack "$src" -k key.key -c cairo-news -o g.folio -q -l 1
cmp -s a.folio g.folio && fail "-l 1 and -l 19 give the same bytes"
unset SOURCE_DATE_EPOCH
if command -v zstd >/dev/null 2>&1; then
	zstd -dcq a.folio >a.tar && zstd -dcq g.folio >g.tar || fail "zstd -d"
	cmp a.tar g.tar || fail "the tar inside depends on the level"
	# Fixed header metadata: mtime = created, 0644, 0/0, no padding after the end blocks.
	tail -c 1024 a.tar | cmp -s - <(head -c 1024 /dev/zero) || fail "tar does not end with two zero blocks"
	[ $(($(stat -c %s a.tar) % 512)) = 0 ] || fail "tar size not a multiple of 512"
	tar -tvf a.tar --full-time | grep -v '^-rw-r--r-- 0/0 .* 2025-11-28 14:00:00 ' &&
		fail "tar headers not fixed (0644 0/0, mtime = created)"
fi
exit 0
