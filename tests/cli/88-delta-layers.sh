# SPDX-License-Identifier: ISC
# Bundles that carry part of an edition (the reader's side), with real
# bundles from folio-pack: a delta unpacked onto its base (--base, or DEST
# itself with --force) is byte for byte the full bundle's unpack; without
# its base it is refused naming the base edition, and nothing is written;
# a base file that was altered is not taken (hashed again), another good
# base supplies it; the library installs deltas and layers (a text layer is
# a readable edition with files "not received yet", the media layer
# completes it, a layer of a complete edition is nothing to do), and
# refuses a delta whose base it lacks, unchanged; verify of a delta; a
# tampered patch is refused naming its file.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"
need zstd tar b2sum
use_test_keys
export FOLIO_LIBRARY=

# ---- three days of a small edition ----
# day 1: the fixture edition, six long articles (a typo in 03), two sounds
# day 2: the typo corrected, 06 gone, 07 new, copy-02 (02's bytes at a new
#        path), media/grow.mp3 grown by 4 KiB (a patch), media/new.mp3 new
# day 3: day 2 and one more article
cp -R "$FIXTURES/edition" day1
python3 - day1 <<'PY' || fail "cannot make the articles"
import random, sys
d = sys.argv[1]
words = open(d + "/articles/article-ar-cairo-news.txt", encoding="utf-8").read().split()
words += "the talks resume in the capital as ministers meet officials from the region".split()
rnd = random.Random(88)
for n in range(1, 7):
    paras = "\n".join("<p>%s.</p>" % " ".join(rnd.choice(words) for _ in range(60)) for _ in range(8))
    typo = "<p>The ministry said teh talks would resume on Sunday.</p>\n" if n == 3 else ""
    with open("%s/articles/long-%02d.html" % (d, n), "w", encoding="utf-8") as f:
        f.write('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Report %d</title>'
                '</head>\n<body><h1>Report %d</h1>\n%s%s\n</body></html>\n' % (n, n, typo, paras))
import os
os.mkdir(d + "/media")
open(d + "/media/grow.mp3", "wb").write(bytes(rnd.getrandbits(8) for _ in range(16384)))
open(d + "/media/same.mp3", "wb").write(bytes(rnd.getrandbits(8) for _ in range(8192)))
PY
cp -R day1 day2
sed -i 's/said teh talks/said the talks/' day2/articles/long-03.html
cmp -s day1/articles/long-03.html day2/articles/long-03.html && fail "the typo was not corrected"
rm day2/articles/long-06.html
sed 's/Report 5/Report 7/g' day2/articles/long-05.html >day2/articles/long-07.html
cp day2/articles/long-02.html day2/articles/copy-02.html
python3 -c 'import random, sys; r = random.Random(2); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(4096)))' \
	>>day2/media/grow.mp3 || fail "cannot grow media/grow.mp3"
python3 -c 'import random, sys; r = random.Random(3); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(6000)))' \
	>day2/media/new.mp3 || fail "cannot make media/new.mp3"
cp -R day2 day3
sed 's/Report 1/Report 8/g' day3/articles/long-01.html >day3/articles/long-08.html

# pk EDITION SRC OPTION...: packs SRC as that edition of channel news,
# made EDITION-1 days after FIXED_EPOCH (reproducible).
pk() {
	local e=$1
	shift
	SOURCE_DATE_EPOCH=$((FIXED_EPOCH + (e - 1) * 86400)) \
		expect_status 0 "$PACK" pack "$@" -k key.key -c news -e "$e" $FIXED_VALIDITY -q
}
pk 1 day1 -o d1.folio
pk 2 day2 -o d2.folio
pk 3 day3 -o d3.folio
pk 2 day2 -o delta.folio --base d1.folio
pk 2 day2 -o L2 --layers text,media
pk 2 day2 -o dl --base d1.folio --layers text,media
for e in 1 2 3; do
	expect_status 0 "$UNPACK" unpack "d$e.folio" -p key.pub -C "full$e"
done

# same_tree WANT GOT WHAT: GOT holds exactly WANT's files (.folio/ too),
# bytes and modes.
same_tree() {
	local d
	if ! d=$(diff -r "$1" "$2" 2>&1) || [ "$(tree_digest "$1")" != "$(tree_digest "$2")" ]; then
		printf 'FAIL: %s: %s differs from %s\n' "$3" "$2" "$1" >&2
		printf '%s\n' "$d" | head -n 20 | sed 's/^/  | /' >&2
		diff <(tree_listing "$1") <(tree_listing "$2") | head -n 20 | sed 's/^/  | /' >&2
		show_last
		exit 1
	fi
}
# b2 FILE: its BLAKE2b-256, as the manifest writes it.
b2() {
	b2sum -l 256 "$1" | cut -d' ' -f1
}
# listing DIR: every path with its size, as a byte-exact "unchanged" check.
listing() {
	find "$1" -printf '%p %s\n' | LC_ALL=C sort
}
# paths MANIFEST LAYER: the paths of that layer ("text", "media") in manifest
# order; with BASE-MANIFEST, only those whose content BASE does not hold.
paths() {
	python3 - "$@" <<'PY' || fail "cannot read $1"
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
have = set()
if len(sys.argv) > 3:
    have = {(f["size"], f["blake2b"]) for f in json.load(open(sys.argv[3], encoding="utf-8"))["files"]}
for f in m["files"]:
    if f["layer"] == sys.argv[2] and (f["size"], f["blake2b"]) not in have:
        print(f["path"])
PY
}
# flip_byte FILE: one bit of its middle byte flipped, its size kept.
flip_byte() {
	python3 - "$1" <<'PY' || fail "cannot alter $1"
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x01
open(sys.argv[1], "wb").write(bytes(b))
PY
}

# ---- 1. a delta onto its base is the full edition ----
tar --zstd -tf delta.folio >delta.list || fail "tar --zstd -tf delta.folio"
old03=$(b2 day1/articles/long-03.html)
grep -qxF ".folio/patch/$old03/articles/long-03.html" delta.list ||
	fail "the corrected article is not a patch against day 1's: $(tr '\n' ' ' <delta.list)"
oldgrow=$(b2 day1/media/grow.mp3)
grep -qxF ".folio/patch/$oldgrow/media/grow.mp3" delta.list ||
	fail "the grown sound is not a patch against day 1's: $(tr '\n' ' ' <delta.list)"
for p in articles/long-01.html articles/copy-02.html media/same.mp3 assets/img/nile.jpg; do
	grep -qF "$p" delta.list && fail "the delta carries $p, whose bytes day 1 has"
done
grep -qxF articles/long-07.html delta.list || fail "the delta lacks the new article"
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C out1 --base full1
expect_stderr_match "^folio-unpack: unpacked edition 2 of channel news into 'out1'"
same_tree full2 out1 "a delta unpacked onto its base"
[ ! -e out1/.folio/missing ] || fail "a complete edition has .folio/missing"
# the layered deltas together, onto the base, are the full edition too
expect_status 0 "$UNPACK" unpack dl.text.folio -p key.pub -C out1l --base full1
cmp -s <(printf 'media/grow.mp3\nmedia/new.mp3\n') out1l/.folio/missing ||
	fail "out1l/.folio/missing: $(tr '\n' ' ' <out1l/.folio/missing)"
# the media delta's patch needs day 1's grow.mp3, which DEST has not: the
# incomplete copy takes what the delta can give and still lacks grow.mp3
expect_status 0 "$UNPACK" unpack dl.media.folio -p key.pub -C out1l --force
expect_stderr_match "29 of its 30 files"
[ "$(cat out1l/.folio/missing)" = media/grow.mp3 ] ||
	fail "out1l/.folio/missing after the media delta alone: $(tr '\n' ' ' <out1l/.folio/missing)"
[ -f out1l/media/new.mp3 ] || fail "the media delta alone did not add media/new.mp3"
expect_status 0 "$UNPACK" unpack dl.media.folio -p key.pub -C out1l --force --base full1
same_tree full2 out1l "the text and media deltas unpacked onto the base"

# ---- 2. without its base: refused, naming the base edition; nothing written ----
expect_reject 1 "^folio-unpack: cannot verify 'delta.folio': it is a delta against edition 1, whose manifest it patches, and that edition is not here" \
	"$UNPACK" unpack delta.folio -p key.pub -C out2
[ ! -e out2 ] || fail "a refused delta made out2"
assert_no_staging .
# a base that is not its base (day 3 lacks the day 1 files the patches
# need): refused the same way, nothing written
expect_reject 1 "it is a delta against edition 1, whose manifest it patches, and that edition is not here" \
	"$UNPACK" unpack delta.folio -p key.pub -C out2 --base full3
[ ! -e out2 ] || fail "a refused delta made out2"
assert_no_staging .

# ---- 3. DEST is its own source ----
cp -a full1 dest3
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C dest3 --force
same_tree full2 dest3 "a delta unpacked with --force over its base"
assert_no_staging .
before=$(tree_digest dest3)
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C dest3 --force
expect_stderr_match "'dest3' already holds edition 2 of channel news: nothing to do"
assert_same_digest "$before" dest3 "the same delta again"
cp -a full3 dest3new
before=$(tree_digest dest3new)
expect_reject 1 "cannot verify 'delta.folio': it is a delta against edition 1, whose manifest it patches, and that edition is not here" \
	"$UNPACK" unpack delta.folio -p key.pub -C dest3new --force
assert_same_digest "$before" dest3new "an older delta"
assert_no_staging .

# ---- 4. a base file altered since: not taken ----
cp -a full1 bad1
flip_byte bad1/articles/long-01.html
expect_reject 1 "cannot unpack 'delta.folio': incomplete: 1 of [0-9]+ files are missing, 'articles/long-01.html' among them" \
	"$UNPACK" unpack delta.folio -p key.pub -C out4 --base bad1
[ ! -e out4 ] || fail "a refused delta made out4"
assert_no_staging .
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C out4 --base bad1 --base full1
same_tree full2 out4 "a delta with an altered base and a good one"
rm -rf out4
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C out4 --base full1 --base bad1
same_tree full2 out4 "a delta with a good base and an altered one"
# the patch's base altered: the patched article cannot be made
cp -a full1 bad1p
flip_byte bad1p/articles/long-03.html
expect_reject 1 "cannot unpack 'delta.folio': incomplete: 1 of [0-9]+ files are missing, 'articles/long-03.html' among them" \
	"$UNPACK" unpack delta.folio -p key.pub -C out4p --base bad1p
[ ! -e out4p ] || fail "a refused delta made out4p"
expect_status 0 "$UNPACK" unpack delta.folio -p key.pub -C out4p --base bad1p --base full1
same_tree full2 out4p "a delta whose patch base is altered in one base, good in another"
# the same over DEST with --force: DEST's altered file is not taken either
cp -a bad1 dest4
before=$(tree_digest dest4)
expect_reject 1 "incomplete: 1 of [0-9]+ files are missing, 'articles/long-01.html' among them" \
	"$UNPACK" unpack delta.folio -p key.pub -C dest4 --force
assert_same_digest "$before" dest4 "a refused delta over an altered DEST"
assert_no_staging .

# ---- 5. the library: a delta on top of its base; without it, refused ----
LIBDIR=lib5
expect_status 0 "$UNPACK" trust add news key.pub --library lib5
expect_status 0 "$UNPACK" install d1.folio --library lib5
expect_status 0 "$UNPACK" install delta.folio --library lib5
expect_stderr_match "^folio-unpack: installed edition 2 of channel 'news' .* in lib5/news/2"
same_tree full2 lib5/news/2 "a delta installed on top of edition 1"
same_tree full1 lib5/news/1 "edition 1 after a delta on top of it"
lib_consistent
[ "$(lib_json channels.0.editions.0.edition)" = 2 ] && [ "$(lib_json channels.0.editions.0.missing)" = 0 ] ||
	fail "status: edition 2 $(lib_json channels.0.editions.0)"
[ "$(lib_json channels.0.edition)" = 2 ] || fail "the newest edition accepted is not 2"
expect_status 0 "$UNPACK" status --library lib5
grep -q 'not received' "$OUT" && fail "status says a complete edition lacks files: $(cat "$OUT")"
expect_status 0 "$UNPACK" install delta.folio --library lib5
expect_stderr_match "edition 2 of channel 'news' is already installed: nothing to do"

LIBDIR=lib5b
expect_status 0 "$UNPACK" trust add news key.pub --library lib5b
before=$(listing lib5b)
digest=$(tree_digest lib5b)
expect_reject 1 "^folio-unpack: cannot install 'delta.folio': it is a delta against edition 1, which this library does not hold: install edition 1" \
	"$UNPACK" install delta.folio --library lib5b
[ "$(listing lib5b)" = "$before" ] || fail "a refused delta changed the library: $(diff <(echo "$before") <(listing lib5b))"
assert_same_digest "$digest" lib5b "a refused delta"
# with day 3 installed, day 2 is older: refused before anything else
expect_status 0 "$UNPACK" install d3.folio --library lib5b
digest=$(tree_digest lib5b)
expect_reject 1 "it says it is edition 2 of channel 'news', not newer than edition 3" \
	"$UNPACK" install delta.folio --library lib5b
assert_same_digest "$digest" lib5b "an older delta"

# ---- 6. layers ----
manifest2=full2/.folio/manifest.json
paths "$manifest2" text >text.list
paths "$manifest2" media >media.list
[ "$(wc -l <media.list)" -ge 4 ] && [ "$(wc -l <text.list)" -ge 10 ] ||
	fail "day 2 has $(wc -l <text.list) text and $(wc -l <media.list) media files"
expect_status 0 "$UNPACK" unpack L2.text.folio -p key.pub -C lt
expect_stderr_match "$(wc -l <media.list) media files are not here yet \(a text layer\)"
while IFS= read -r p; do
	cmp -s "full2/$p" "lt/$p" || fail "the text layer's unpack lacks '$p' or has other bytes"
done <text.list
while IFS= read -r p; do
	[ ! -e "lt/$p" ] && [ ! -L "lt/$p" ] || fail "the text layer's unpack has the media file '$p'"
done <media.list
cmp -s media.list lt/.folio/missing ||
	fail "lt/.folio/missing is not the media files in manifest order: $(diff media.list lt/.folio/missing)"
cmp -s full2/.folio/manifest.json lt/.folio/manifest.json || fail "the text layer kept another manifest"
expect_status 0 "$UNPACK" unpack L2.media.folio -p key.pub -C lt --force
[ ! -e lt/.folio/missing ] || fail "the media layer left lt/.folio/missing"
same_tree full2 lt "the text layer then the media layer"
assert_no_staging .
# a layer of the edition DEST holds complete: nothing to do
before=$(tree_digest lt)
expect_status 0 "$UNPACK" unpack L2.text.folio -p key.pub -C lt --force
expect_stderr_match "'lt' already holds edition 2 of channel news: nothing to do"
assert_same_digest "$before" lt "a text layer over the complete edition"
# the media layer alone: its text is missing
expect_reject 1 "^folio-unpack: cannot unpack 'L2.media.folio': incomplete: $(wc -l <text.list) of [0-9]+ files are missing" \
	"$UNPACK" unpack L2.media.folio -p key.pub -C lm
[ ! -e lm ] || fail "a refused media layer made lm"
assert_no_staging .

LIBDIR=lib6
expect_status 0 "$UNPACK" trust add news key.pub --library lib6
before=$(listing lib6)
expect_status 1 "$UNPACK" install L2.media.folio --library lib6
expect_stderr_match "cannot install 'L2.media.folio': incomplete"
[ "$(listing lib6)" = "$before" ] || fail "a refused media layer changed the library"
expect_status 0 "$UNPACK" install L2.text.folio --library lib6
expect_stderr_match "$(wc -l <media.list) media files are not here yet"
cmp -s media.list lib6/news/2/.folio/missing || fail "lib6/news/2/.folio/missing is not the media files"
expect_status 0 "$UNPACK" status --library lib6
expect_stdout_match '^ +2  made '
expect_stdout_match "^ +$(wc -l <media.list) files not received yet"
grep -q DAMAGED "$OUT" && fail "status calls the text layer damaged"
lib_consistent
[ "$(lib_json channels.0.editions.0.missing)" = "$(wc -l <media.list)" ] ||
	fail "status --json: missing $(lib_json channels.0.editions.0.missing)"
expect_status 0 "$UNPACK" install L2.media.folio --library lib6
same_tree full2 lib6/news/2 "the library: the text layer then the media layer"
expect_status 0 "$UNPACK" status --library lib6
grep -q 'not received' "$OUT" && fail "status still says files are missing: $(cat "$OUT")"
lib_consistent
[ "$(lib_json channels.0.editions.0.missing)" = 0 ] || fail "status --json: still missing"
for l in text media; do
	digest=$(tree_digest lib6)
	expect_status 0 "$UNPACK" install "L2.$l.folio" --library lib6
	expect_stderr_match "edition 2 of channel 'news' is already installed: nothing to do"
	assert_same_digest "$digest" lib6 "the $l layer of a complete edition"
done
# check still finds a text file gone from an incomplete edition (missing
# listed files are not damage, others are)
LIBDIR=lib6c
expect_status 0 "$UNPACK" trust add news key.pub --library lib6c
expect_status 0 "$UNPACK" install L2.text.folio --library lib6c
expect_status 0 "$UNPACK" check --library lib6c
rm lib6c/news/2/articles/long-07.html
expect_status 1 "$UNPACK" check --library lib6c
expect_stderr_match "lib6c/news/2/articles/long-07.html: missing"

# ---- 7. a delta of one layer on top of its base, in the library ----
LIBDIR=lib7
paths "$manifest2" media full1/.folio/manifest.json >new-media.list
[ "$(tr '\n' ' ' <new-media.list)" = "media/grow.mp3 media/new.mp3 " ] ||
	fail "new media of day 2: $(tr '\n' ' ' <new-media.list)"
expect_status 0 "$UNPACK" trust add news key.pub --library lib7
expect_status 0 "$UNPACK" install d1.folio --library lib7
expect_status 0 "$UNPACK" install dl.text.folio --library lib7
expect_stderr_match "installed edition 2 of channel 'news'"
expect_stderr_match "2 media files are not here yet"
cmp -s new-media.list lib7/news/2/.folio/missing ||
	fail "lib7/news/2/.folio/missing: $(tr '\n' ' ' <lib7/news/2/.folio/missing)"
while IFS= read -r p; do
	grep -qxF "$p" new-media.list && continue
	cmp -s "full2/$p" "lib7/news/2/$p" || fail "the text delta's edition lacks '$p' or has other bytes"
done < <(cat text.list media.list)
expect_status 0 "$UNPACK" status --library lib7
expect_stdout_match '^ +2 files not received yet'
lib_consistent
expect_status 0 "$UNPACK" install dl.media.folio --library lib7
same_tree full2 lib7/news/2 "the library: a text delta then a media delta"
same_tree full1 lib7/news/1 "the base after a layered delta on top of it"
lib_consistent
[ "$(lib_json channels.0.editions.0.missing)" = 0 ] || fail "status --json: still missing"
# the text delta without its base: refused, naming the base
LIBDIR=lib7b
expect_status 0 "$UNPACK" trust add news key.pub --library lib7b
before=$(listing lib7b)
expect_reject 1 "cannot install 'dl.text.folio': it is a delta against edition 1, which this library does not hold" \
	"$UNPACK" install dl.text.folio --library lib7b
[ "$(listing lib7b)" = "$before" ] || fail "a refused text delta changed the library"

# A media delta over an edition 2 that lacks text files (a media layer
# installed with --partial) while its base, edition 1, is kept: the
# incomplete copy keeps what it has, still lacks the same text files, and
# is not told to "install edition 1 first" (the library holds it).
LIBDIR=lib7c
expect_status 0 "$UNPACK" trust add news key.pub --library lib7c
expect_status 0 "$UNPACK" install d1.folio --library lib7c
expect_status 0 "$UNPACK" install L2.media.folio --library lib7c --partial
cp lib7c/news/2/.folio/missing missing.before
expect_status 0 "$UNPACK" install dl.media.folio --library lib7c
grep -q 'install edition 1' "$ERR" && fail "the library asks for a base it holds"
cmp -s missing.before lib7c/news/2/.folio/missing || fail "a media delta changed what edition 2 lacks"
lib_consistent
expect_status 0 "$UNPACK" install dl.text.folio --library lib7c
same_tree full2 lib7c/news/2 "the library: a media layer (--partial), then a text delta"
lib_consistent

# ---- 8. verify; a tampered patch ----
# a delta's manifest is a patch against its base's: it verifies only with it
expect_reject 1 "cannot verify 'delta.folio': it is a delta against edition 1, whose manifest it patches" \
	"$UNPACK" verify delta.folio -p key.pub
expect_status 0 "$UNPACK" verify delta.folio -p key.pub --base full1
expect_stderr_match "^folio-unpack: 'delta.folio' is good: channel news, edition 2"
grep -q 'part of its edition' "$ERR" && fail "verify --base says the delta lacks files its base has"
expect_status 0 "$UNPACK" verify L2.media.folio -p key.pub
expect_stderr_match "it carries part of its edition: $(wc -l <text.list) files are not in it$"
expect_status 0 "$UNPACK" verify d2.folio -p key.pub
grep -q 'part of its edition' "$ERR" && fail "verify says a full bundle carries part of its edition"

# tamper BUNDLE ENTRY WHERE OUT: BUNDLE with one bit flipped in ENTRY's data
# (WHERE "middle" or "checksum": its last byte), every zstd frame decoded
# and the changed one compressed again, so the frames stay as they were.
tamper() {
	python3 - "$@" <<'PY' || fail "cannot tamper with $1"
import subprocess, sys, tarfile, io
src, entry, where, out = sys.argv[1:5]
data = open(src, "rb").read()
def frame_end(d, p):
    fhd = d[p + 4]
    q = p + 5 + (0 if fhd & 0x20 else 1) + (0, 1, 2, 4)[fhd & 3] + ((1 if fhd & 0x20 else 0), 2, 4, 8)[fhd >> 6]
    while True:
        bh = int.from_bytes(d[q:q + 3], "little")
        q += 3 + (1 if (bh >> 1) & 3 == 1 else bh >> 3)
        if bh & 1:
            break
    return q + (4 if fhd & 4 else 0)
frames, p = [], 0
while p < len(data):
    e = frame_end(data, p)
    frames.append(subprocess.run(["zstd", "-dcq"], input=data[p:e], stdout=subprocess.PIPE, check=True).stdout)
    p = e
tar = b"".join(frames)
with tarfile.open(fileobj=io.BytesIO(tar)) as t:
    m = t.getmember(entry)
at = m.offset_data + (m.size // 2 if where == "middle" else m.size - 1)
start = 0
for i, f in enumerate(frames):
    if start <= at < start + len(f):
        g = bytearray(f)
        g[at - start] ^= 0x01
        frames[i] = bytes(g)
        break
    start += len(f)
with open(out, "wb") as o:
    for f in frames:
        o.write(subprocess.run(["zstd", "-qc", "--check", "-19"], input=f, stdout=subprocess.PIPE, check=True).stdout)
PY
}
patch03=".folio/patch/$old03/articles/long-03.html"
for where in middle checksum; do
	tamper delta.folio "$patch03" $where bad-$where.folio
	zstd -tq bad-$where.folio || fail "bad-$where.folio is not sound zstd"
	[ "$(zstd -lv bad-$where.folio 2>&1 | sed -n 's/.*Zstandard Frames: //p')" = \
		"$(zstd -lv delta.folio 2>&1 | sed -n 's/.*Zstandard Frames: //p')" ] ||
		fail "bad-$where.folio has other frames than delta.folio"
	cmp -s <(tar --zstd -xOf bad-$where.folio "$patch03") <(tar --zstd -xOf delta.folio "$patch03") &&
		fail "bad-$where.folio: the patch was not changed"
	expect_reject 1 "^folio-unpack: cannot verify 'bad-$where.folio'.*'articles/long-03.html'" \
		"$UNPACK" unpack bad-$where.folio -p key.pub -C out8 --base full1
	[ ! -e out8 ] || fail "a tampered patch made out8"
	assert_no_staging .
	expect_reject 1 "^folio-unpack: cannot verify 'bad-$where.folio'.*'articles/long-03.html'" \
		"$UNPACK" verify bad-$where.folio -p key.pub --base full1
	# over DEST, which is its base: refused, DEST kept
	cp -a full1 dest8
	before=$(tree_digest dest8)
	expect_reject 1 "'articles/long-03.html'" "$UNPACK" unpack bad-$where.folio -p key.pub -C dest8 --force
	assert_same_digest "$before" dest8 "a tampered patch over DEST"
	rm -rf dest8
done
# a sound zstd frame against the right base that decodes to other bytes
# (of the same size): its hash is wrong
mkdir x && tar --zstd -xf delta.folio -C x || fail "cannot extract delta.folio"
sed 's/said the talks/said thE talks/' day2/articles/long-03.html >wrong.html
zstd -qf --patch-from=day1/articles/long-03.html wrong.html -o "x/$patch03" || fail "zstd --patch-from"
mapfile -t entries <delta.list
bundle_build x bad-wrong.folio "${entries[@]}"
expect_reject 1 "^folio-unpack: cannot verify 'bad-wrong.folio'.*'articles/long-03.html' does not match its hash" \
	"$UNPACK" unpack bad-wrong.folio -p key.pub -C out8 --base full1
[ ! -e out8 ] || fail "a wrong patch made out8"
# the library refuses it too, unchanged
expect_status 0 "$UNPACK" trust add news key.pub --library lib8
expect_status 0 "$UNPACK" install d1.folio --library lib8
digest=$(tree_digest lib8)
expect_reject 1 "'articles/long-03.html'" "$UNPACK" install bad-wrong.folio --library lib8
assert_same_digest "$digest" lib8 "a delta with a wrong patch"

# ---- the news corpus: moved, corrected, dropped and new articles ----
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
	repo=$(cd "$FIXTURES/.." && pwd)
	"$repo/tools/news-corpus" corpus --days 3 --articles 30 --no-handbook >/dev/null ||
		fail "tools/news-corpus failed"
	pk 1 corpus/day-1 -o c1.folio
	pk 2 corpus/day-2 -o c2.folio
	pk 3 corpus/day-3 -o c3.folio
	pk 2 corpus/day-2 -o c2d.folio --base c1.folio
	pk 3 corpus/day-3 -o c3d --base c2.folio --layers text,media
	tar --zstd -tf c2d.folio | grep -q '^\.folio/patch/' || fail "the corpus delta has no patch"
	for e in 1 2 3; do
		expect_status 0 "$UNPACK" unpack "c$e.folio" -p key.pub -C "cfull$e"
	done
	expect_status 0 "$UNPACK" unpack c2d.folio -p key.pub -C cout --base cfull1
	same_tree cfull2 cout "the corpus delta onto day 1"
	expect_status 0 "$UNPACK" unpack c3d.text.folio -p key.pub -C cout --force
	expect_status 0 "$UNPACK" unpack c3d.media.folio -p key.pub -C cout --force
	same_tree cfull3 cout "the corpus layered delta of day 3 over day 2"
	LIBDIR=libc
	expect_status 0 "$UNPACK" trust add news key.pub --library libc
	expect_status 0 "$UNPACK" install c1.folio --library libc
	expect_status 0 "$UNPACK" install c2d.folio --library libc
	expect_status 0 "$UNPACK" install c3d.text.folio --library libc
	lib_consistent
	expect_status 0 "$UNPACK" install c3d.media.folio --library libc
	same_tree cfull2 libc/news/2 "the corpus: day 2 in the library"
	same_tree cfull3 libc/news/3 "the corpus: day 3 in the library"
	lib_consistent
else
	echo "note: python3-pil missing (tools/install-deps installs it): the news corpus part is not run"
fi
exit 0
