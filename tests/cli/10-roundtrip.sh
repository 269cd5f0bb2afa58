# SPDX-License-Identifier: ISC
# The main job: keygen, pack the sample edition, verify, list, unpack, and get
# back every file of the folder that was packed, byte for byte, plus what
# folio-pack adds for the reader (rendered pages, the edition page, search,
# thumbnails), and nothing else.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"

src=$FIXTURES/edition
[ -d "$src" ] || fail "missing fixture $src"
arabic_dir='sections/أخبار'
arabic_file="$arabic_dir/مقال تجريبي.html"

expect_status 0 "$PACK" keygen -o publisher --unencrypted
[ -f publisher.key ] && [ -f publisher.pub ] || fail "keygen did not write publisher.key and publisher.pub"

src_before=$(tree_digest "$src")
sde=$(recent_epoch)
export SOURCE_DATE_EPOCH=$sde
expect_status 0 "$PACK" pack "$src" -k publisher.key -c cairo-news -t 'Cairo News Digest' -o news.folio
unset SOURCE_DATE_EPOCH
assert_same_digest "$src_before" "$src" "pack must not touch its source"
[ -s news.folio ] || fail "pack wrote no bundle"
expect_stdout_empty
# A summary line on stderr (not -q).
[ -s "$ERR" ] || fail "pack printed no summary on stderr"

# The bundle is zstd frames (magic 28 b5 2f fd).
[ "$(head -c 4 news.folio | od -An -tx1 | tr -d ' \n')" = 28b52ffd ] ||
	fail "news.folio does not start with a zstd frame"

# -q: nothing at all.
SOURCE_DATE_EPOCH=$(recent_epoch) expect_status 0 "$PACK" pack "$src" -k publisher.key -c cairo-news -o quiet.folio -q
expect_stdout_empty
expect_stderr_empty

expect_status 0 "$UNPACK" verify news.folio -p publisher.pub
expect_status 0 "$UNPACK" verify news.folio -p publisher.pub -q
expect_stdout_empty
expect_stderr_empty
expect_status 0 "$UNPACK" verify news.folio -p publisher.pub -c cairo-news

# list: channel, title, edition, key id, and one line per file.
keyid=$(pub_keyid publisher.pub) || fail "publisher.pub is not a minisign public key"
expect_status 0 "$UNPACK" list news.folio -p publisher.pub
expect_stdout_match 'cairo-news'
expect_stdout_match 'Cairo News Digest'
(cd "$src" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >paths.txt
[ "$(wc -l <paths.txt)" -ge 12 ] || fail "fixture edition looks incomplete"
while IFS= read -r p; do
	grep -qF -- "$p" "$OUT" || { show_last; fail "list does not show '$p'"; }
done <paths.txt
grep -q -- "$keyid" "$OUT" || { show_last; fail "list does not show key id $keyid"; }
cp "$OUT" list.txt

# list --json is the signed manifest as is.
expect_status 0 "$UNPACK" list news.folio -p publisher.pub --json
cp "$OUT" list.json
python3 - list.json paths.txt "$sde" <<'PY' || fail "list --json is not the expected manifest"
import json, sys
m = json.loads(open(sys.argv[1], encoding="utf-8").read())
paths = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8")]
assert m["format"] == "folio-1", m["format"]
assert m["channel"] == "cairo-news"
assert m["title"] == "Cairo News Digest"
rendered = ["articles/article-ar-cairo-news.html", "articles/market-report.html",
            "sections/economy/cotton-exports.html", "sections/world/weather and tides.html"]
reader = ["index.html", "_folio/search-index.js", "_folio/search.js"]
listed = [f["path"] for f in m["files"]]
thumbs = [p for p in listed if p.startswith("_folio/thumbs/")]
assert thumbs and all(p.endswith(".jpg") for p in thumbs), thumbs
assert sorted(listed) == sorted(paths + rendered + reader + thumbs), listed
pages = sorted(p for p in listed if p.endswith(".html") and p != "index.html")
arts = m["articles"]
assert [a["path"] for a in arts] == pages, [a["path"] for a in arts]
by_path = {a["path"]: a for a in arts}
ar = by_path["articles/article-ar-cairo-news.html"]
assert ar["title"] == "ساحة حرب مفتوحة.. معركة الذكاء الاصطناعي بين ماسك وألتمان", ar
assert (ar["lang"], ar["dir"], ar["source"]) == ("ar", "rtl", "articles/article-ar-cairo-news.txt"), ar
assert ar["words"] > 400, ar
nile = by_path["articles/nile-water-talks.html"]
assert nile["title"] == "Nile water talks resume in Addis Ababa", nile
assert (nile["lang"], nile["dir"], nile["image"]) == ("en", "ltr", "assets/img/nile.jpg"), nile
assert nile["thumbnail"] in thumbs, nile
cotton = by_path["sections/economy/cotton-exports.html"]
assert cotton["title"] == "Cotton exports reach a five-year high", cotton
assert (cotton["date"], cotton["author"]) == ("2025-11-28T05:30:00Z", "Mona Adel"), cotton
sde = int(sys.argv[3])
assert m["created"] == sde, (m["created"], sde)
assert m["edition"] == sde, "edition defaults to the creation time"
assert m["expires"] == sde + 30 * 86400, "default validity is 30 days"
assert list(m)[:8] == ["format", "channel", "title", "edition", "created", "expires", "files", "articles"], list(m)
by = {f["path"]: f for f in m["files"]}
assert by["assets/img/masthead.png"]["type"] == "image/png"
assert by["assets/img/masthead.png"]["layer"] == "media"
assert by["sections/world/img/logo.jpg"]["type"] == "image/jpeg"
assert by["index.html"]["layer"] == "text"
assert by["index.html"]["type"].startswith("text/html")
for f in m["files"]:
    assert f["mode"] == "0644", f
    assert len(f["blake2b"]) == 64
PY
edition=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["edition"])' list.json)
grep -q -- "$edition" list.txt || fail "list does not show edition $edition"

# unpack
expect_status 0 "$UNPACK" unpack news.folio -p publisher.pub -C dest
[ -d dest ] || fail "unpack made no dest"
assert_no_staging .
[ -f dest/.folio/manifest.json ] || fail "dest/.folio/manifest.json missing"
[ -f dest/.folio/manifest.json.minisig ] || fail "dest/.folio/manifest.json.minisig missing"
# list --json prints the manifest as is (perhaps with a final newline added).
python3 - dest/.folio/manifest.json list.json <<'PY2' || fail "dest/.folio/manifest.json is not the signed manifest"
import sys
a = open(sys.argv[1], "rb").read()
b = open(sys.argv[2], "rb").read()
sys.exit(0 if a == b or a + b"\n" == b else 1)
PY2
# Every source file byte for byte but the photo, whose GPS position and
# camera serial folio-pack strips, and besides them exactly the files the
# manifest adds.
photo=assets/img/nile.jpg
while IFS= read -r p; do
	[ "$p" = "$photo" ] && continue
	cmp -s "$src/$p" "dest/$p" || fail "'$p' differs from the source"
done <paths.txt
cmp -s "$src/$photo" "dest/$photo" && fail "$photo still carries its metadata"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null && command -v exiftool >/dev/null; then
	"$(dirname "$TESTLIB")/../images/check-image" "$src/$photo" "dest/$photo" ||
		fail "$photo was not cleaned losslessly"
else
	echo "10-roundtrip: python3-pil or exiftool missing: $photo checked only for having changed"
fi
python3 -c 'import json,sys; print("\n".join(f["path"] for f in json.load(open(sys.argv[1]))["files"]))' \
	list.json | LC_ALL=C sort >listed.txt
(cd dest && find . -path ./.folio -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort) >written.txt
diff listed.txt written.txt || fail "unpack wrote other files than the manifest lists"
cmp "$src/articles/article-ar-cairo-news.txt" dest/articles/article-ar-cairo-news.txt ||
	fail "the Arabic article changed"
if [ -f "$SHARED/fixtures/article-ar-cairo-news.txt" ]; then
	cmp "$SHARED/fixtures/article-ar-cairo-news.txt" dest/articles/article-ar-cairo-news.txt ||
		fail "the Arabic article differs from shared/fixtures/article-ar-cairo-news.txt"
fi
[ -f "dest/$arabic_file" ] || fail "Arabic file name not intact: $(ls dest/sections)"
cmp "$src/$arabic_file" "dest/$arabic_file" || fail "Arabic file content changed"
[ -f "dest/sections/world/weather and tides.txt" ] || fail "file name with spaces lost"
cmp dest/sections/world/img/logo.jpg dest/sections/sport/img/logo.jpg ||
	fail "identical files differ after unpack"
cmp "$src/sections/sport/img/logo.jpg" dest/sections/sport/img/logo.jpg || fail "logo.jpg changed"
# Modes come from the manifest: 0644 files; no setuid, nothing writable by others.
bad=$(find dest -type f ! -path 'dest/.folio/*' ! -perm 0644 -printf '%m %p\n')
[ -z "$bad" ] || fail "unexpected file modes: $bad"

# The identical-content rule: the second logo is not stored again.
if command -v zstd >/dev/null 2>&1; then
	stored=$(zstd -dcq news.folio | tar -tf - | grep -c 'img/logo.jpg')
	[ "$stored" = 1 ] || fail "logo.jpg stored $stored times, want once"
	zstd -dcq news.folio | tar -xOf - .folio/manifest.json.minisig | cmp - dest/.folio/manifest.json.minisig ||
		fail "dest/.folio/manifest.json.minisig is not the bundle's signature"
fi

# Reading the bundle from stdin gives the same result.
expect_status 0 "$UNPACK" unpack - -p publisher.pub -C dest2 <news.folio
diff -r dest dest2 || fail "unpack from stdin differs from unpack from file"
exit 0
