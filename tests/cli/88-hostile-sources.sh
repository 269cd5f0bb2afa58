# SPDX-License-Identifier: ISC
# Hostile input to the parts of the reader that tests/cli/44-hostile-cases.sh
# cannot reach with one expectation for verify and unpack: --partial resuming
# after damage when the next "frame" is junk that starts like one (a zstd
# magic and a folio frame header, then a bad block), and an unpack --force
# over the same edition when the bundle carries a patch against a content of
# its own (verified against DEST, which holds the base).  The bundles are
# built by tools/folio-hostile from the description below.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need zstd minisign
use_test_keys
repo=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
HOSTILE=$repo/tools/folio-hostile

python3 - "$repo/tests/hostile/cases.json" cases.json <<'PY' || fail "cannot write the cases"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
A, B = "first story\n", "second story\n"
bad_a = {"manifest": {"blake2b": "00" * 32}}
doc["cases"] = [
    # frame 2 holds a.txt with a wrong hash (damage); then 6 bytes that
    # look like a frame start (magic, checksum flag, 1 KiB window) and a
    # reserved block type; then frame 3 with news/b.txt, frame 4 the end
    {"name": "junk-after-damage", "edit": {"a.txt": bad_a},
     "frames": [{"items": ["@manifest", "@signature"]}, {"items": [{"file": "a.txt"}]},
                {"bytes": {"hex": "28b52ffd0400ffffff0000"}},
                {"items": [{"file": "news/b.txt"}]}, {"items": ["@end"]}],
     "expect": {"status": 1}},
    # the same, two junk frame starts in a row
    {"name": "junk-twice-after-damage", "edit": {"a.txt": bad_a},
     "frames": [{"items": ["@manifest", "@signature"]}, {"items": [{"file": "a.txt"}]},
                {"bytes": {"hex": "28b52ffd0400ffffff000028b52ffd0400ffffff"}},
                {"items": [{"file": "news/b.txt"}]}, {"items": ["@end"]}],
     "expect": {"status": 1}},
    # news/b.txt as a patch against a.txt's content (same edition)
    {"name": "patch-same-edition",
     "body": [{"file": "a.txt"},
              {"name": {"$concat": [".folio/patch/", {"$b2": A}, "/news/b.txt"]},
               "data": {"patch": {"base": A, "target": B}}}, "@end"],
     "expect": {"status": 0}},
]
json.dump(doc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
python3 "$HOSTILE" build-all cases.json bundles --key key.key --jobs 2 >/dev/null ||
	fail "folio-hostile build-all failed"

# ---- --partial: junk that starts like a frame is skipped like damage ----
for b in junk-after-damage junk-twice-after-damage; do
	expect_status 1 "$UNPACK" unpack "bundles/$b.folio" -p key.pub -C "$b"
	expect_stderr_match "'a.txt' does not match its hash"
	expect_status 0 "$UNPACK" unpack "bundles/$b.folio" -p key.pub -C "$b" --partial
	[ -f "$b/news/b.txt" ] || fail "$b: news/b.txt, in the frame after the junk, was not kept"
	[ "$(cat "$b/news/b.txt")" = "second story" ] || fail "$b: news/b.txt has other bytes"
	[ ! -e "$b/a.txt" ] || fail "$b: the damaged a.txt was kept"
	printf 'a.txt\nnews/copy.txt\n' | cmp -s - "$b/.folio/missing" ||
		fail "$b: .folio/missing is not a.txt and news/copy.txt: $(cat "$b/.folio/missing")"
done

# ---- a patch against a content of its own edition ----
b=bundles/patch-same-edition.folio
expect_status 0 "$UNPACK" unpack "$b" -p key.pub -C same
[ "$(cat same/news/b.txt)" = "second story" ] || fail "the patch did not give news/b.txt"
before=$(tree_digest same)
# the same edition again over it: verified in full, its patch against the
# base DEST holds, and nothing written
expect_status 0 "$UNPACK" unpack "$b" -p key.pub -C same --force
expect_stderr_match "already holds edition"
[ "$(tree_digest same)" = "$before" ] || fail "unpack --force of the same edition changed DEST"
# verify with DEST as a source
expect_status 0 "$UNPACK" verify "$b" -p key.pub --base same
assert_no_staging .
exit 0
