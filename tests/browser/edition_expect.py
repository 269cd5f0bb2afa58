# SPDX-License-Identifier: ISC
"""What the browser tests expect of the sample edition, and the case files
they share.  Standard library only (tests/cli runs it with python3 -S).

    edition_expect.py MANIFEST.json OUT.json [--source SRC]

writes the expectations that tests/browser/check-edition.py (Chromium,
tests/cli/95-browser.sh) and tests/browser/check-firefox.py (Firefox,
tests/cli/96-firefox.sh) check: every article of the signed manifest, and
facts about fixtures/edition pinned by hand that hold whatever the manifest
says.  With --source, also checks that the pinned words are in exactly one
file of SRC (the packed source folder).  Exit status 1, with the reason on
standard error, when the manifest's articles are not the fixture's.

The format of OUT.json:
  {"articles": [{"path", "title", "dir"}, ...],   every article, exactly
   "pinned":   [{"path", "title", "dir"}, ...],   facts fixed by hand (each
                                                  must also be on the page)
   "searches": [{"query", "expect": [path, ...], "first": path?}, ...],
   "rtl_article": {"path", "title", "lang", "csp"?},  a page that must be rtl
                                                  (csp: false when it is not a
                                                  page folio rendered)
   "screenshot_search": query}                    for the search screenshot
"""

import json
import os
import re
import sys
import urllib.parse

# ---- what both checkers print: "ok: ..." / "FAIL: ..." lines, counted ----

failures = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg, flush=True)


def check(cond, good, bad):
    if cond:
        ok(good)
    else:
        fail(bad)
    return cond


def summary(seconds):
    """The last line of a checker; its exit status."""
    print("%s in %.1f s" % ("%d check(s) failed" % failures if failures else "all checks passed",
                            seconds), flush=True)
    return 1 if failures else 0


def parse_checker_args(argv, doc, extra=None):
    """The arguments both checkers take: EDITION OUTDIR EXPECT.json
    [--fold-cases F] [--token-cases F], or --expect-leak PAGE alone.
    extra(parser) may add options.  Returns (options, expectations or None);
    exits 2 on a usage error and 1 when EDITION has no index.html."""
    import argparse
    parser = argparse.ArgumentParser(usage=doc, add_help=False)
    parser.add_argument("--expect-leak", dest="leak")
    parser.add_argument("--fold-cases")
    parser.add_argument("--token-cases")
    parser.add_argument("args", nargs="*")
    if extra is not None:
        extra(parser)
    try:
        o = parser.parse_args(argv)
    except SystemExit:
        sys.exit(2)
    if (o.leak is None and len(o.args) != 3) or (o.leak is not None and o.args):
        sys.stderr.write(doc)
        sys.exit(2)
    if o.leak is not None:
        return o, None
    o.edition, o.outdir, expfile = o.args
    if not os.path.isfile(os.path.join(o.edition, "index.html")):
        fail("%s has no index.html" % o.edition)
        sys.exit(1)
    with open(expfile, encoding="utf-8") as f:
        exp = json.load(f)
    os.makedirs(o.outdir, exist_ok=True)
    return o, exp


def file_url(path):
    return "file://" + urllib.parse.quote(os.path.abspath(path), safe="/")


def counted(items):
    """Distinct items in first-seen order, with how many times each came."""
    n = {}
    for i in items:
        n[i] = n.get(i, 0) + 1
    return list(n.items())


# ---- the sample edition ----------------------------------------------------

AR = "articles/article-ar-cairo-news.html"
AR_TITLE = "ساحة حرب مفتوحة.. معركة الذكاء الاصطناعي بين ماسك وألتمان"
EN = "articles/nile-water-talks.html"
METRO = "articles/metro-line-ar.html"
COTTON = "sections/economy/cotton-exports.html"
MARKET = "articles/market-report.html"
# Words that must be in exactly one source file (the searches rely on it).
UNIQUE_WORDS = ("ألتمان", "Ethiopia", "reservoir")


def expectations(manifest):
    """The expectations for the sample edition, from its parsed manifest;
    AssertionError when the manifest's articles are not the fixture's."""
    arts = manifest.get("articles")
    assert isinstance(arts, list) and arts, "no articles array"
    # What the fixture holds (FORMAT.md 14.1): four pages in articles/ (two
    # rendered from .md and .txt), the Markdown article with front matter, the
    # text file with a space, the page in the Arabic-named folder.  Not the
    # root index.html, nothing under _folio/.
    want = sorted([AR, MARKET, METRO, EN, COTTON,
                   "sections/world/weather and tides.html", "sections/أخبار/مقال تجريبي.html"])
    got = [a["path"] for a in arts]
    assert got == sorted(got), ("articles not sorted by path", got)
    assert got == want, ("article paths", got, want)
    for a in arts:
        assert a.get("title") and a.get("dir") in ("ltr", "rtl"), a
    by = {a["path"]: a for a in arts}
    assert by[AR]["title"] == AR_TITLE, ("Arabic title", by[AR]["title"])
    assert by[AR]["dir"] == "rtl" and by[AR].get("lang", "ar").startswith("ar"), by[AR]
    assert by[AR].get("source") == "articles/article-ar-cairo-news.txt", by[AR]
    assert by[METRO]["dir"] == "rtl" and by[EN]["dir"] == "ltr"
    one_ar, one_en = [AR], [EN]
    return {
        "articles": [{"path": a["path"], "title": a["title"], "dir": a["dir"]} for a in arts],
        "pinned": [{"path": AR, "title": AR_TITLE, "dir": "rtl"},
                   {"path": METRO, "title": "افتتاح محطة جديدة لمترو القاهرة", "dir": "rtl"},
                   {"path": EN, "title": "Nile water talks resume in Addis Ababa", "dir": "ltr"}],
        # "ألتمان" (Altman) is only in the Arabic article (UNIQUE_WORDS); the
        # same without hamza, with tashkeel and with tatweel must find it too.
        # "Ethiopia" and "reservoir" only in the Nile article.  "القاهره"
        # (Cairo, taa marbuta folded): the metro page's title; the Cairo
        # article has the word only in its site-name line and byline, which
        # are page furniture and not part of its text.  "export" starts
        # "exports" in the cotton article's title and "exporters" in the
        # market report's body: both, the title match first.
        "searches": [
            {"query": "ألتمان", "expect": one_ar},
            {"query": "التمان", "expect": one_ar},
            {"query": "أَلْتَمان", "expect": one_ar},
            {"query": "ألتـــمان", "expect": one_ar},
            {"query": "Ethiopia", "expect": one_en},
            {"query": "ETHIOPIA reserv", "expect": one_en},
            {"query": "القاهره", "expect": [METRO]},
            {"query": "export", "expect": sorted([COTTON, MARKET]), "first": COTTON},
            {"query": "ألتمان Ethiopia", "expect": []},
            {"query": "zqxwv", "expect": []},
        ],
        "rtl_article": {"path": AR, "title": AR_TITLE, "lang": "ar", "csp": True},
        "screenshot_search": "ألتمان",
    }


def check_unique_words(src):
    """Problems with UNIQUE_WORDS in the source folder (case-insensitive,
    .html, .txt and .md files), as strings."""
    files = []
    for d, _, names in os.walk(src):
        files += [os.path.join(d, n) for n in names if n.lower().endswith((".html", ".txt", ".md"))]
    texts = [open(f, encoding="utf-8", errors="replace").read().lower() for f in files]
    bad = []
    for w in UNIQUE_WORDS:
        n = sum(1 for t in texts if w.lower() in t)
        if n != 1:
            bad.append("fixture: '%s' is in %d articles, want 1" % (w, n))
    return bad


def unescape_case(s):
    """The escapes of tests/reader/fold-cases.txt: \\u{HEX} and \\\\."""
    return re.sub(r"\\(?:u\{([0-9A-Fa-f]{1,6})\}|(\\))",
                  lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\", s)


def read_cases(path, columns):
    """Lines of `columns` tab-separated fields; # comments and blank lines
    skipped.  Returns (fields..., line number) tuples."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != columns:
                raise SystemExit("%s:%d: want %d tab-separated fields" % (path, n, columns))
            out.append(tuple(unescape_case(c) for c in cols) + (n,))
    return out


def main(argv):
    src = None
    if len(argv) == 4 and argv[2] == "--source":
        src = argv[3]
        argv = argv[:2]
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    mpath, epath = argv
    with open(mpath, encoding="utf-8") as f:
        m = json.load(f)
    try:
        exp = expectations(m)
    except (AssertionError, KeyError, TypeError) as e:
        sys.stderr.write("the manifest's articles are not the fixture's: %r\n" % (e,))
        return 1
    bad = check_unique_words(src) if src is not None else []
    for b in bad:
        sys.stderr.write(b + "\n")
    if bad:
        return 1
    with open(epath, "w", encoding="utf-8") as f:
        json.dump(exp, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
