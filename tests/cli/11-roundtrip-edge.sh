# SPDX-License-Identifier: ISC
# Round trip of the less common shapes: executable and private modes, empty
# files, many identical files, an explicit edition, title and validity.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys

mkdir -p src/a/b/c/d/e/f/g/h
printf '#!/bin/sh\necho hello\n' >src/run.sh
chmod 0755 src/run.sh
printf 'private\n' >src/private.txt
chmod 0600 src/private.txt
: >src/empty1.txt
: >src/a/empty2.txt
for i in 1 2 3 4 5; do printf 'same bytes\n' >"src/a/b/same$i.txt"; done
printf 'deep\n' >src/a/b/c/d/e/f/g/h/deep.txt
printf 'Ünïcödé ✓\n' >'src/a/naïve café.txt'

now=$(recent_epoch)
SOURCE_DATE_EPOCH=$now expect_status 0 "$PACK" pack --verbatim src -k key.key -c test.chan_1-x \
	-e 42 --title 'Édition spéciale' --valid-days 2 -l 1 -T 1 -o e.folio
expect_status 0 "$UNPACK" list e.folio -p key.pub --json
python3 - "$OUT" "$now" <<'PY' || fail "manifest fields"
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
now = int(sys.argv[2])
assert m["channel"] == "test.chan_1-x", m["channel"]
assert m["edition"] == 42, m["edition"]
assert m["title"] == "Édition spéciale", m["title"]
assert m["created"] == now and m["expires"] == now + 2 * 86400, (m["created"], m["expires"])
by = {f["path"]: f for f in m["files"]}
assert by["run.sh"]["mode"] == "0755", by["run.sh"]
assert by["private.txt"]["mode"] == "0644", by["private.txt"]
assert by["empty1.txt"]["size"] == 0
assert len(m["files"]) == 11, sorted(by)
PY
expect_status 0 "$UNPACK" list e.folio -p key.pub
expect_stdout_match 'test\.chan_1-x'
expect_stdout_match '42'

expect_status 0 "$UNPACK" verify e.folio -p key.pub -c test.chan_1-x
expect_status 0 "$UNPACK" unpack e.folio -p key.pub -C out -c test.chan_1-x
assert_no_staging .
diff -r -x .folio src out || fail "round trip differs"
[ "$(stat -c %a out/private.txt)" = 644 ] || fail "private.txt mode $(stat -c %a out/private.txt), want 644"
[ -f out/empty1.txt ] && [ ! -s out/empty1.txt ] && [ -f out/a/empty2.txt ] || fail "empty files lost"
for i in 1 2 3 4 5; do
	[ -f "out/a/b/same$i.txt" ] || fail "same$i.txt lost"
done
if command -v zstd >/dev/null 2>&1; then
	n=$(zstd -dcq e.folio | tar -tf - | grep -c 'same[0-9].txt')
	[ "$n" = 1 ] || fail "identical files stored $n times, want 1"
fi
# The manifest says 0755 (checked above): unpack must install it so.
[ "$(stat -c %a out/run.sh)" = 755 ] || fail "run.sh mode $(stat -c %a out/run.sh), want 755"
exit 0
