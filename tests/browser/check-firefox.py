#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Checks an unpacked folio edition in a real, headless Firefox, from file://,
with the network made unusable; Firefox is driven over WebDriver BiDi (its
own websocket protocol: no geckodriver, which Debian does not package).

    check-firefox.py EDITION OUTDIR EXPECT.json [--fold-cases FILE] [--token-cases FILE] [--align=warn]
    check-firefox.py --expect-leak PAGE

EXPECT.json: as for check-edition.py (tests/browser/edition_expect.py writes
it).  Checks: every article listed on index.html with its exact title and the
computed direction of its li.article, each title set against its start
side (measured: right for rtl; --align=warn makes a wrong side a "warn:"
line instead of a failure); each search of EXPECT.json from
index.html?q=... (and typed into #q) gives exactly the expected results; the
JS fold (and tokens) against the case files; the right-to-left article page;
every request the pages make is file: or data:; no console error; non-blank
screenshots edition-firefox.png, search-ar-firefox.png and
article-ar-firefox.png in OUTDIR.

Each check prints "ok: ..." or "FAIL: ..."; the exit status is 1 if any check
failed, 2 if Firefox could not be run at all.

--expect-leak PAGE is the negative control: PAGE makes requests to the
network and has a script error; the run passes only if both network
detectors (BiDi network.beforeRequestSent, and the local proxy sink that all
of Firefox's traffic is sent to) and the console detector see them.

Needs firefox-esr, python3-websocket and python3-pil; FOLIO_FIREFOX overrides
/usr/bin/firefox-esr.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from html.parser import HTMLParser

import websocket

from edition_expect import check, counted, fail, file_url, ok, parse_checker_args, read_cases, summary

FIREFOX = os.environ.get("FOLIO_FIREFOX", "/usr/bin/firefox-esr")
START_TIMEOUT = 30      # seconds for Firefox to open its BiDi port
COMMAND_TIMEOUT = 30    # seconds for one BiDi command (a navigation included)
# Milliseconds to wait for search results; cut short once a wait has timed
# out so that a broken search fails in seconds, not minutes.
wait_ms = 5000



class Sink:
    """The proxy every protocol of Firefox is pointed at: a local socket that
    accepts, records the first line it is sent ("GET http://... HTTP/1.1",
    "CONNECT host:443 HTTP/1.1") and closes.  Nothing gets further; and what
    Firefox tries on its own (outside any page, where BiDi's network events do
    not look) is seen here too."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hits = []      # (time, first line)
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        data = b""
        try:
            c.settimeout(2)
            while b"\n" not in data and len(data) < 4096:
                b = c.recv(4096)
                if not b:
                    break
                data += b
        except OSError:
            pass
        finally:
            c.close()
        line = data.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        text = line.decode("utf-8", "replace") if line.isascii() else repr(line[:64])
        with self.lock:
            self.hits.append((time.time(), text or "(connected, sent nothing)"))

    def since(self, t):
        with self.lock:
            return [h for h in self.hits if h[0] >= t]

    def close(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass


def user_js(sink_port):
    """A fresh profile's prefs: no traffic except through the sink, and none of
    Firefox's background services (updates, telemetry, safe browsing, remote
    settings, captive portal and connectivity probes, add-on checks, the new
    tab page's feeds) started at all."""
    p = {
        # Every proxied protocol goes to the sink, localhost included, and
        # never directly when the proxy fails.
        "network.proxy.type": 1,
        "network.proxy.http": "127.0.0.1", "network.proxy.http_port": sink_port,
        "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": sink_port,
        "network.proxy.socks": "", "network.proxy.share_proxy_settings": False,
        "network.proxy.no_proxies_on": "", "network.proxy.allow_hijacking_localhost": True,
        "network.proxy.failover_direct": False,
        "network.dns.disableIPv6": True, "network.dns.disablePrefetch": True,
        "network.dns.disablePrefetchFromHTTPS": True, "network.trr.mode": 5,
        "network.prefetch-next": False, "network.predictor.enabled": False,
        "network.http.speculative-parallel-limit": 0,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
        "browser.safebrowsing.blockedURIs.enabled": False, "browser.safebrowsing.downloads.enabled": False,
        "browser.safebrowsing.downloads.remote.enabled": False, "browser.safebrowsing.update.enabled": False,
        "browser.safebrowsing.provider.google4.updateURL": "", "browser.safebrowsing.provider.mozilla.updateURL": "",
        "app.update.enabled": False, "app.update.auto": False, "app.update.disabledForTesting": True,
        "app.update.checkInstallTime": False, "app.normandy.enabled": False, "app.normandy.api_url": "",
        "app.shield.optoutstudies.enabled": False, "messaging-system.rsexperimentloader.enabled": False,
        "toolkit.telemetry.enabled": False, "toolkit.telemetry.unified": False,
        "toolkit.telemetry.archive.enabled": False, "toolkit.telemetry.server": "",
        "toolkit.telemetry.newProfilePing.enabled": False, "toolkit.telemetry.shutdownPingSender.enabled": False,
        "toolkit.telemetry.firstShutdownPing.enabled": False, "toolkit.telemetry.updatePing.enabled": False,
        "toolkit.telemetry.bhrPing.enabled": False, "toolkit.telemetry.coverage.opt-out": True,
        "datareporting.healthreport.uploadEnabled": False, "datareporting.policy.dataSubmissionEnabled": False,
        "datareporting.usage.uploadEnabled": False,
        "datareporting.policy.dataSubmissionPolicyBypassNotification": True,
        "extensions.update.enabled": False, "extensions.update.autoUpdateDefault": False,
        "extensions.getAddons.cache.enabled": False, "extensions.blocklist.enabled": False,
        "extensions.systemAddon.update.enabled": False, "extensions.systemAddon.update.url": "",
        "extensions.getAddons.showPane": False, "extensions.htmlaboutaddons.recommendations.enabled": False,
        "browser.newtabpage.enabled": False, "browser.startup.page": 0, "browser.startup.homepage": "about:blank",
        "browser.newtabpage.activity-stream.feeds.system.topstories": False,
        "browser.newtabpage.activity-stream.feeds.section.topstories": False,
        "browser.newtabpage.activity-stream.feeds.topsites": False,
        "browser.newtabpage.activity-stream.telemetry": False,
        "browser.newtabpage.activity-stream.feeds.telemetry": False,
        "browser.topsites.contile.enabled": False, "browser.ping-centre.telemetry": False,
        "browser.shell.checkDefaultBrowser": False, "browser.search.update": False,
        "browser.region.update.enabled": False, "browser.region.network.url": "",
        "browser.discovery.enabled": False, "browser.translations.enable": False,
        "browser.urlbar.speculativeConnect.enabled": False,
        "geo.provider.network.url": "", "dom.push.connection.enabled": False, "dom.push.serverURL": "",
        "identity.fxaccounts.enabled": False,
        # Media plugins (OpenH264, Widevine): no download, no update check
        # (the latter goes to update.googleapis.com some 30 s after start).
        "media.gmp-provider.enabled": False, "media.gmp-manager.url": "",
        "media.gmp-manager.chromium-update-url": "", "media.gmp-gmpopenh264.enabled": False,
        "media.gmp-widevinecdm.enabled": False, "media.gmp-widevinecdm.allow-chromium-update": False,
        "security.OCSP.enabled": 0, "security.remote_settings.crlite_filters.enabled": False,
        "security.remote_settings.intermediates.enabled": False,
        # Remote settings (and so Nimbus experiments) skip all activity with
        # this dummy server, which Firefox only honours in a release build
        # with MOZ_DISABLE_NONLOCAL_CONNECTIONS=1 in the environment.
        "services.settings.server": "data:,#remote-settings-dummy/v1",
        # Screenshots at 1 CSS pixel per pixel, in a desktop-sized window.
        "layout.css.devPixelsPerPx": "1.0",
    }
    return "".join("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)) for k, v in p.items())


class BidiError(Exception):
    pass


class Bidi:
    """WebDriver BiDi over one websocket: commands by id, events kept."""

    def __init__(self, url):
        # Firefox refuses a connection that sends an Origin header.
        self.ws = websocket.create_connection(url, timeout=COMMAND_TIMEOUT, suppress_origin=True)
        self.next_id = 0
        self.events = []    # (method, params)

    def cmd(self, method, params=None, timeout=COMMAND_TIMEOUT):
        self.next_id += 1
        i = self.next_id
        self.ws.send(json.dumps({"id": i, "method": method, "params": params or {}}))
        deadline = time.time() + timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                m = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise BidiError("%s: no answer in %d s" % (method, timeout))
            if m.get("id") == i:
                if m.get("type") == "error":
                    raise BidiError("%s: %s: %s" % (method, m.get("error"), m.get("message")))
                return m.get("result", {})
            if m.get("type") == "event":
                self.events.append((m["method"], m.get("params", {})))

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


class Firefox:
    def __init__(self, root, sink):
        self.root = root
        self.profile = os.path.join(root, "profile")
        home = os.path.join(root, "home")
        os.makedirs(self.profile)
        os.makedirs(home)
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            f.write(user_js(sink.port))
        # MOZ_DISABLE_NONLOCAL_CONNECTIONS (Firefox's test harnesses use it):
        # the socket layer refuses any address that is not local, a last
        # line behind the proxy; and it lets services.settings.server work.
        env = dict(os.environ, HOME=home, MOZ_HEADLESS="1", MOZ_CRASHREPORTER_DISABLE="1",
                   MOZ_DISABLE_NONLOCAL_CONNECTIONS="1",
                   XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   TMPDIR=os.environ.get("TMPDIR", root))
        self.log = open(os.path.join(root, "firefox.log"), "wb")
        # Its own process group, so that the content processes go with it.
        self.proc = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--remote-debugging-port=0", "--profile", self.profile,
             "--width=1280", "--height=900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        self.bidi = None

    def connect(self):
        """Waits for the BiDi port (written to the profile for port 0)."""
        info = os.path.join(self.profile, "WebDriverBiDiServer.json")
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BidiError("firefox exited with status %d: %s" % (self.proc.returncode, self.log_tail()))
            try:
                with open(info) as f:
                    j = json.load(f)
                self.bidi = Bidi("ws://%s:%d/session" % (j["ws_host"], j["ws_port"]))
                return self.bidi
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        raise BidiError("firefox opened no WebDriver BiDi port in %d s: %s" % (START_TIMEOUT, self.log_tail()))

    def log_tail(self):
        try:
            self.log.flush()
            with open(self.log.name, "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def quit(self):
        if self.bidi is not None:
            try:
                self.bidi.cmd("browser.close", timeout=5)
            except Exception:  # noqa: BLE001 - it may close the socket first
                pass
            self.bidi.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)   # content processes too
            except ProcessLookupError:
                break
            time.sleep(0.5 if sig == signal.SIGTERM else 0)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


class Page:
    """One browsing context of a BiDi session, with what it asked for."""

    def __init__(self, bidi):
        self.b = bidi
        bidi.cmd("session.new", {"capabilities": {}})
        bidi.cmd("session.subscribe", {"events": [
            "network.beforeRequestSent", "network.fetchError", "log.entryAdded"]})
        self.ctx = bidi.cmd("browsingContext.getTree", {"maxDepth": 0})["contexts"][0]["context"]
        self.requests = []      # [url, page it came from, error]
        self.ids = {}           # BiDi request id -> index in requests
        self.console = []       # (level, type, text, page url)
        self.resources = []     # (url, page): what the pages' elements load
        self.current = "about:blank"
        self.seen = 0

    def drain(self):
        for method, p in self.b.events[self.seen:]:
            if method == "network.beforeRequestSent":
                r = p.get("request", {})
                self.ids[r.get("request")] = len(self.requests)
                self.requests.append([r.get("url", ""), self.url_of(p.get("context")), ""])
            elif method == "network.fetchError":
                k = self.ids.get(p.get("request", {}).get("request"))
                if k is not None:
                    self.requests[k][2] = p.get("errorText", "error")
            elif method == "log.entryAdded":
                self.console.append((p.get("level"), p.get("type"), p.get("text", ""),
                                     self.url_of(p.get("source", {}).get("context"))))
        self.seen = len(self.b.events)

    def url_of(self, ctx):
        return self.current if ctx == self.ctx else (ctx or "?")

    def reset(self):
        self.drain()
        self.requests, self.ids, self.console, self.resources = [], {}, [], []

    def load(self, url):
        self.current = url
        self.b.cmd("browsingContext.navigate", {"context": self.ctx, "url": url, "wait": "complete"})
        self.drain()
        # Firefox's BiDi network events leave file: loads out (they report
        # http(s) and data: channels only), and Resource Timing has no
        # entries for file: either: so also list what the page's elements
        # load, resolved, to check their schemes.
        got = self.js("""
            var out = [location.href];
            document.querySelectorAll('[src], link[href], [srcset], [poster], object[data]').forEach(function (e) {
                ['src', 'href', 'poster', 'data'].forEach(function (k) {
                    if (e.hasAttribute(k) && typeof e[k] === 'string' && e[k]) out.push(e[k]); });
                if (e.srcset) e.srcset.split(',').forEach(function (c) {
                    c = c.trim().split(/\\s+/)[0]; if (c) out.push(new URL(c, document.baseURI).href); });
            });
            return out;""")
        self.resources += [(u, url) for u in got]

    def js(self, body, *args, timeout=COMMAND_TIMEOUT):
        """Runs BODY as the body of an async function in the page, with ARGS
        (JSON values) as its arguments; returns its value through JSON.
        (script.evaluate is not subject to the page's CSP.)"""
        expr = ("(async function () {\n%s\n}).apply(null, %s).then(function (v) {"
                " return JSON.stringify(v === undefined ? null : v); })" % (body, json.dumps(list(args))))
        r = self.b.cmd("script.evaluate", {"expression": expr, "target": {"context": self.ctx},
                                           "awaitPromise": True, "resultOwnership": "none"}, timeout=timeout)
        if r.get("type") == "exception":
            raise BidiError("script: %s" % r.get("exceptionDetails", {}).get("text"))
        return json.loads(r["result"]["value"])

    def type_text(self, text):
        """Types TEXT into the focused element, a key per code point."""
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.b.cmd("input.performActions", {"context": self.ctx, "actions": [
            {"type": "key", "id": "keyboard", "actions": acts}]})
        self.b.cmd("input.releaseActions", {"context": self.ctx})

    def screenshot(self, path):
        """A PNG of the whole document; fails unless it has some content."""
        try:
            r = self.b.cmd("browsingContext.captureScreenshot", {"context": self.ctx, "origin": "document"})
            with open(path, "wb") as f:
                f.write(base64.b64decode(r["data"]))
        except BidiError as e:
            fail("screenshot %s: %s" % (path, e))
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


# The URL schemes a page of the edition may load: file: and data:.  What
# Firefox 153 ESR really reports in network.beforeRequestSent for the
# file:// edition: one data: URL (a font inlined in market-report.html's
# style) and nothing else, because Firefox's BiDi network events cover HTTP
# and data: channels only: file: loads (the pages, _folio/search.js, images)
# are never reported, nor are Firefox's own about:, chrome:, resource: and
# moz-extension: loads, which are not a page's.  So nothing of those needs
# allowing; http, https, ws... anywhere is a failure, even when the load then
# failed (it went to the proxy sink): the page must not even try.  The
# elements' URLs (Page.load) cover the file: side.
LOCAL = ("file:", "data:")

# The CSP probe (csp_probe) asks for these on purpose; left out of the
# network and console reports.
PROBE_HOST = "folio-csp-probe.invalid"


def is_probe(url):
    return PROBE_HOST in url


def nonlocal_requests(page):
    return [r for r in page.requests if not r[0].startswith(LOCAL) and not is_probe(r[0])]


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "article-link" in (a.get("class") or "").split():
            self.links.append(a.get("href") or "")


# The edition path of a resolved URL, in the page ("" outside the edition).
JS_PATH = """
    function folioPath(href, base) {
        var u = new URL(href);
        if (u.protocol !== 'file:') return '';
        var p = decodeURIComponent(u.pathname);
        return p.indexOf(base) === 0 ? p.slice(base.length) : '';
    }
"""

# The side of its block a line of text is set against: "left", "right" or
# "" (centred or filling the line), measured, not computed from CSS.
JS_SIDE = """
    function folioSide(text, block) {
        var r = document.createRange();
        r.selectNodeContents(text);
        var t = r.getBoundingClientRect(), b = block.getBoundingClientRect();
        var l = t.left - b.left, g = b.right - t.right;
        return Math.abs(l - g) < 4 ? '' : l < g ? 'left' : 'right';
    }
"""

JS_RESULTS = JS_PATH + JS_SIDE + """
    var base = arguments[0], want = arguments[1], ms = arguments[2], t0 = Date.now();
    function seen() {
        var s = document.getElementById('results');
        if (!s || s.hidden || getComputedStyle(s).display === 'none') return null;
        return Array.prototype.map.call(document.querySelectorAll('#results-list a'), function (a) {
            var li = a.closest('li');
            return [folioPath(a.href, base), a.textContent.trim(), a.getAttribute('dir') || '',
                    getComputedStyle(a).direction, folioSide(a, a)];
        });
    }
    for (;;) {
        var r = seen();
        if (r !== null && JSON.stringify(r.map(function (x) { return x[0]; }).sort()) === JSON.stringify(want))
            return {shown: true, ok: true, results: r, ms: Date.now() - t0};
        if (Date.now() - t0 > ms)
            return {shown: r !== null, ok: false, results: r, ms: Date.now() - t0};
        await new Promise(function (k) { setTimeout(k, 50); });
    }
"""


START = {"ltr": "left", "rtl": "right"}
align_mode = "fail"


def misaligned(msg):
    """Text set against its end side, not its start: a FAIL, or with
    --align=warn a "warn:" line (what Firefox does to li, text-align:
    match-parent from the HTML rendering rules, which Chromium does not)."""
    if align_mode == "warn":
        print("warn: " + msg, flush=True)
    else:
        fail(msg)


def check_search(page, base, s, titles, mode):
    global wait_ms
    q, want = s["query"], sorted(s["expect"])
    r = page.js(JS_RESULTS, base, want, wait_ms)
    what = "%s search %r" % (mode, q)
    if not r["ok"]:
        wait_ms = 1000
    if not r["shown"]:
        fail("%s: #results stays hidden after %d ms (want %s)" % (what, r["ms"], want))
        return
    got = [x[0] for x in r["results"]]
    if not check(r["ok"], "%s finds %s" % (what, want or "nothing"),
                 "%s finds %s, want %s" % (what, got, want)):
        return
    for p, text, dr, cdir, side in r["results"]:
        if p in titles and text != titles[p]:
            fail("%s: result %s has text %r, want %r" % (what, p, text, titles[p]))
        if not dr:
            fail("%s: result %s has no dir attribute" % (what, p))
        if side and side != START[cdir]:
            misaligned("%s: result %s is %s but set against the %s" % (what, p, cdir, side))
    if s.get("first") and got and got[0] != s["first"]:
        fail("%s: first result is %s, want %s (title matches first)" % (what, got[0], s["first"]))
    st = page.js("""var e = document.getElementById('results-status'), q = document.getElementById('q');
                    return [e ? e.textContent.trim() : null, q ? q.value : null];""")
    check(bool(st[0]), "%s: #results-status says %r" % (what, st[0]), "%s: #results-status is empty" % what)
    check(st[1] == q, "%s: #q holds the query" % what, "%s: #q holds %r" % (what, st[1]))


def csp_probe(page, what):
    """The page's Content-Security-Policy must refuse an http image and an
    https fetch() (securitypolicyviolation for img-src and connect-src)."""
    n = len(page.requests)
    v = page.js("""
        var seen = [];
        document.addEventListener('securitypolicyviolation', function (e) {
            seen.push(e.effectiveDirective + ' ' + e.blockedURI); });
        var i = new Image(); i.src = 'http://%s/probe.png';
        try { fetch('https://%s/probe.json').catch(function () {}); } catch (e) { seen.push('fetch threw ' + e); }
        await new Promise(function (k) { setTimeout(k, 300); });
        return seen;""" % (PROBE_HOST, PROBE_HOST))
    page.drain()
    went = sorted({r[0] for r in page.requests[n:] if is_probe(r[0])})
    check(not went and any(x.startswith("img-src") for x in v) and any(x.startswith("connect-src") for x in v),
          "the Content-Security-Policy of %s blocks http images and fetch()" % what,
          "the Content-Security-Policy of %s does not block the network (violations: %s; requested: %s)"
          % (what, v, went))


def case_parity(page, path, columns, exprs):
    cases = read_cases(path, columns)
    outs = page.js("""
        var fs = window.folioSearch || {}, ins = arguments[0], ks = arguments[1];
        return ins.map(function (s) { return ks.map(function (k) {
            try { var r = fs[k](s); return k === 'fold' ? r : r.join(' '); }
            catch (e) { return '!' + e; } }); });""", [c[0] for c in cases], exprs)
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


def run_edition(page, edition, outdir, exp, fold_cases, token_cases):
    edition = os.path.abspath(edition)
    base = edition + "/"
    index_url = file_url(os.path.join(edition, "index.html"))
    arts = exp["articles"]
    titles = {a["path"]: a["title"] for a in arts}
    dirs = {a["path"]: a["dir"] for a in arts}

    # (a) the edition page lists every article, with its title and direction.
    page.load(index_url)
    links = page.js(JS_PATH + JS_SIDE + """
        var base = arguments[0];
        return Array.prototype.map.call(document.querySelectorAll('a.article-link'), function (a) {
            var li = a.closest('li.article');
            return [folioPath(a.href, base), a.textContent.trim(), li ? getComputedStyle(li).direction : null,
                    folioSide(a, a.parentElement)];
        });""", base)
    got = {}
    for p, text, direction, side in links:
        if side and direction in START and side != START[direction]:
            misaligned("index.html: the title of %s is %s but set against the %s" % (p, direction, side))
        if not p:
            fail("an article link points outside the edition")
            continue
        if p in got:
            fail("article %s is listed twice" % p)
        got[p] = (text, direction)
    check(len(links) == len(arts), "index.html has %d a.article-link" % len(links),
          "index.html has %d a.article-link, want %d" % (len(links), len(arts)))
    missing = sorted(set(titles) - set(got))
    extra = sorted(set(got) - set(titles))
    check(not missing and not extra, "every article is listed, nothing else",
          "articles missing from index.html: %s; unexpected: %s" % (missing, extra))
    wrong_t = ["%s: %r, want %r" % (p, got[p][0], titles[p]) for p in sorted(got) if p in titles and got[p][0] != titles[p]]
    check(not wrong_t, "every article link shows its exact title", "wrong titles: %s" % "; ".join(wrong_t))
    wrong_d = ["%s: %s, want %s" % (p, got[p][1], dirs[p]) for p in sorted(got) if p in dirs and got[p][1] != dirs[p]]
    check(not wrong_d, "every li.article has its computed direction (%d rtl)" %
          sum(1 for p in got if got[p][1] == "rtl"), "wrong direction: %s" % "; ".join(wrong_d))
    for pin in exp.get("pinned", []):
        p = pin["path"]
        if p not in got:
            fail("pinned article %s is not on the edition page" % p)
            continue
        check(got[p] == (pin["title"], pin["dir"]), "pinned article %s: title and direction %s" % (p, pin["dir"]),
              "pinned article %s shows %r %s, want %r %s" % (p, got[p][0], got[p][1], pin["title"], pin["dir"]))
    present = page.js("""return ['form#search', 'input#q', 'section#results', '#results-list'].filter(
        function (s) { return !document.querySelector(s); });""")
    check(not present, "form#search, input#q, section#results, #results-list present", "missing: %s" % present)
    hidden = page.js("var s = document.getElementById('results'); return !!s && (s.hidden || getComputedStyle(s).display === 'none')")
    check(hidden, "#results is hidden with no query", "#results is shown with no query")
    page.js("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; });")
    broken = page.js("""
        await new Promise(function (k) { setTimeout(k, 200); });
        return Array.prototype.filter.call(document.images, function (i) {
            return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.src; });""")
    check(not broken, "every image on the edition page loads", "images that do not load: %s" % broken)
    fs = page.js("return [typeof (window.folioSearch || {}).fold, typeof (window.folioSearch || {}).tokens]")
    check(fs == ["function", "function"], "window.folioSearch.fold and .tokens exist",
          "window.folioSearch.fold/.tokens: %s" % fs)
    page.screenshot(os.path.join(outdir, "edition-firefox.png"))
    csp_probe(page, "index.html")

    # (b) search from the URL, then typed into #q.
    for s in exp.get("searches", []):
        page.load(index_url + "?q=" + urllib.parse.quote(s["query"], safe=""))
        check_search(page, base, s, titles, "URL")
        if s["query"] == exp.get("screenshot_search"):
            page.screenshot(os.path.join(outdir, "search-ar-firefox.png"))
    for s in exp.get("searches", []):
        page.load(index_url)
        page.js("document.getElementById('q').focus()")
        page.type_text(s["query"])
        check_search(page, base, s, titles, "typed")

    # (c) the JS fold (and tokens) agree with the C side's cases.
    if fold_cases or token_cases:
        page.load(index_url)
    if fold_cases:
        case_parity(page, fold_cases, 2, ["fold"])
    if token_cases:
        case_parity(page, token_cases, 3, ["tokens", "indexed"])

    # (d) the right-to-left article; then every article page opens cleanly.
    ra = exp.get("rtl_article")
    if ra:
        page.load(file_url(os.path.join(edition, ra["path"])))
        r = page.js("""var h = document.querySelector('h1');
            return [getComputedStyle(document.documentElement).direction, getComputedStyle(document.body).direction,
                    document.documentElement.getAttribute('lang') || '', h ? h.textContent.trim() : null,
                    h ? getComputedStyle(h).direction : null];""")
        check(r[0] == "rtl" and r[1] == "rtl" and r[4] == "rtl", "%s is right-to-left (html, body, h1)" % ra["path"],
              "%s: computed direction html %s, body %s, h1 %s, want rtl" % (ra["path"], r[0], r[1], r[4]))
        check(r[2].lower().startswith(ra.get("lang", "ar")), "%s has lang %s" % (ra["path"], r[2]),
              "%s: lang %r, want %s..." % (ra["path"], r[2], ra.get("lang", "ar")))
        check(r[3] == ra["title"], "%s: h1 is its title" % ra["path"],
              "%s: h1 is %r, want %r" % (ra["path"], r[3], ra["title"]))
        page.screenshot(os.path.join(outdir, "article-ar-firefox.png"))
        if ra.get("csp", True):
            csp_probe(page, ra["path"])
    for a in arts:
        page.load(file_url(os.path.join(edition, a["path"])))
    ok("opened all %d article pages" % len(arts))


def report_network(page, sink, t0, what):
    """(e) Every request of the pages is local, and nothing reached the sink."""
    bad = nonlocal_requests(page)
    for (url, doc, why), c in counted([tuple(r) for r in bad]):
        fail("network request to %s%s (from %s%s)" % (url, " (%d times)" % c if c > 1 else "", doc,
                                                      "; " + why if why else ""))
    mine = [r for r in page.requests if not is_probe(r[0])]
    elems = [r for r in page.resources if not is_probe(r[0])]
    far = [r for r in elems if not r[0].startswith(LOCAL)]
    for (url, doc), c in counted(far):
        fail("an element of %s loads %s%s" % (doc, url, " (%d pages)" % c if c > 1 else ""))
    if not far:
        ok("the %d URLs the pages' elements load (%d distinct) are all %s" % (
            len(elems), len({r[0].split("?")[0] for r in elems}),
            ", ".join(sorted({r[0].split(":", 1)[0] + ":" for r in elems}))))
    if not bad:
        schemes = sorted({r[0].split(":", 1)[0] for r in mine})
        ok("network.beforeRequestSent: %d requests on %s, all local (%s)" % (
            len(mine), what, ", ".join(schemes) or "none"))
        for (url, doc, why), c in counted([tuple(r) for r in mine]):
            print("note: request %s%s from %s" % (url[:100], " (%d times)" % c if c > 1 else "", doc))
    hits = [h for _, h in sink.since(t0) if PROBE_HOST not in h]
    for h, c in counted(hits):
        fail("the proxy sink was asked for %s%s" % (h, " (%d times)" % c if c > 1 else ""))
    if not hits:
        ok("no connection reached the proxy sink during the checks")
    return bad + far, hits


def report_console(page, what):
    """(f) no console error from the edition's pages."""
    errs = [(t, txt, re.sub(r"\?q=.*", "?q=...", u)) for lvl, t, txt, u in page.console
            if lvl == "error" and PROBE_HOST not in txt]
    for (t, txt, u), c in counted(errs):
        fail("console error%s (%s, %s): %s" % (" (%d times)" % c if c > 1 else "", t, u, txt))
    other = [e for e in page.console if e[0] != "error" and PROBE_HOST not in e[2]]
    if not errs:
        ok("no console errors on %s (%d other messages)" % (what, len(other)))
    for lvl, t, txt, u in other:
        print("note: console %s (%s): %s" % (lvl, t, txt))
    return errs


def main(argv):
    global align_mode
    o, exp = parse_checker_args(
        argv, __doc__,
        lambda p: p.add_argument("--align", choices=("warn", "fail"), default="fail"))
    align_mode = o.align
    leak, fold_cases, token_cases = o.leak, o.fold_cases, o.token_cases
    edition, outdir = getattr(o, "edition", None), getattr(o, "outdir", None)

    # Firefox runs in its own process group, out of reach of a timeout that
    # kills ours: on SIGTERM, unwind through the finally below that ends it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.time()
    root = tempfile.mkdtemp(prefix="folio-firefox.")
    sink = Sink()
    ff = None
    try:
        try:
            ff = Firefox(root, sink)
            page = Page(ff.connect())
        except (BidiError, OSError, websocket.WebSocketException) as e:
            print("FAIL: cannot start %s with WebDriver BiDi: %s" % (FIREFOX, e), flush=True)
            return 2
        # Firefox's start-up (before any edition page) is not the edition's:
        # what it sent the sink then is listed, and does not fail the run.
        time.sleep(0.2)
        page.reset()
        for _, h in sink.since(0):
            print("note: at start-up Firefox asked the proxy sink for %s" % h)
        t1 = time.time()
        if leak is not None:
            page.load(file_url(leak))
            time.sleep(0.5)
            page.drain()
            for url, doc, why in nonlocal_requests(page):
                print("seen: network request to %s%s" % (url, " (" + why + ")" if why else ""))
            for h, c in counted([h for _, h in sink.since(t1)]):
                print("seen: proxy sink asked for %s%s" % (h, " (%d times)" % c if c > 1 else ""))
            far = [r[0] for r in page.resources if not r[0].startswith(LOCAL)]
            for u in far:
                print("seen: element loads %s" % u)
            errs = [e for e in page.console if e[0] == "error"]
            for e in errs:
                print("seen: console error (%s) %s" % (e[1], e[2]))
            check(nonlocal_requests(page), "network.beforeRequestSent sees the non-local requests",
                  "network.beforeRequestSent saw no request from a leaky page")
            check(sink.since(t1), "the proxy sink sees the non-local requests",
                  "the proxy sink saw nothing from a leaky page")
            check(far, "the element URL list sees the non-local URLs",
                  "the element URL list saw no non-local URL on a leaky page")
            check(errs, "the console detector sees %d error(s)" % len(errs),
                  "the console detector saw no error on a page with a script error")
        else:
            run_edition(page, edition, outdir, exp, fold_cases, token_cases)
            time.sleep(0.2)
            page.drain()
            report_network(page, sink, t1, "the edition")
            report_console(page, "the edition")
    except (BidiError, websocket.WebSocketException, OSError) as e:
        fail("browser error: %s" % e)
    finally:
        if ff is not None:
            ff.quit()
        sink.close()
        shutil.rmtree(root, ignore_errors=True)
    return summary(time.time() - t0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
