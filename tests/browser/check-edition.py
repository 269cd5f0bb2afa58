#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Checks an unpacked folio edition in a real, headless Chromium, from file://,
with the network made unusable.

    check-edition.py EDITION OUTDIR EXPECT.json [--fold-cases FILE] [--token-cases FILE]
                     [--library DIR] [--text-layer DIR]
    check-edition.py --expect-leak PAGE

EXPECT.json (written by tests/browser/edition_expect.py):
  {"articles": [{"path", "title", "dir"}, ...],   every article, exactly
   "pinned":   [{"path", "title", "dir"}, ...],   facts fixed by hand (each
                                                  must also be on the page)
   "searches": [{"query", "expect": [path, ...], "first": path?}, ...],
   "rtl_article": {"path", "title", "lang", "csp"?},  a page that must be rtl
                                                  (csp: false when it is not a
                                                  page folio rendered)
   "screenshot_search": query}                    for search-ar.png

Each check prints "ok: ..." or "FAIL: ..."; the exit status is 1 if any
check failed, 2 if the browser could not be run at all.

--library DIR also checks a reader's library (folio-unpack install --library
DIR) in the same browser: its page DIR/index.html links every edition folder
DIR/CHANNEL/EDITION, newest first within a channel, each link opens a page
that exists, the newest edition's link opens its edition page, and the
page's CSP blocks the network; a screenshot goes to OUTDIR/library.png.

--text-layer DIR checks an unpacked edition whose media layer is missing
(every file the manifest puts in layer "media" deleted, as when the text
layer alone is installed): on its edition page and on each page folio
rendered (manifest "source") that has an <img>, every image whose file is
missing has naturalWidth 0, a non-empty alt, width and height attributes,
and a box of their aspect ratio against the start side of its block (right
in rtl); the page's placeholder style shows the alt text in that box
(img::after content) and the screenshot shows it: the box is not the page's
background and holds text.  The only console errors allowed are the missing
files' own.  A screenshot of each page goes to OUTDIR/text-layer.png (the
first rendered page with an image) and OUTDIR/text-layer-edition.png.

--expect-leak PAGE is the negative control: PAGE makes requests to the
network and has a script error; the run passes only if the network and the
console detectors both see them, which proves that they can fail.

Needs python3-selenium (4.x), python3-pil, chromium and chromium-driver;
FOLIO_CHROMIUM and FOLIO_CHROMEDRIVER override /usr/bin/chromium and
/usr/bin/chromedriver.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from html.parser import HTMLParser

from edition_expect import check, counted, fail, file_url, ok, parse_checker_args, read_cases, summary
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("FOLIO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FOLIO_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_LOAD_TIMEOUT = 30
# Seconds to wait for search results; cut short once a wait has timed out so
# that a broken search fails in seconds, not minutes.
wait_s = 5



def start_driver(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-default-apps",
              "--disable-domain-reliability", "--disable-extensions",
              # No host name resolves: a request that slips through fails at
              # once with ERR_NAME_NOT_RESOLVED instead of reaching anything.
              "--host-resolver-rules=MAP * ~NOTFOUND",
              "--user-data-dir=" + profile, "--window-size=1280,900", "--lang=en-US"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    d.set_script_timeout(PAGE_LOAD_TIMEOUT)
    return d


class Logs:
    """Accumulates the performance (network) and browser (console) logs;
    chromedriver hands each entry out once."""

    def __init__(self, d):
        self.d = d
        self.requests = []   # (url, documentURL, blocked reason)
        self.blocked = {}    # requestId -> blockedReason
        self.ids = {}        # requestId -> index in requests
        self.console = []    # (level, message)

    def drain(self):
        for e in self.d.get_log("performance"):
            m = json.loads(e["message"])["message"]
            p = m.get("params", {})
            if m["method"] == "Network.requestWillBeSent":
                self.ids[p["requestId"]] = len(self.requests)
                self.requests.append([p["request"]["url"], p.get("documentURL", ""), ""])
            elif m["method"] == "Network.loadingFailed":
                i = self.ids.get(p.get("requestId"))
                if i is not None:
                    self.requests[i][2] = p.get("blockedReason") or p.get("errorText", "")
        for e in self.d.get_log("browser"):
            self.console.append((e["level"], e["message"]))

    def reset(self):
        self.drain()
        self.requests, self.ids, self.console = [], {}, []


# Only these URL schemes are local.  What Chromium 156 really emits in the
# performance log for a file:// edition: the page itself, its scripts,
# stylesheets and images (file:), and the data: URLs it decodes (data: images,
# and Chromium's own inline data: icons).  Nothing else appears once the
# start-up tab (see below) is out of the way; blob: and about:blank are local
# by construction.  Anything else (http, https, ws, ftp, chrome-extension...)
# is a failure, even when CSP blocked it: the page must not even try.
LOCAL = ("file:", "data:", "blob:", "about:blank")


# The CSP probe (csp_probe) asks for these on purpose, and reports itself
# any that the CSP let through; they are left out of the network report.
PROBE_HOST = "folio-csp-probe.invalid"


def is_probe(url):
    return urllib.parse.urlsplit(url).hostname == PROBE_HOST


def nonlocal_requests(logs):
    return [r for r in logs.requests if not r[0].startswith(LOCAL) and not is_probe(r[0])]


def csp_probe(d, logs, what):
    """Whether the page's Content-Security-Policy really blocks the network:
    an image and a fetch() to an http URL must both be refused by CSP."""
    logs.drain()
    n = len(logs.requests)
    v = d.execute_async_script("""
        var done = arguments[arguments.length - 1], seen = [];
        document.addEventListener('securitypolicyviolation', function (e) {
            seen.push(e.effectiveDirective + ' ' + e.blockedURI); });
        var i = new Image(); i.src = 'http://%s/probe.png';
        try { fetch('https://%s/probe.json').catch(function () {}); } catch (e) { seen.push('fetch threw ' + e); }
        setTimeout(function () { done(seen); }, 300);""" % (PROBE_HOST, PROBE_HOST))
    logs.drain()
    # A fetch() that CSP refuses never reaches the network stack (no log
    # entry); the image shows up as a request that failed with reason "csp".
    went = sorted({r[0] for r in logs.requests[n:] if is_probe(r[0]) and r[2] != "csp"})
    check(not went and any(x.startswith("img-src") for x in v) and any(x.startswith("connect-src") for x in v),
          "the Content-Security-Policy of %s blocks http images and fetch()" % what,
          "the Content-Security-Policy of %s does not block the network (violations: %s; not blocked: %s)"
          % (what, v, went))


def load(d, logs, url):
    d.get(url)
    WebDriverWait(d, PAGE_LOAD_TIMEOUT).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    logs.drain()


def screenshot(d, path, full=True):
    """A PNG of the page, the whole page height when full."""
    try:
        if full:
            w, h = d.execute_script(
                "var e = document.documentElement;"
                "return [Math.max(e.scrollWidth, e.clientWidth), Math.max(e.scrollHeight, e.clientHeight)];")
            h = min(max(h, 1), 16000)
            r = d.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}})
            import base64
            open(path, "wb").write(base64.b64decode(r["data"]))
        else:
            d.save_screenshot(path)
    except WebDriverException as e:
        fail("screenshot %s: %s" % (path, e.msg))
        return
    from PIL import Image
    try:
        im = Image.open(path).convert("RGB")
    except Exception as e:  # noqa: BLE001 - any decoding problem is a failure
        fail("screenshot %s is not a PNG: %s" % (path, e))
        return
    colours = im.getcolors(maxcolors=1 << 20)
    n = len(colours) if colours is not None else 1 << 20
    # A blank page is one or two colours; text with anti-aliasing is dozens.
    check(n > 16, "screenshot %s (%dx%d, %d colours)" % (os.path.basename(path), im.width, im.height, n),
          "screenshot %s looks blank (%d colours)" % (path, n))


class LinkParser(HTMLParser):
    """a.article-link hrefs, without running any script."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "article-link" in (a.get("class") or "").split():
            self.links.append(a.get("href") or "")


# RFC 3986 unreserved characters, "/" and %XX escapes: all an href may hold.
HREF_RE = re.compile(r"^(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})+$")


def edition_path(url, base):
    """The edition path a resolved URL points to, or None outside it."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "file":
        return None
    p = urllib.parse.unquote(u.path)
    return p[len(base):] if p.startswith(base) else None


def result_set(d):
    return d.execute_script("""
        var s = document.getElementById('results');
        if (!s || s.hidden || getComputedStyle(s).display === 'none') return null;
        return Array.prototype.map.call(document.querySelectorAll('#results-list a'),
            function (a) { return [a.href, a.textContent.trim(), a.getAttribute('dir') || '',
                                   a.getAttribute('lang') || '']; });""")


def wait_results(d, want, base):
    """Waits until #results shows exactly the paths in want; returns what it
    last saw (None: hidden)."""
    seen = [None]

    def done(d):
        r = result_set(d)
        seen[0] = r
        return r is not None and sorted(edition_path(x[0], base) or x[0] for x in r) == want
    global wait_s
    try:
        WebDriverWait(d, wait_s, poll_frequency=0.1).until(done)
    except TimeoutException:
        wait_s = 1
    return seen[0]


def check_search(d, logs, index_url, base, s, titles, mode):
    q, want = s["query"], sorted(s["expect"])
    r = wait_results(d, want, base)
    what = "%s search %r" % (mode, q)
    if r is None:
        fail("%s: #results stays hidden (want %s)" % (what, want))
        return
    got = [edition_path(x[0], base) or x[0] for x in r]
    if not check(sorted(got) == want, "%s finds %s" % (what, want or "nothing"),
                 "%s finds %s, want %s" % (what, got, want)):
        return
    for url, text, dr, lang in r:
        p = edition_path(url, base)
        if p in titles and text != titles[p]:
            fail("%s: result %s has text %r, want %r" % (what, p, text, titles[p]))
        if not dr:
            fail("%s: result %s has no dir attribute" % (what, p))
    if s.get("first") and got and got[0] != s["first"]:
        fail("%s: first result is %s, want %s (title matches first)" % (what, got[0], s["first"]))
    status = d.execute_script("var e = document.getElementById('results-status'); return e ? e.textContent : null")
    check(bool(status and status.strip()), "%s: #results-status says %r" % (what, status),
          "%s: #results-status is empty" % what)


def run_edition(d, logs, edition, outdir, exp, fold_cases, token_cases):
    edition = os.path.abspath(edition)
    base = edition + "/"
    index = os.path.join(edition, "index.html")
    index_url = file_url(index)
    arts = exp["articles"]
    titles = {a["path"]: a["title"] for a in arts}
    dirs = {a["path"]: a["dir"] for a in arts}

    # 2b. without JS: the list is in the page source itself.
    try:
        src = open(index, encoding="utf-8").read()
    except OSError as e:
        fail("cannot read %s: %s" % (index, e.strerror))
        return
    lp = LinkParser()
    lp.feed(src)
    raw = [urllib.parse.unquote(h) for h in lp.links]
    check(sorted(raw) == sorted(titles), "index.html lists the %d articles in its HTML (no script needed)" % len(raw),
          "index.html source links %s, want %s" % (sorted(raw), sorted(titles)))
    bad = [h for h in lp.links if not HREF_RE.match(h)]
    check(not bad, "article hrefs are percent-encoded relative paths",
          "article hrefs not percent-encoded per RFC 3986: %s" % bad)

    # 2c. with scripts disabled in the browser: the list shows, results hidden.
    d.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        # The form works without script too (and form-action lets it):
        # it loads index.html?q=..., which is the plain list again.
        load(d, logs, index_url)
        try:
            d.find_element(By.ID, "q").send_keys("nile")
            d.find_element(By.CSS_SELECTOR, "form#search [type=submit]").click()
            WebDriverWait(d, 5).until(lambda d: "q=nile" in d.current_url)
            WebDriverWait(d, 5).until(lambda d: d.execute_script("return document.readyState") == "complete")
            ok("without JavaScript the search form loads %s" % d.current_url.rsplit("/", 1)[-1])
        except (TimeoutException, WebDriverException) as e:
            fail("without JavaScript the search form does not submit to index.html?q=... (%s; at %s)"
                 % (type(e).__name__, d.current_url))
        logs.drain()
        n = len([e for e in d.find_elements(By.CSS_SELECTOR, "a.article-link") if e.is_displayed()])
        check(n == len(arts), "without JavaScript the page shows %d article links" % n,
              "without JavaScript the page shows %d article links, want %d" % (n, len(arts)))
        hidden = d.execute_script("var s = document.getElementById('results'); return !s || s.hidden")
        check(hidden, "without JavaScript #results stays hidden", "without JavaScript #results is shown")
    finally:
        d.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    # 1. the edition page lists every article, with its title and link.
    load(d, logs, index_url)
    links = d.execute_script("""
        return Array.prototype.map.call(document.querySelectorAll('a.article-link'), function (a) {
            var li = a.closest('li.article');
            return [a.href, a.textContent.trim(), li ? getComputedStyle(li).direction : null,
                    li ? li.getAttribute('lang') : null];
        });""")
    got = {}
    for href, text, direction, lang in links:
        p = edition_path(href, base)
        if p is None:
            fail("article link %s points outside the edition" % href)
            continue
        if p in got:
            fail("article %s is listed twice" % p)
        got[p] = (text, direction, lang)
    check(len(links) == len(arts), "index.html has %d a.article-link" % len(links),
          "index.html has %d a.article-link, want %d" % (len(links), len(arts)))
    missing = sorted(set(titles) - set(got))
    extra = sorted(set(got) - set(titles))
    check(not missing and not extra, "every article is listed, nothing else",
          "articles missing from index.html: %s; unexpected: %s" % (missing, extra))
    wrong_t = ["%s: %r, want %r" % (p, got[p][0], titles[p]) for p in sorted(got) if p in titles and got[p][0] != titles[p]]
    check(not wrong_t, "every article link shows its title", "wrong titles: %s" % "; ".join(wrong_t))
    # 2. each article in its own direction.
    wrong_d = ["%s: %s, want %s" % (p, got[p][1], dirs[p]) for p in sorted(got) if p in dirs and got[p][1] != dirs[p]]
    check(not wrong_d, "every li.article has its computed direction (%d rtl)" %
          sum(1 for p in got if got[p][1] == "rtl"), "wrong direction: %s" % "; ".join(wrong_d))
    nolink = [p for p in sorted(got) if not os.path.isfile(os.path.join(edition, p))]
    check(not nolink, "every article link leads to a file", "article links to missing files: %s" % nolink)
    for pin in exp.get("pinned", []):
        p = pin["path"]
        if p not in got:
            fail("pinned article %s is not on the edition page" % p)
            continue
        check(got[p][0] == pin["title"] and got[p][1] == pin["dir"],
              "pinned article %s: title and direction %s" % (p, pin["dir"]),
              "pinned article %s shows %r %s, want %r %s" % (p, got[p][0], got[p][1], pin["title"], pin["dir"]))
    h1 = d.execute_script("var h = document.querySelector('h1#edition-title'); return h ? h.textContent.trim() : null")
    check(bool(h1), "h1#edition-title is %r" % h1, "no h1#edition-title (or it is empty)")
    for sel in ("form#search", "input#q", "section#results", "#results-list"):
        check(d.find_elements(By.CSS_SELECTOR, sel), "%s present" % sel, "%s missing" % sel)
    broken = d.execute_script("""
        return Array.prototype.filter.call(document.images, function (i) {
            return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.src; });""")
    # Thumbnails are loading="lazy": scroll through the page so that each loads.
    if broken:
        d.execute_script("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; });")
        time.sleep(0.5)
        broken = d.execute_script("""
            return Array.prototype.filter.call(document.images, function (i) {
                return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.src; });""")
    nimg = d.execute_script("return document.images.length")
    check(not broken, "all %d images on the edition page load" % nimg, "images that do not load: %s" % broken)
    check(d.execute_script("return !!(window.folioSearch && window.folioSearch.fold)"),
          "window.folioSearch.fold exists", "window.folioSearch.fold is missing")
    screenshot(d, os.path.join(outdir, "edition.png"))
    csp_probe(d, logs, "index.html")

    # 3. search: from the URL, and typed (live).
    for s in exp.get("searches", []):
        load(d, logs, index_url + "?q=" + urllib.parse.quote(s["query"], safe=""))
        check_search(d, logs, index_url, base, s, titles, "URL")
        v = d.execute_script("var q = document.getElementById('q'); return q ? q.value : null")
        check(v == s["query"], "URL search %r fills #q" % s["query"],
              "URL search %r: #q holds %r" % (s["query"], v))
        if s["query"] == exp.get("screenshot_search"):
            screenshot(d, os.path.join(outdir, "search-ar.png"))
    for s in exp.get("searches", []):
        load(d, logs, index_url)
        q = d.find_element(By.ID, "q")
        q.send_keys(s["query"])
        check_search(d, logs, index_url, base, s, titles, "live")
    # submitting the form loads index.html?q=..., then an emptied box hides #results.
    if exp.get("searches"):
        s = exp["searches"][0]
        load(d, logs, index_url)
        q = d.find_element(By.ID, "q")
        q.send_keys(s["query"])
        q.send_keys(Keys.ENTER)
        try:
            WebDriverWait(d, max(wait_s, 2)).until(lambda d: "q=" in d.current_url)
            WebDriverWait(d, max(wait_s, 2)).until(lambda d: d.execute_script("return document.readyState") == "complete")
            check_search(d, logs, index_url, base, s, titles, "submitted")
        except TimeoutException:
            fail("submitting the search form does not load index.html?q=... (now at %s)" % d.current_url)
        q = d.find_element(By.ID, "q")
        q.send_keys(Keys.CONTROL, "a")
        q.send_keys(Keys.BACKSPACE)
        try:
            WebDriverWait(d, max(wait_s, 2)).until(lambda d: result_set(d) is None)
            ok("an emptied search box hides #results")
        except TimeoutException:
            fail("an emptied search box leaves #results shown")
    logs.drain()

    # 5. the JS fold agrees with the C fold on every case.
    if fold_cases or token_cases:
        load(d, logs, index_url)
    if fold_cases:
        case_parity(d, fold_cases, 2, ["fold"])
    if token_cases:
        case_parity(d, token_cases, 3, ["tokens", "indexed"])

    # 4. the right-to-left article page; and every article page opens cleanly.
    ra = exp.get("rtl_article")
    if ra:
        load(d, logs, file_url(os.path.join(edition, ra["path"])))
        r = d.execute_script("""
            var h = document.querySelector('h1');
            return [getComputedStyle(document.documentElement).direction,
                    getComputedStyle(document.body).direction,
                    document.documentElement.getAttribute('lang') || '',
                    h ? h.textContent.trim() : null];""")
        check(r[0] == "rtl" and r[1] == "rtl", "%s is right-to-left" % ra["path"],
              "%s: computed direction html %s, body %s, want rtl" % (ra["path"], r[0], r[1]))
        check(r[2].lower().startswith(ra.get("lang", "ar")), "%s has lang %s" % (ra["path"], r[2]),
              "%s: lang %r, want %s..." % (ra["path"], r[2], ra.get("lang", "ar")))
        check(r[3] == ra["title"], "%s: h1 is its title" % ra["path"],
              "%s: h1 is %r, want %r" % (ra["path"], r[3], ra["title"]))
        screenshot(d, os.path.join(outdir, "article-ar.png"))
        if ra.get("csp", True):  # a rendered page; pages kept as they are have none
            csp_probe(d, logs, ra["path"])
    for a in arts:
        load(d, logs, file_url(os.path.join(edition, a["path"])))
    ok("opened all %d article pages" % len(arts))


def run_library(d, logs, library, outdir):
    """The library page (see the module doc)."""
    library = os.path.abspath(library)
    load(d, logs, file_url(os.path.join(library, "index.html")))
    hrefs = d.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('a[href]'),"
        " function (a) { return a.href; });")
    folders = sorted("%s/%s" % (c, e) for c in os.listdir(library)
                     if not c.startswith(".") and os.path.isdir(os.path.join(library, c))
                     for e in os.listdir(os.path.join(library, c)) if e.isdigit())
    order, missing = {}, []
    for h in hrefs:
        path = urllib.parse.unquote(urllib.parse.urlsplit(h).path)
        if not os.path.exists(path):
            missing.append(h)
        rel = os.path.relpath(path, library).split(os.sep)
        if len(rel) >= 2 and rel[1].isdigit():
            seen = order.setdefault(rel[0], [])
            if int(rel[1]) not in seen:
                seen.append(int(rel[1]))
    linked = sorted("%s/%d" % (c, e) for c, es in order.items() for e in es)
    check(not missing, "every link of the library page opens a file that exists (%d links)" % len(hrefs),
          "links of the library page lead nowhere: %s" % missing)
    check(linked == folders, "the library page links every edition: %s" % " ".join(folders),
          "the library page links %s, the library holds %s" % (linked, folders))
    check(all(es == sorted(es, reverse=True) for es in order.values()),
          "editions are listed newest first in each channel",
          "editions are not newest first: %s" % order)
    screenshot(d, os.path.join(outdir, "library.png"))
    csp_probe(d, logs, "the library page")
    # The newest edition of the first channel listed: its edition page.
    if order:
        channel = next(iter(order))
        newest = os.path.join(library, channel, str(order[channel][0]))
        with open(os.path.join(newest, ".folio", "manifest.json"), encoding="utf-8") as f:
            title = json.load(f)["title"]
        link = d.find_element(By.CSS_SELECTOR, 'a[href^="%s/%d/"]' % (channel, order[channel][0]))
        link.click()
        WebDriverWait(d, PAGE_LOAD_TIMEOUT).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
            and d.current_url.startswith(file_url(newest)))
        logs.drain()
        h1 = d.execute_script("var h = document.querySelector('h1'); return h ? h.textContent : '';")
        check(title in h1, "the library's link opens edition %d's page (%s)" % (order[channel][0], title),
              "the library's link opened %s, whose h1 is %r, not the title %r"
              % (d.current_url, h1, title))


def text_layer_images(d):
    """Every image of the page once each has finished (failed) loading, with
    what the checks need; lazy ones are made eager first."""
    d.execute_script("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; });")
    try:
        WebDriverWait(d, 5, poll_frequency=0.1).until(lambda d: d.execute_script(
            "return Array.prototype.every.call(document.images, function (i) { return i.complete; });"))
    except TimeoutException:
        fail("images on %s never finish loading" % d.current_url)
    return d.execute_script("""
        return Array.prototype.map.call(document.images, function (i) {
            var block = i.closest('p, li, figure, article, body'), r = i.getBoundingClientRect(),
                b = block.getBoundingClientRect(), cs = getComputedStyle(block);
            return {src: i.src, natural: i.naturalWidth, alt: i.getAttribute('alt'),
                    w: i.getAttribute('width'), h: i.getAttribute('height'),
                    box: [r.left, r.top, r.width, r.height],
                    start: cs.direction === 'rtl'
                        ? b.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth) - r.right
                        : r.left - b.left - parseFloat(cs.paddingLeft) - parseFloat(cs.borderLeftWidth),
                    direction: getComputedStyle(i).direction,
                    after: getComputedStyle(i, '::after').content};
        });""")


def placeholder_pixels(d, index):
    """(colours, box colour, text pixels) of image index as drawn: the box
    scrolled into view and cut out of a viewport screenshot."""
    import io
    from PIL import Image
    r = d.execute_script("""
        var i = document.images[arguments[0]]; i.scrollIntoView({block: 'center'});
        var r = i.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom, window.devicePixelRatio];""", index)
    im = Image.open(io.BytesIO(d.get_screenshot_as_png())).convert("RGB")
    k = r[4] or 1
    # 2 CSS px in from each side: the border is the box, not its content.
    crop = im.crop((int(r[0] * k) + 2, int(r[1] * k) + 2, int(r[2] * k) - 2, int(r[3] * k) - 2))
    colours = crop.getcolors(maxcolors=1 << 20) or []
    if not colours:
        return 0, None, 0
    box = max(colours)[1]
    lum = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    text = sum(n for n, c in colours if abs(lum(c) - lum(box)) > 60)
    return len(colours), box, text


def check_text_layer_page(d, logs, path, what, edition, shot):
    load(d, logs, file_url(path))
    bg = d.execute_script("return getComputedStyle(document.body).backgroundColor")
    bg = tuple(int(x) for x in re.findall(r"\d+", bg)[:3])
    imgs = text_layer_images(d)
    base = edition + "/"
    missing = 0
    for n, i in enumerate(imgs):
        p = edition_path(i["src"], base)
        if p is None or os.path.exists(os.path.join(edition, p)):
            continue
        missing += 1
        name = "%s: <img> %s" % (what, p)
        problems = []
        if i["natural"] != 0:
            problems.append("naturalWidth %s, want 0" % i["natural"])
        if not i["alt"]:
            problems.append("no alt text")
        x, y, w, h = i["box"]
        try:
            ratio = int(i["w"]) / int(i["h"])
        except (TypeError, ValueError, ZeroDivisionError):
            ratio = None
            problems.append("width/height attributes %r x %r" % (i["w"], i["h"]))
        if w < 1 or h < 1:
            problems.append("box %.1f x %.1f" % (w, h))
        elif ratio is not None and abs(w / h - ratio) > 0.05 * ratio:
            problems.append("box %.1f x %.1f (ratio %.3f), attributes %s x %s (ratio %.3f)"
                            % (w, h, w / h, i["w"], i["h"], ratio))
        if abs(i["start"]) > 1:
            problems.append("%.1f px from the %s side of its block" %
                            (i["start"], "right" if i["direction"] == "rtl" else "left"))
        if i["after"] != json.dumps(i["alt"] or "", ensure_ascii=False):
            problems.append("::after content is %s, want the alt text (the placeholder style is missing)"
                            % i["after"])
        if not problems:
            ncol, box, text = placeholder_pixels(d, n)
            if box is None or max(abs(a - b) for a, b in zip(box, bg)) < 4:
                problems.append("no box drawn: its colour %s is the page's background %s" % (box, bg))
            elif text < 20:
                problems.append("no text drawn in the box (%d colours, %d text pixels)" % (ncol, text))
        check(not problems, "%s: missing, a %dx%d placeholder (%s) showing its alt %r"
              % (name, round(w), round(h), i["direction"], i["alt"]),
              "%s: %s" % (name, "; ".join(problems)))
    check(missing > 0, "%s shows %d images whose files are missing" % (what, missing),
          "%s has no image whose file is missing: nothing checked" % what)
    d.execute_script("window.scrollTo(0, 0)")
    screenshot(d, shot)
    return missing


def run_text_layer(d, logs, edition, outdir):
    """The text layer alone (see the module doc)."""
    edition = os.path.abspath(edition)
    with open(os.path.join(edition, ".folio", "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    media = [x["path"] for x in m["files"] if x["layer"] == "media"]
    gone = [p for p in media if not os.path.exists(os.path.join(edition, p))]
    check(bool(media) and gone == media, "the text-layer edition lacks all %d media files" % len(media),
          "the text-layer edition should lack every media file: %d of %d are gone" % (len(gone), len(media)))
    check_text_layer_page(d, logs, os.path.join(edition, "index.html"), "index.html", edition,
                          os.path.join(outdir, "text-layer-edition.png"))
    rendered = [a["path"] for a in m.get("articles", []) if "source" in a]
    with_img = [p for p in rendered
                if "<img" in open(os.path.join(edition, p), encoding="utf-8").read()]
    check(with_img, "rendered pages with images: %s" % with_img, "no rendered page has an <img>")
    for k, p in enumerate(with_img):
        check_text_layer_page(d, logs, os.path.join(edition, p), p, edition,
                              os.path.join(outdir, "text-layer.png" if k == 0 else "text-layer-%d.png" % k))
    # A missing file is a console error of its own; any other is not.
    gone_urls = tuple(file_url(os.path.join(edition, p)) for p in gone)
    logs.drain()
    kept = [(lvl, msg) for lvl, msg in logs.console
            if not (lvl == "SEVERE" and "ERR_FILE_NOT_FOUND" in msg and msg.startswith(gone_urls))]
    print("note: %d console errors name the missing files" % (len(logs.console) - len(kept)))
    logs.console = kept


def case_parity(d, path, columns, exprs):
    """Runs folioSearch.fold, or .tokens and .indexed joined by spaces, over
    every case's first field and compares with the following fields.  (No
    eval or new Function: the page's CSP has no 'unsafe-eval'.)"""
    cases = read_cases(path, columns)
    outs = d.execute_script("""
        var fs = window.folioSearch || {}, ins = arguments[0], ks = arguments[1];
        return ins.map(function (s) { return ks.map(function (k) {
            try { var r = fs[k](s); return k === 'fold' ? r : r.join(' '); }
            catch (e) { return '!' + e; } }); });""",
        [c[0] for c in cases], exprs)
    bad = []
    for c, o in zip(cases, outs):
        for k, e in enumerate(exprs):
            if o[k] != c[k + 1]:
                bad.append("%s line %d: folioSearch.%s(%s) = %s, want %s" % (
                    os.path.basename(path), c[-1], e, ascii(c[0]), ascii(o[k]), ascii(c[k + 1])))
    for b in bad[:20]:
        fail(b)
    if len(bad) > 20:
        fail("... and %d more mismatches in %s" % (len(bad) - 20, path))
    if not bad:
        ok("search.js agrees with all %d cases of %s" % (len(cases), os.path.basename(path)))


def report_console(logs, what):
    # The CSP probe's own violation reports are expected.
    severe = [re.sub(r"\?q=\S*", "?q=...", m) for lvl, m in logs.console
              if lvl == "SEVERE" and PROBE_HOST not in m]
    for m, c in counted(severe):
        fail("console error%s: %s" % (" (%d times)" % c if c > 1 else "", m))
    other = [(lvl, m) for lvl, m in logs.console if lvl != "SEVERE" and PROBE_HOST not in m]
    if not severe:
        ok("no console errors on %s (%d other messages)" % (what, len(other)))
    for lvl, m in other:
        print("note: console %s: %s" % (lvl, m))
    return severe


def report_network(logs, what):
    bad = nonlocal_requests(logs)
    first = {}
    for url, doc, why in bad:
        first.setdefault(url, (doc, why))
    for url, c in counted([r[0] for r in bad]):
        doc, why = first[url]
        fail("network request to %s%s (first from %s%s)" % (
            url, " (%d times)" % c if c > 1 else "", doc or "?", "; " + why if why else ""))
    if not bad:
        mine = [r for r in logs.requests if not is_probe(r[0])]
        schemes = sorted({r[0].split(":", 1)[0] for r in mine})
        ok("%d requests on %s, all local (%s)" % (len(mine), what, ", ".join(schemes)))
    return bad


def main(argv):
    def extra(p):
        p.add_argument("--library")
        p.add_argument("--text-layer")
    o, exp = parse_checker_args(argv, __doc__, extra)
    leak, fold_cases, token_cases = o.leak, o.fold_cases, o.token_cases
    edition, outdir = getattr(o, "edition", None), getattr(o, "outdir", None)

    t0 = time.time()
    profile = tempfile.mkdtemp(prefix="folio-chromium.")
    d = None
    try:
        try:
            d = start_driver(profile)
        except WebDriverException as e:
            print("FAIL: cannot start chromium through chromedriver: %s" % (e.msg or e), flush=True)
            return 2
        logs = Logs(d)
        # The start-up tab is Chromium's new-tab page: it tries a remote NTP
        # (fails: no host resolves) and falls back to chrome:// resources.
        # That is the browser, not the edition: let it settle and forget it.
        d.get("about:blank")
        time.sleep(0.3)
        logs.reset()
        if leak is not None:
            load(d, logs, file_url(leak))
            time.sleep(0.5)
            logs.drain()
            bad = nonlocal_requests(logs)
            for url, doc, why in bad:
                print("seen: network request to %s%s" % (url, " (" + why + ")" if why else ""))
            severe = [m for lvl, m in logs.console if lvl == "SEVERE"]
            for m in severe:
                print("seen: console SEVERE %s" % m)
            check(bad, "the network detector sees %d non-local request(s)" % len(bad),
                  "the network detector saw no request from a leaky page")
            check(severe, "the console detector sees %d error(s)" % len(severe),
                  "the console detector saw no error on a page with a script error")
        else:
            run_edition(d, logs, edition, outdir, exp, fold_cases, token_cases)
            if o.library is not None:
                run_library(d, logs, o.library, outdir)
            logs.drain()
            # 6. and 7., over everything the checks above opened.
            report_network(logs, "the edition")
            report_console(logs, "the edition")
            if o.text_layer is not None:
                logs.reset()
                run_text_layer(d, logs, o.text_layer, outdir)
                report_network(logs, "the text-layer edition")
                report_console(logs, "the text-layer edition")
    except WebDriverException as e:
        fail("browser error: %s" % (e.msg or e))
    finally:
        if d is not None:
            try:
                d.quit()
            except Exception:  # noqa: BLE001 - quitting is best effort
                pass
        shutil.rmtree(profile, ignore_errors=True)
    return summary(time.time() - t0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
