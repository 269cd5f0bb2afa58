# SPDX-License-Identifier: ISC
# The edition in a real browser: pack the sample edition (without its own
# index.html, so that pack generates the edition page), unpack it, and open
# DEST/index.html from file:// in headless Chromium with no usable network
# (tests/browser/check-edition.py): every article listed with its title and
# direction, search from the URL and typed, Arabic folding, the JS fold
# against tests/reader/fold-cases.txt, the right-to-left article, no request
# that is not local, no console error, non-blank screenshots.
#
# Screenshots (edition.png, article-ar.png, search-ar.png) are kept in
# $FOLIO_TEST_OUT/browser (default build/test-output/browser).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"

repo=$(cd "$FIXTURES/.." && pwd)
check=$repo/tests/browser/check-edition.py
chromium=${FOLIO_CHROMIUM:-/usr/bin/chromium}
chromedriver=${FOLIO_CHROMEDRIVER:-/usr/bin/chromedriver}
[ -x "$chromium" ] || skip "$chromium is not installed (chromium; tools/install-deps installs it)"
[ -x "$chromedriver" ] || skip "$chromedriver is not installed (chromium-driver; tools/install-deps installs it)"
# check-edition.py needs the system's site packages: no -S, and perhaps not
# the python3 first on PATH (a version manager's has no selenium).
py=
for c in "${FOLIO_TEST_PYTHON:-}" /usr/bin/python3; do
	if [ -n "$c" ] && "$c" -c 'import selenium.webdriver, PIL.Image' 2>/dev/null; then
		py=$c
		break
	fi
done
[ -n "$py" ] || skip "python3-selenium or python3-pil is not installed (tools/install-deps installs them)"
export FOLIO_CHROMIUM=$chromium FOLIO_CHROMEDRIVER=$chromedriver

out=${FOLIO_TEST_OUT:-$repo/build/test-output}/browser
mkdir -p "$out" || fail "cannot make $out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.png
# Chromium's profile and temporary files stay in the test's folder.
mkdir tmp
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout -k 5 300"
browser() {
	# shellcheck disable=SC2086
	TMPDIR=$PWD/tmp $limit "$py" "$check" "$@"
}

# Negative control first: a page that reaches for the network and has a
# script error.  The detectors must see both, or a clean run below proves
# nothing.
mkdir leak
cat >leak/leaky.html <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>leaky</title>
<link rel="stylesheet" href="https://fonts.example/a.css"></head>
<body><p>leaky</p><img src="http://example.com/x.png" alt="">
<script>folioNoSuchFunction();</script></body></html>
EOF
browser --expect-leak "$PWD/leak/leaky.html" >leak.log 2>&1
rc=$?
[ $rc = 0 ] || { sed 's/^/  | /' leak.log >&2; fail "negative control: check-edition.py --expect-leak exited $rc"; }
for u in http://example.com/x.png https://fonts.example/a.css; do
	grep -qF "seen: network request to $u" leak.log ||
		{ sed 's/^/  | /' leak.log >&2; fail "negative control: the network detector missed $u"; }
done
grep -q 'seen: console SEVERE.*folioNoSuchFunction' leak.log ||
	{ sed 's/^/  | /' leak.log >&2; fail "negative control: the console detector missed the script error"; }

# Pack and unpack the sample edition, letting pack generate index.html.
cp -R "$FIXTURES/edition" src
rm -f src/index.html
use_test_keys
expect_status 0 "$PACK" pack src -k key.key -c test-news -t 'Cairo News Digest' -o news.folio
expect_status 0 "$UNPACK" unpack news.folio -p key.pub -C dest
for f in index.html _folio/search.js _folio/search-index.js; do
	[ -f "dest/$f" ] || fail "pack generated no $f (dest has: $(find dest -mindepth 1 -maxdepth 1 -printf '%f '))"
done

# Expectations: every article from the signed manifest, and facts pinned by
# hand that hold whatever the manifest says.
ar=articles/article-ar-cairo-news.html
ar_title='ساحة حرب مفتوحة.. معركة الذكاء الاصطناعي بين ماسك وألتمان'
en=articles/nile-water-talks.html
metro=articles/metro-line-ar.html
python3 - dest/.folio/manifest.json expect.json "$ar" "$ar_title" "$en" "$metro" <<'PY' || fail "the manifest's articles are not the fixture's"
import json, sys
mpath, epath, ar, ar_title, en, metro = sys.argv[1:]
m = json.loads(open(mpath, encoding="utf-8").read())
arts = m.get("articles")
assert isinstance(arts, list) and arts, "no articles array"
# What the fixture holds (FORMAT.md 14.1): four pages in articles/ (two
# rendered from .md and .txt), the Markdown article with front matter, the
# text file with a space, the page in the Arabic-named folder.  Not the
# root index.html, nothing under _folio/.
want = sorted([ar, "articles/market-report.html", metro, en, "sections/economy/cotton-exports.html",
               "sections/world/weather and tides.html", "sections/أخبار/مقال تجريبي.html"])
got = [a["path"] for a in arts]
assert got == sorted(got), ("articles not sorted by path", got)
assert got == want, ("article paths", got, want)
for a in arts:
    assert a.get("title") and a.get("dir") in ("ltr", "rtl"), a
by = {a["path"]: a for a in arts}
assert by[ar]["title"] == ar_title, ("Arabic title", by[ar]["title"])
assert by[ar]["dir"] == "rtl" and by[ar].get("lang", "ar").startswith("ar"), by[ar]
assert by[ar].get("source") == "articles/article-ar-cairo-news.txt", by[ar]
assert by[metro]["dir"] == "rtl" and by[en]["dir"] == "ltr"
one_ar, one_en = [ar], [en]
cotton = "sections/economy/cotton-exports.html"
exp = {
    "articles": [{"path": a["path"], "title": a["title"], "dir": a["dir"]} for a in arts],
    "pinned": [{"path": ar, "title": ar_title, "dir": "rtl"},
               {"path": metro, "title": "افتتاح محطة جديدة لمترو القاهرة", "dir": "rtl"},
               {"path": en, "title": "Nile water talks resume in Addis Ababa", "dir": "ltr"}],
    # "ألتمان" (Altman) is only in the Arabic article (checked by grep in the
    # test); the same without hamza, with tashkeel and with tatweel must find
    # it too.  "Ethiopia" and "reservoir" only in the Nile article.
    # "القاهره" (Cairo, taa marbuta folded): the metro page's title; the
    # Cairo article has the word only in its site-name line and byline,
    # which are page furniture and not part of its text.  "export" starts
    # "exports" in the cotton article's title and "exporters" in the market
    # report's body: both, the title match first.
    "searches": [
        {"query": "ألتمان", "expect": one_ar},
        {"query": "التمان", "expect": one_ar},
        {"query": "أَلْتَمان", "expect": one_ar},
        {"query": "ألتـــمان", "expect": one_ar},
        {"query": "Ethiopia", "expect": one_en},
        {"query": "ETHIOPIA reserv", "expect": one_en},
        {"query": "القاهره", "expect": [metro]},
        {"query": "export", "expect": sorted([cotton, "articles/market-report.html"]), "first": cotton},
        {"query": "ألتمان Ethiopia", "expect": []},
        {"query": "zqxwv", "expect": []},
    ],
    "rtl_article": {"path": ar, "title": ar_title, "lang": "ar", "csp": True},
    "screenshot_search": "ألتمان",
}
json.dump(exp, open(epath, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PY
# The pinned words are where the expectations say, and nowhere else.
for w in ألتمان Ethiopia reservoir; do
	n=$(grep -rliF --include='*.html' --include='*.txt' --include='*.md' -- "$w" src | wc -l)
	[ "$n" = 1 ] || fail "fixture: '$w' is in $n articles, want 1"
done

cases=()
for f in fold token; do
	if [ -f "$repo/tests/reader/$f-cases.txt" ]; then
		cases+=("--$f-cases" "$repo/tests/reader/$f-cases.txt")
	else
		echo "note: $repo/tests/reader/$f-cases.txt missing, JS $f parity not checked"
	fi
done

browser dest "$out" expect.json "${cases[@]}" >check.log 2>&1
rc=$?
cat check.log
echo "screenshots: $out"
[ $rc = 0 ] || fail "check-edition.py found problems (exit status $rc, see above)"
for p in edition.png article-ar.png search-ar.png; do
	[ -s "$out/$p" ] || fail "no screenshot $out/$p"
done
exit 0
