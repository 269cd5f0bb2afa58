# SPDX-License-Identifier: ISC
# The edition in Firefox (FORMAT.md 14.5: search works from file:// in
# Chromium and Firefox; 95-browser.sh does Chromium).  Pack the sample edition
# without its index.html, unpack it, and open DEST/index.html from file:// in
# headless Firefox ESR, driven over WebDriver BiDi
# (tests/browser/check-firefox.py; Debian has no geckodriver): every article
# listed with its exact title and computed direction, every search of the
# shared expectations from index.html?q=... and typed, the JS fold and tokens
# against tests/reader/*-cases.txt, the right-to-left article, no request
# that is not file: or data:, nothing sent to the proxy sink all traffic is
# pointed at, no console error, non-blank screenshots.
#
# Screenshots (edition-firefox.png, search-ar-firefox.png,
# article-ar-firefox.png) are kept beside 95-browser.sh's, in
# $FOLIO_TEST_OUT/browser (default build/test-output/browser).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"

repo=$(cd "$FIXTURES/.." && pwd)
check=$repo/tests/browser/check-firefox.py
firefox=${FOLIO_FIREFOX:-/usr/bin/firefox-esr}
[ -x "$firefox" ] || skip "$firefox is not installed (firefox-esr; tools/install-deps installs it)"
# check-firefox.py needs the system's site packages: no -S, and perhaps not
# the python3 first on PATH (a version manager's has no websocket-client).
py=
for c in "${FOLIO_TEST_PYTHON:-}" /usr/bin/python3; do
	if [ -n "$c" ] && "$c" -c 'import websocket, PIL.Image' 2>/dev/null; then
		py=$c
		break
	fi
done
[ -n "$py" ] || skip "python3-websocket or python3-pil is not installed (tools/install-deps installs them)"
export FOLIO_FIREFOX=$firefox

out=${FOLIO_TEST_OUT:-$repo/build/test-output}/browser
mkdir -p "$out" || fail "cannot make $out"
out=$(cd "$out" && pwd)
rm -f "$out"/*-firefox.png
# Firefox's profile, home and temporary files stay in the test's folder.
mkdir tmp
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout -k 5 120"
browser() {
	# shellcheck disable=SC2086
	TMPDIR=$PWD/tmp $limit "$py" "$check" "$@"
}

# Negative control first: a page that reaches for the network and has a
# script error.  The detectors must see both, or a clean run below proves
# nothing.  Firefox upgrades the http image to https (file: is a secure
# context), so either scheme counts.
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
[ $rc = 0 ] || { sed 's/^/  | /' leak.log >&2; fail "negative control: check-firefox.py --expect-leak exited $rc"; }
for u in 'https\?://example\.com/x\.png' 'https://fonts\.example/a\.css'; do
	grep -q "^seen: network request to $u" leak.log ||
		{ sed 's/^/  | /' leak.log >&2; fail "negative control: network.beforeRequestSent missed $u"; }
done
for h in 'example\.com:443' 'fonts\.example:443'; do
	grep -q "^seen: proxy sink asked for CONNECT $h " leak.log ||
		{ sed 's/^/  | /' leak.log >&2; fail "negative control: the proxy sink missed $h"; }
done
grep -q '^seen: console error.*folioNoSuchFunction' leak.log ||
	{ sed 's/^/  | /' leak.log >&2; fail "negative control: the console detector missed the script error"; }

# The sample edition, packed and unpacked, and what both browsers must see
# in it (browser_edition in lib.sh).
browser_edition

# The side each title and result sits against is measured too: Firefox
# follows the HTML rendering rule li { text-align: match-parent }, so without
# .article and #results-list li { text-align: start } in the edition page's
# style (src/reader.c) right-to-left cards in a left-to-right page would be
# set against the left.
browser dest "$out" expect.json "${CASES[@]}" >check.log 2>&1
rc=$?
cat check.log
echo "screenshots: $out"
[ $rc = 0 ] || fail "check-firefox.py found problems (exit status $rc, see above)"
for p in edition-firefox.png search-ar-firefox.png article-ar-firefox.png; do
	[ -s "$out/$p" ] || fail "no screenshot $out/$p"
done
[ -z "$(ls -A tmp)" ] || fail "check-firefox.py left files in its TMPDIR: $(ls -A tmp)"
exit 0
