# SPDX-License-Identifier: ISC
# Bundles that carry part of an edition (the writer's side): pack --layers
# writes one bundle per layer, pack --base a delta against an earlier
# edition (a bundle or an unpacked folder), --frame-size cuts the frames.
# Checked with stock tools only (tar, zstd, b2sum): the entries of full,
# layer and delta bundles; a corrected article goes as a patch that
# `zstd -d --patch-from` turns into exactly the new file; what the base has
# is left out; the signed head is the same bytes in every bundle; one frame
# per entry with --frame-size 1; a corrected-typo day costs far less as a
# delta.  And the refusals: a base of another channel or not older, a
# missing or bad base, layers to standard output.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need zstd tar b2sum
use_test_keys
export SOURCE_DATE_EPOCH=$FIXED_EPOCH

# ---- two days: day 2 is day 1 with one typo corrected ----
cp -R "$FIXTURES/edition" day1
python3 - day1 <<'PY' || fail "cannot make the articles"
import random, sys
words = open(sys.argv[1] + "/articles/article-ar-cairo-news.txt", encoding="utf-8").read().split()
words += "the talks resume in the capital as ministers meet officials from the region".split()
rnd = random.Random(6)
for n in range(1, 21):
    paras = "\n".join("<p>%s.</p>" % " ".join(rnd.choice(words) for _ in range(80)) for _ in range(12))
    typo = "<p>The ministry said teh talks would resume on Sunday.</p>\n" if n == 7 else ""
    with open("%s/articles/long-%02d.html" % (sys.argv[1], n), "w", encoding="utf-8") as f:
        f.write('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Report %d</title></head>\n'
                '<body><h1>Report %d</h1>\n%s%s\n</body></html>\n' % (n, n, typo, paras))
PY
cp -R day1 day2
sed -i 's/said teh talks/said the talks/' day2/articles/long-07.html
cmp -s day1/articles/long-07.html day2/articles/long-07.html && fail "the typo was not corrected"

pack() {
	expect_status 0 "$PACK" pack -k key.key -c news $FIXED_VALIDITY -q "$@"
}
pack day1 -e 1 -o d1.folio
pack day2 -e 2 -o d2.folio
pack day2 -e 2 -o d2 --layers text,media
pack day2 -e 2 -o delta.folio --base d1.folio
pack day2 -e 2 -o dl --base d1.folio --layers media,text
expect_status 0 "$UNPACK" unpack d1.folio -p key.pub -C ed1 -q
pack day2 -e 2 -o delta-dir.folio --base ed1
pack day2 -e 2 -o frames.folio --frame-size 1
pack day2 -e 2 -o dtext --base ed1 --layers text
[ -f dtext.text.folio ] && [ ! -e dtext.media.folio ] || fail "--layers text wrote other than PREFIX.text.folio"

# ---- the same signed head in every bundle ----
tar --zstd -xOf d2.folio .folio/manifest.json >manifest.json || fail "no manifest in d2.folio"
tar --zstd -xOf d2.folio .folio/manifest.json.minisig >manifest.sig || fail "no signature in d2.folio"
for b in d2.text.folio d2.media.folio frames.folio; do
	tar --zstd -xOf "$b" .folio/manifest.json | cmp -s - manifest.json ||
		fail "$b carries another manifest than the full bundle"
done
# A delta carries its manifest as a zstd patch against the base's: stock
# zstd, given the base's manifest, turns it back into the same signed bytes.
tar --zstd -xOf d1.folio .folio/manifest.json >base.json || fail "no manifest in d1.folio"
base_hash=$(b2sum -l 256 base.json | cut -d' ' -f1)
for b in delta.folio delta-dir.folio dl.text.folio dl.media.folio dtext.text.folio; do
	tar --zstd -xOf "$b" ".folio/patch/$base_hash/.folio/manifest.json" >mpatch ||
		fail "$b does not carry its manifest as a patch against the base's"
	zstd -q -d --patch-from=base.json -c mpatch | cmp -s - manifest.json ||
		fail "$b's manifest patch does not give the full bundle's manifest"
	[ "$(stat -c %s mpatch)" -lt "$(zstd -q -19 -c manifest.json | wc -c)" ] ||
		fail "$b's manifest patch is no smaller than the manifest compressed"
done
for b in d2.text.folio d2.media.folio delta.folio delta-dir.folio dl.text.folio dl.media.folio \
	frames.folio dtext.text.folio; do
	tar --zstd -xOf "$b" .folio/manifest.json.minisig | cmp -s - manifest.sig ||
		fail "$b carries another signature than the full bundle"
done
expect_status 0 "$UNPACK" verify d2.folio -p key.pub

# ---- what each bundle should hold, from the manifest and the base's ----
# expected LAYER BASE: the entries, in order, of a bundle of LAYER ("all",
# "text", "media") against the base manifest BASE ("-": none).
expected() {
	python3 - manifest.json "$1" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
layer, base = sys.argv[2], sys.argv[3]
have, at = set(), {}
if base != "-":
    b = json.load(open(base, encoding="utf-8"))
    have = {(f["size"], f["blake2b"]) for f in b["files"]}
    at = {f["path"]: f for f in b["files"]}
import hashlib
if base != "-":
    print(".folio/patch/%s/.folio/manifest.json"
          % hashlib.blake2b(open(base, "rb").read(), digest_size=32).hexdigest())
else:
    print(".folio/manifest.json")
print(".folio/manifest.json.minisig")
if layer != "all" or base != "-":
    print(".folio/bundle.json")
seen = set()
for f in m["files"]:
    c = (f["size"], f["blake2b"])
    if (layer != "all" and f["layer"] != layer) or c in seen:
        continue
    seen.add(c)
    if c in have:
        continue
    old = at.get(f["path"])
    # a changed file the base has at the same path may go as a patch
    print(("?" if old else "") + f["path"])
PY
}
# same_entries BUNDLE LAYER BASE: its entries are the expected ones; a "?PATH"
# line matches PATH or .folio/patch/<base hash>/PATH.
same_entries() {
	local got want
	got=$(tar --zstd -tf "$1") || fail "tar --zstd -tf $1"
	want=$(expected "$2" "$3") || fail "cannot read the manifests"
	python3 - "$got" "$want" "$3" <<'PY' || fail "$1: entries are not as expected (see above)"
import json, sys
got, want = sys.argv[1].split("\n"), sys.argv[2].split("\n")
at = {}
if sys.argv[3] != "-":
    at = {f["path"]: f["blake2b"] for f in json.load(open(sys.argv[3], encoding="utf-8"))["files"]}
ok = len(got) == len(want)
for g, w in zip(got, want):
    if w.startswith("?"):
        ok &= g in (w[1:], ".folio/patch/%s/%s" % (at[w[1:]], w[1:]))
    else:
        ok &= g == w
if not ok:
    print("got:\n  " + "\n  ".join(got) + "\nwanted:\n  " + "\n  ".join(want), file=sys.stderr)
    sys.exit(1)
PY
}
same_entries d2.folio all -
same_entries frames.folio all -
same_entries d2.text.folio text -
same_entries d2.media.folio media -
same_entries delta.folio all base.json
same_entries delta-dir.folio all base.json
same_entries dl.text.folio text base.json
same_entries dl.media.folio media base.json
same_entries dtext.text.folio text base.json

# layer bundles hold files of their layer only (by the manifest)
python3 - manifest.json "$(tar --zstd -tf d2.text.folio)" "$(tar --zstd -tf d2.media.folio)" <<'PY' ||
import json, sys
layer = {f["path"]: f["layer"] for f in json.load(open(sys.argv[1], encoding="utf-8"))["files"]}
for names, want in ((sys.argv[2], "text"), (sys.argv[3], "media")):
    for n in names.split("\n"):
        if not n.startswith(".folio/") and layer[n] != want:
            sys.exit("%s in the %s bundle is a %s file" % (n, want, layer[n]))
PY
	fail "a layer bundle holds a file of another layer"
tar --zstd -tf d2.media.folio | grep -q '\.jpg$' || fail "the media bundle has no image"
tar --zstd -tf d2.text.folio | grep -q '\.jpg$' && fail "the text bundle has an image"

# ---- .folio/bundle.json: its bytes, right after the head ----
info_is() {
	[ "$(tar --zstd -tf "$1" | sed -n 3p)" = .folio/bundle.json ] || fail "$1: entry 3 is not .folio/bundle.json"
	tar --zstd -xOf "$1" .folio/bundle.json >info.json || fail "$1: no .folio/bundle.json"
	printf '%s\n' "$2" | cmp -s - info.json || fail "$1: bundle.json is '$(cat info.json)', not '$2'"
}
tar --zstd -tf d2.folio | grep -q '^\.folio/bundle\.json$' && fail "a full bundle has a bundle.json"
info_is d2.text.folio '{"format":"folio-bundle-1","layers":["text"]}'
info_is d2.media.folio '{"format":"folio-bundle-1","layers":["media"]}'
info_is delta.folio '{"format":"folio-bundle-1","base":1}'
info_is dl.text.folio '{"format":"folio-bundle-1","base":1,"layers":["text"]}'
info_is dl.media.folio '{"format":"folio-bundle-1","base":1,"layers":["media"]}'

# ---- the delta: unchanged contents absent, the correction a patch ----
tar --zstd -tf delta.folio >delta.list
for p in articles/long-01.html articles/long-20.html assets/img/masthead.png sections/world/img/logo.jpg; do
	grep -qxF "$p" delta.list && fail "the delta carries $p, which the base has"
done
grep -q 'long-0[^7]' delta.list && fail "the delta carries an unchanged article: $(grep 'long-0[^7]' delta.list)"
old=$(b2sum -l 256 day1/articles/long-07.html | cut -d' ' -f1)
grep -qxF ".folio/patch/$old/articles/long-07.html" delta.list ||
	fail "the corrected article is not a patch against the base: $(cat delta.list)"
cmp -s delta.folio delta-dir.folio || fail "a delta against the base bundle and against its folder differ"
pack day2 -e 2 -o delta-again.folio --base d1.folio
cmp -s delta.folio delta-again.folio || fail "a delta is not reproducible"

# every patch, decoded by stock zstd against the base's file, is the new file
mkdir x && tar --zstd -xf delta.folio -C x || fail "cannot extract delta.folio"
npatch=0
while IFS= read -r e; do
	path=${e#.folio/patch/*/}
	[ "$path" = .folio/manifest.json ] && continue # checked above
	hex=${e#.folio/patch/}
	hex=${hex%%/*}
	[ "$(b2sum -l 256 "ed1/$path" | cut -d' ' -f1)" = "$hex" ] || fail "$e: the base's $path has another hash"
	zstd -dq --patch-from="ed1/$path" "x/$e" -o patched.out -f || fail "zstd --patch-from cannot decode $e"
	want=$(python3 -c 'import json,sys; print({f["path"]: f["blake2b"] for f in json.load(open("manifest.json", encoding="utf-8"))["files"]}[sys.argv[1]])' "$path")
	[ "$(b2sum -l 256 patched.out | cut -d' ' -f1)" = "$want" ] || fail "$e does not decode to the new $path"
	# one frame, checksum on, no dictionary id, a window within 2^24
	zstd -lv "x/$e" >"$SCRATCH/zl" 2>&1 || fail "zstd -lv $e"
	grep -q 'Zstandard Frames: 1$' "$SCRATCH/zl" || fail "$e is not one frame"
	grep -q 'DictID: 0$' "$SCRATCH/zl" || fail "$e has a dictionary id"
	grep -q 'Check: XXH64' "$SCRATCH/zl" || fail "$e has no checksum"
	npatch=$((npatch + 1))
done < <(grep '^\.folio/patch/' delta.list)
[ $npatch -ge 1 ] || fail "no patches in the delta"
zstd -dq --patch-from=day1/articles/long-07.html "x/.folio/patch/$old/articles/long-07.html" -o typo.out ||
	fail "cannot decode the correction"
cmp -s typo.out day2/articles/long-07.html || fail "the correction does not decode to day 2's article"

# ---- frames: one per entry with --frame-size 1 ----
# split_frames BUNDLE DIR: each zstd frame of BUNDLE into DIR/NNNN.
split_frames() {
	mkdir -p "$2"
	python3 - "$1" "$2" <<'PY' || fail "cannot walk the frames of $1"
import sys
data, n, pos = open(sys.argv[1], "rb").read(), 0, 0
while pos < len(data):
    start = pos
    assert data[pos:pos + 4] == b"\x28\xb5\x2f\xfd", "not a zstd frame at %d" % pos
    fhd = data[pos + 4]
    pos += 5 + (0 if fhd & 0x20 else 1) + (0, 1, 2, 4)[fhd & 3] + ((1 if fhd & 0x20 else 0), 2, 4, 8)[fhd >> 6]
    while True:
        bh = int.from_bytes(data[pos:pos + 3], "little")
        pos += 3 + (1 if (bh >> 1) & 3 == 1 else bh >> 3)
        if bh & 1:
            break
    pos += 4 if fhd & 4 else 0
    open("%s/%04d" % (sys.argv[2], n), "wb").write(data[start:pos])
    n += 1
PY
}
# frame_entries FRAME: the entries that start in FRAME.
frame_entries() {
	{ zstd -dcq "$1"; head -c 1024 /dev/zero; } | tar -tf - 2>/dev/null
}
split_frames frames.folio fr
nentries=$(tar --zstd -tf frames.folio | wc -l)
nframes=$(find fr -type f | wc -l)
# the head (2 entries), one frame per other entry, the end-of-archive blocks
[ "$nframes" = $((nentries - 2 + 2)) ] || fail "--frame-size 1: $nframes frames for $nentries entries"
[ "$(frame_entries fr/0000 | tr '\n' ' ')" = ".folio/manifest.json .folio/manifest.json.minisig " ] ||
	fail "frame 1 is not the head: $(frame_entries fr/0000 | tr '\n' ' ')"
for f in fr/*; do
	[ "$f" = fr/0000 ] || [ "$f" = "fr/$(printf %04d $((nframes - 1)))" ] && continue
	[ "$(frame_entries "$f" | wc -l)" = 1 ] || fail "$f holds $(frame_entries "$f" | wc -l) entries"
done
[ -z "$(frame_entries "fr/$(printf %04d $((nframes - 1)))")" ] || fail "the last frame holds an entry"
cmp -s <(zstd -dcq frames.folio) <(zstd -dcq d2.folio) || fail "--frame-size 1 changed the tar stream"
expect_status 0 "$UNPACK" verify frames.folio -p key.pub
# the head, a frame of text, one of compressed media (FORMAT.md 2.1)
[ "$(zstd -lv d2.folio 2>&1 | sed -n 's/.*Zstandard Frames: //p')" = 3 ] || fail "d2.folio is not 3 frames"
# the layer bundle's head frame holds bundle.json too
split_frames d2.text.folio frt
[ "$(frame_entries frt/0000 | tr '\n' ' ')" = ".folio/manifest.json .folio/manifest.json.minisig .folio/bundle.json " ] ||
	fail "frame 1 of a layer bundle is not the head and bundle.json: $(frame_entries frt/0000 | tr '\n' ' ')"
pack day2 -e 2 -o f64k.folio --frame-size 64K
[ "$(zstd -lv f64k.folio 2>&1 | sed -n 's/.*Zstandard Frames: //p')" -gt 3 ] || fail "--frame-size 64K made too few frames"
cmp -s <(zstd -dcq f64k.folio) <(zstd -dcq d2.folio) || fail "--frame-size 64K changed the tar stream"

# with a key list, bundle.json follows entries 3 and 4
for k in root day; do expect_status 0 "$PACK" keygen -o $k --unencrypted -q; done
expect_status 0 "$PACK" delegate -k root.key -p day.pub -c news -o news.keys -q
expect_status 0 "$PACK" pack day2 -k day.key -c news -e 2 -o keyed --keys news.keys --base ed1 --layers text -q
[ "$(tar --zstd -tf keyed.text.folio | head -n 5 | tr '\n' ' ')" = ".folio/patch/$base_hash/.folio/manifest.json .folio/manifest.json.minisig .folio/keys.json .folio/keys.json.minisig .folio/bundle.json " ] ||
	fail "with a key list, bundle.json is not entry 5: $(tar --zstd -tf keyed.text.folio | head -n 5 | tr '\n' ' ')"

# ---- sizes: a corrected-typo day ----
full=$(stat -c %s d2.folio)
delta=$(stat -c %s delta.folio)
echo "typo day: full bundle $full bytes, delta $delta bytes; layers: text $(stat -c %s d2.text.folio), media $(stat -c %s d2.media.folio); delta layers: text $(stat -c %s dl.text.folio), media $(stat -c %s dl.media.folio)"
[ $((delta * 4)) -lt "$full" ] || fail "the delta ($delta bytes) is not far smaller than the full bundle ($full bytes)"
[ "$(tar --zstd -tf dl.media.folio | wc -l)" = 3 ] ||
	fail "the media delta of a typo day is not just its head: $(tar --zstd -tf dl.media.folio | tr '\n' ' ')"

# The news corpus (python3-pil): a desk's day, 20% new articles, 5% corrected.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
	repo=$(cd "$FIXTURES/.." && pwd)
	"$repo/tools/news-corpus" corpus --days 2 --articles 60 --no-handbook >/dev/null ||
		fail "tools/news-corpus failed"
	pack corpus/day-1 -e 1 -o c1.folio
	pack corpus/day-2 -e 2 -o c2.folio
	pack corpus/day-2 -e 2 -o c2d.folio --base c1.folio
	pack corpus/day-2 -e 2 -o c2dl --base c1.folio --layers text,media
	echo "news corpus day 2: full $(stat -c %s c2.folio) bytes, delta $(stat -c %s c2d.folio), delta text $(stat -c %s c2dl.text.folio), delta media $(stat -c %s c2dl.media.folio)"
	[ "$(stat -c %s c2d.folio)" -lt "$(stat -c %s c2.folio)" ] || fail "the corpus delta is not smaller"
else
	echo "note: python3-pil missing, the news corpus is not measured"
fi

# ---- a base bundle that has expired, or that the clock says is from the future ----
# The publisher's own earlier edition: its expiry (or a clock that is behind)
# does not make it a worse base.  A delta as a base: its manifest is a patch
# that cannot be read alone, which the message says in a packer's words.
SOURCE_DATE_EPOCH=$(($(date +%s) - 10 * 86400)) expect_status 0 "$PACK" pack day1 -k key.key -c news -e 1 \
	--valid-days 2 -o old1.folio -q
SOURCE_DATE_EPOCH=$(($(date +%s) + 5 * 86400)) expect_status 0 "$PACK" pack day1 -k key.key -c news -e 1 \
	-o future1.folio -q
for b in old1 future1; do
	(unset SOURCE_DATE_EPOCH; expect_status 0 "$PACK" pack day2 -k key.key -c news -e 2 -o "from-$b.folio" -q \
		--base "$b.folio") || exit 1
	rm -rf "base-$b" "got-$b"
	mkdir "base-$b" && (cd "base-$b" && tar --zstd -xf "../$b.folio") || fail "cannot extract $b.folio"
	expect_status 0 "$UNPACK" unpack "from-$b.folio" -p key.pub --base "base-$b" -C "got-$b" -q
	cmp -s "got-$b/articles/long-07.html" day2/articles/long-07.html ||
		fail "the delta against $b.folio does not give day 2's article"
done
expect_reject 1 "cannot use base 'delta.folio': it is itself a delta \\(against edition 1\\)" \
	"$PACK" pack day2 -k key.key -c news -e 3 -o r0.folio --base delta.folio

# ---- refusals ----
expect_status 0 "$PACK" pack day1 -k key.key -c other -e 1 $FIXED_VALIDITY -o other.folio -q
expect_reject 2 "base 'other.folio'.*channel 'other', not 'news'" \
	"$PACK" pack day2 -k key.key -c news -e 2 -o r1.folio --base other.folio
expect_reject 2 "base 'd1.folio'.*edition 1 is not older than edition 1" \
	"$PACK" pack day2 -k key.key -c news -e 1 -o r2.folio --base d1.folio
expect_reject 2 "base 'ed1'.*edition 1 is not older than edition 1" \
	"$PACK" pack day2 -k key.key -c news -e 1 -o r2.folio --base ed1
expect_reject 3 "base 'missing.folio'" \
	"$PACK" pack day2 -k key.key -c news -e 2 -o r3.folio --base missing.folio
printf 'not a bundle\n' >junk.folio
expect_reject 1 "'junk.folio'" "$PACK" pack day2 -k key.key -c news -e 2 -o r4.folio --base junk.folio
expect_reject 1 "base 'day1'.*not an edition" "$PACK" pack day2 -k key.key -c news -e 2 -o r5.folio --base day1
expect_reject 1 "'d1.folio'" "$PACK" pack day2 -k day.key -c news -e 2 -o r6.folio --base d1.folio
expect_reject 2 "layers" "$PACK" pack day2 -k key.key -c news -e 2 -o - --layers text
# usage errors: the message, then the synopsis
expect_status 2 "$PACK" pack day2 -k key.key -c news -e 2 -o r7 --layers text,text
expect_stderr_match "^folio-pack: layers 'text,text' is not"
expect_status 2 "$PACK" pack day2 -k key.key -c news -e 2 -o r7 --layers pictures
expect_stderr_match "^folio-pack: layers 'pictures' is not"
expect_status 2 "$PACK" pack day2 -k key.key -c news -e 2 -o r8.folio --frame-size 0
expect_stderr_match "^folio-pack: frame size '0' is not a size"
[ -z "$(find . -maxdepth 1 -name 'r[0-9]*')" ] || fail "a refused pack left $(find . -maxdepth 1 -name 'r[0-9]*')"
# all or nothing: one layer's output exists, so neither is written
touch r9.media.folio
expect_reject 2 "'r9.media.folio'.*exists" "$PACK" pack day2 -k key.key -c news -e 2 -o r9 --layers text,media
[ ! -e r9.text.folio ] || fail "r9.text.folio written although r9.media.folio could not be"
[ ! -s r9.media.folio ] || fail "r9.media.folio replaced without --force"
# --force, and one output is a folder: refused before anything is written,
# so the text bundle already there is not replaced and then lost
cp d2.text.folio r11.text.folio
mkdir -p r11.media.folio/x
expect_reject 2 "cannot write 'r11.media.folio': it is a folder" \
	"$PACK" pack day1 -k key.key -c news -e 1 -o r11 --layers text,media --force
cmp -s d2.text.folio r11.text.folio || fail "--force with a folder as one output lost the other output's old file"
rm -rf r11.media.folio r11.text.folio
# the media bundle cannot be written (a file size limit: write fails with
# EFBIG) after the text bundle was: neither appears
cp -R day2 big
head -c 300000 /dev/urandom >big/clip.mp3
expect_status 3 bash -c 'trap "" XFSZ; ulimit -f 150; exec "$@"' - \
	"$PACK" pack big -k key.key -c news -e 2 -o r10 --layers text,media -q
expect_stderr_match "^folio-pack: cannot write 'r10.media.folio'"
[ ! -e r10.text.folio ] && [ ! -e r10.media.folio ] || fail "a layer bundle appeared although another failed"
[ -z "$(find . -maxdepth 1 -name '*.tmp-*')" ] || fail "temporary files left: $(find . -maxdepth 1 -name '*.tmp-*')"
exit 0
