# SPDX-License-Identifier: ISC
# The edition in a real browser: pack the sample edition (without its own
# index.html, so that pack generates the edition page), unpack it, and open
# DEST/index.html from file:// in headless Chromium with no usable network
# (tests/browser/check-edition.py): every article listed with its title and
# direction, search from the URL and typed, Arabic folding, the JS fold
# against tests/reader/fold-cases.txt, the right-to-left article, no request
# that is not local, no console error, non-blank screenshots.  Then a
# reader's library holding the edition and the next one: its page links
# every edition folder, newest first, the links open, the newest opens its
# edition page, and its CSP blocks the network.  Last, the text layer alone:
# the edition's text layer alone (no file of layer "media"), whose edition page
# and rendered pages must show each missing image as a box of its shape
# holding its alt text (FORMAT.md 14.3, 14.5).
#
# Screenshots (edition.png, article-ar.png, search-ar.png, library.png,
# text-layer.png, text-layer-edition.png) are kept in
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
rm -f "$out"/edition.png "$out"/article-ar.png "$out"/search-ar.png "$out"/library.png \
	"$out"/text-layer*.png
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

# The sample edition, packed and unpacked, and what both browsers must see
# in it (browser_edition in lib.sh).
browser_edition
# A reader's library holding that edition and the next one, for its page.
ed=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["edition"])' dest/.folio/manifest.json)
expect_status 0 "$PACK" pack src -k key.key -c test-news -t 'Cairo News Digest' -e $((ed + 1)) -o next.folio
expect_status 0 "$UNPACK" trust add test-news key.pub --library lib
for b in news.folio next.folio; do
	expect_status 0 "$UNPACK" install "$b" --library lib
done

# The text layer alone.  The sample's articles with images are publisher
# HTML, shipped as they are (the browser's own alt rendering applies), so a
# right-to-left Markdown article with two images joins it: pack renders its
# page.  Packed as two layers; the text layer alone is unpacked: every file
# of layer "media" is missing, and listed so.
cp -R src textsrc
cat >textsrc/articles/nile-dusk-ar.md <<'EOF'
---
title: النيل عند الغروب
lang: ar
date: 2025-11-28
---

يمر نهر النيل بالقاهرة في ساعة الغروب، والمراكب الشراعية تعود إلى المرسى
بعد يوم طويل من العمل على الماء.

![النيل عند الغروب والمراكب عائدة](../assets/img/nile.jpg "صورة أرشيفية")

وفي الضفة الأخرى تضيء المقاهي أنوارها، ويجلس الصيادون على الحافة
ينتظرون آخر رزق النهار.

![شعار الصحيفة](../assets/img/masthead.png)
EOF
expect_status 0 "$PACK" pack textsrc -k key.key -c test-news -t 'Cairo News Digest' -o text \
	--layers text,media
expect_status 0 "$UNPACK" unpack text.text.folio -p key.pub -C textlayer
python3 - textlayer <<'PY' || fail "the text layer did not install as a readable edition"
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, ".folio", "manifest.json"), encoding="utf-8") as f:
    files = json.load(f)["files"]
media = [x["path"] for x in files if x["layer"] == "media"]
assert media, "the edition has no media files"
with open(os.path.join(root, ".folio", "missing"), encoding="utf-8") as f:
    assert f.read().splitlines() == media, "missing is not the media layer"
for x in files:
    assert os.path.exists(os.path.join(root, x["path"])) == (x["layer"] == "text"), x["path"]
PY

browser dest "$out" expect.json "${CASES[@]}" --library lib --text-layer textlayer >check.log 2>&1
rc=$?
cat check.log
echo "screenshots: $out"
[ $rc = 0 ] || fail "check-edition.py found problems (exit status $rc, see above)"
for p in edition.png article-ar.png search-ar.png library.png text-layer.png text-layer-edition.png; do
	[ -s "$out/$p" ] || fail "no screenshot $out/$p"
done
exit 0
