# SPDX-License-Identifier: ISC
# The reader's edition without a browser (FORMAT.md section 14): what
# folio-pack adds and keeps, --no-index, a source's own index.html,
# --verbatim, and the source folders it refuses or warns about.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys

pack_ok() { # pack_ok SRC OUT [options]: a fixed, reproducible pack
	local src=$1 out=$2
	shift 2
	SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack "$src" -k key.key -c news \
		$FIXED_VALIDITY -o "$out" "$@"
}

cp -r "$FIXTURES/edition" src
src_digest=$(tree_digest src)

# --- the default: edition page, search, thumbnails, rendered pages ---------
pack_ok src full.folio
assert_same_digest "$src_digest" src "pack must not touch its source"
expect_stderr_match '^folio-pack: [0-9]+ articles, 4 of them pages rendered from Markdown or text$'
expect_stderr_match '^folio-pack: edition page index.html, [1-9][0-9]* thumbnails? and search: [0-9]+ bytes \(search index [0-9]+ bytes, [0-9.]+% of the edition\)$'
expect_stderr_match '^folio-pack: images: 1 cleaned of metadata \(1 had a GPS position\)$'
expect_status 0 "$UNPACK" unpack full.folio -p key.pub -C full
for f in index.html _folio/search.js _folio/search-index.js articles/market-report.html \
	articles/article-ar-cairo-news.html "sections/world/weather and tides.html"; do
	[ -s "full/$f" ] || fail "the edition has no $f"
done
grep -q '<h1 id="edition-title"' full/index.html || fail "index.html has no edition title"
grep -q 'articles/article-ar-cairo-news.html' full/index.html || fail "index.html does not link the Arabic article"
# The rendered Arabic article is a page in its own direction, with its headline.
grep -q '<html lang="ar" dir="rtl">' full/articles/article-ar-cairo-news.html ||
	fail "the rendered Arabic article is not lang=ar dir=rtl"
grep -q 'ساحة حرب مفتوحة.. معركة الذكاء الاصطناعي بين ماسك وألتمان' full/articles/article-ar-cairo-news.html ||
	fail "the rendered Arabic article lacks its headline"
# Nothing in what folio-pack made reaches for the network.
if grep -rlE '(src|href)="(https?:)?//' full/index.html full/_folio full/articles/*.md 2>/dev/null |
	grep -v '^$' >remote.txt; then
	fail "generated files refer to the network: $(cat remote.txt)"
fi
# Two runs give the same bundle (thumbnails and search index included).
pack_ok src again.folio
cmp -s full.folio again.folio || fail "the same source packed twice gives different bundles"

# A manifest that would pass the reader's limit only without the summaries
# goes without them; the edition page keeps them.
full_size=$(wc -c <full/.folio/manifest.json)
pack_ok src small-manifest.folio --max-manifest $((full_size - 100))
expect_stderr_match "^folio-pack: warning: the manifest leaves out the summaries of [0-9]+ articles: with them it would be $full_size bytes, more than the limit of $((full_size - 100))$"
expect_status 0 "$UNPACK" unpack small-manifest.folio -p key.pub -C small-manifest --max-manifest $((full_size - 100))
grep -q '"summary"' small-manifest/.folio/manifest.json && fail "summaries left in an over-limit manifest"
grep -q 'class="summary"' small-manifest/index.html || fail "the edition page lost its summaries"
expect_status 1 "$PACK" pack src -k key.key -c news -o tiny.folio --max-manifest 2000
expect_stderr_match "cannot pack 'src': the manifest \([0-9]+ bytes\) is larger than the limit of 2000"

# --- the work folder in TMPDIR ----------------------------------------------
# A pack leaves none behind; one a killed run left is removed by the next
# run; one a live run holds (locked) is left alone.
need flock
mkdir -p tmp/folio-pack-AbCd12 tmp/folio-pack-Live01
: >tmp/folio-pack-AbCd12/0
: >tmp/folio-pack-Live01/0
flock tmp/folio-pack-Live01 sleep 60 &
holder=$!
for _ in $(seq 100); do flock -n tmp/folio-pack-Live01 true || break; sleep 0.05; done
TMPDIR=$PWD/tmp pack_ok src swept.folio
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
[ ! -e tmp/folio-pack-AbCd12 ] || fail "a killed run's work folder was not removed"
[ -e tmp/folio-pack-Live01/0 ] || fail "a live run's work folder was removed"
left=$(ls tmp | grep -v '^folio-pack-Live01$')
[ -z "$left" ] || fail "pack left its work folder behind: $left"
cmp -s full.folio swept.folio || fail "TMPDIR changed the bundle"

# --- --no-index: articles and pages, but no edition page -------------------
pack_ok src noindex.folio --no-index
expect_stderr_match '^folio-pack: no edition page made: --no-index$'
expect_status 0 "$UNPACK" unpack noindex.folio -p key.pub -C noindex
[ ! -e noindex/index.html ] && [ ! -e noindex/_folio ] || fail "--no-index still made an edition page"
[ -s noindex/articles/market-report.html ] || fail "--no-index stopped rendering Markdown"
python3 - noindex/.folio/manifest.json <<'PY' || fail "--no-index: the manifest lost its articles"
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(m["articles"]) >= 7, m["articles"]
assert all("thumbnail" not in a for a in m["articles"]), "thumbnails without an edition page"
PY

# --- a source with its own index.html keeps it -----------------------------
cp -r src own
printf '<!DOCTYPE html><title>Our own front page</title>\n' >own/index.html
pack_ok own own.folio
expect_stderr_match '^folio-pack: no edition page made: the source has its own index.html$'
expect_status 0 "$UNPACK" unpack own.folio -p key.pub -C own-dest
cmp own/index.html own-dest/index.html || fail "the source's own index.html was not kept as it is"
[ ! -e own-dest/_folio ] || fail "_folio/ made beside the source's own index.html"

# --- --verbatim: exactly the source ----------------------------------------
pack_ok src verbatim.folio --verbatim
expect_status 0 "$UNPACK" unpack verbatim.folio -p key.pub -C verbatim
diff -r -x .folio src verbatim || fail "--verbatim: the edition is not the source"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["articles"] != [])' \
	verbatim/.folio/manifest.json || fail "--verbatim: articles is not []"

# --- refusals: exit 1, one line, nothing written ----------------------------
mkdir -p reserved/_folio && printf 'x\n' >reserved/_folio/a.js && printf 'a\n' >reserved/a.txt
expect_reject 1 "$(err_re folio-pack reserved/_folio/a.js "'_folio' is reserved")" \
	"$PACK" pack reserved -k key.key -c news -o reserved.folio
[ ! -e reserved.folio ] || fail "a refused pack wrote its output"
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack reserved -k key.key -c news -o reserved.folio --verbatim

mkdir latin1 && printf 'caf\351 au lait\n' >latin1/menu.txt
expect_reject 1 "$(err_re folio-pack latin1/menu.txt 'not UTF-8')" \
	"$PACK" pack latin1 -k key.key -c news -o latin1.folio
[ ! -e latin1.folio ] || fail "a refused pack wrote its output"

# A rendered page that would collide by case with a source page.
mkdir clash && printf '# Read me\n' >clash/README.md && printf '<title>r</title>\n' >clash/readme.html
expect_reject 1 "^folio-pack: cannot pack 'clash': 'README.html' and 'readme.html' differ only in case" \
	"$PACK" pack clash -k key.key -c news -o clash.folio

# --- warnings: the pack succeeds and says what a reader will miss -----------
mkdir warn
printf '# A\n\ntext\n' >warn/a.md
printf '<title>A as HTML</title>\n' >warn/a.html
printf 'B\n' >warn/b.md
printf 'B as text\n' >warn/b.txt
cat >warn/remote.html <<'EOF'
<!DOCTYPE html><html lang="en"><head><title>Leaky</title>
<link rel="stylesheet" href="https://fonts.example.com/css?family=Amiri"></head>
<body><p>text</p><img src="http://images.example.com/photo.jpg" alt=""></body></html>
EOF
pack_ok warn warn.folio
expect_stderr_match "^folio-pack: warning: 'warn/a.md' is not rendered: 'a.html' is taken$"
expect_stderr_match "^folio-pack: warning: 'warn/b.txt' is not rendered: 'b.html' is taken$"
expect_stderr_match "^folio-pack: warning: 'warn/remote.html' loads 2 resources from the network \(https://fonts.example.com/css\?family=Amiri\)"
expect_status 0 "$UNPACK" unpack warn.folio -p key.pub -C warn-dest
cmp warn/a.html warn-dest/a.html || fail "a source page was replaced by a rendered one"
grep -q 'B</' warn-dest/b.html || fail "b.md was not the one rendered to b.html"
# -q silences warnings too.
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack warn -k key.key -c news -o warn-q.folio -q
expect_stderr_empty

# --- bad option values ------------------------------------------------------
expect_status 2 "$PACK" pack src -k key.key -c news -o x.folio --max-image-width 8
expect_stderr_match 'max image width'
expect_status 2 "$PACK" pack src -k key.key -c news -o x.folio --max-image-width wide
exit 0
