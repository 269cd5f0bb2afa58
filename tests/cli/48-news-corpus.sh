# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# tools/news-corpus, the daily news corpus the library is measured with: the
# same seed gives the same trees byte for byte; day 2 differs from day 1 by
# the churn it promises (20% of articles new, 5% corrected, 5% moved, about
# 10% of the photos new, the rest the same bytes); every day packs, and the
# reader finds every article's title, language and direction.  Run on the
# Debian handbook when it is installed, and always on fixtures/edition alone.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
repo=$(cd "$FIXTURES/.." && pwd)
gen=$repo/tools/news-corpus
if ! { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null; }; then
	skip "python3-pil is not installed (tools/install-deps installs it)"
fi
N=60

# check_churn DIR: day-2 against day-1, counted here from the trees, within
# tolerances of the promise; and the generator's own table (DIR.out) agrees.
check_churn() {
	python3 - "$1" "$N" <<'PY' || fail "churn of $1 (see above)"
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
def tree(d):
    out = {}
    for dp, _, fs in os.walk(d):
        for f in fs:
            p = os.path.join(dp, f)
            out[os.path.relpath(p, d)] = open(p, "rb").read()
    return out
a, b = tree(top + "/day-1"), tree(top + "/day-2")
arts = lambda t: {p: v for p, v in t.items() if p.startswith("sections/")}
imgs = lambda t: {p: v for p, v in t.items() if p.startswith("images/")}
errors = []
def within(what, got, lo, hi):
    if not lo <= got <= hi:
        errors.append("%s: %d, expected %d to %d" % (what, got, lo, hi))
aa, ab = arts(a), arts(b)
within("articles on day 1", len(aa), n, n)
within("articles on day 2", len(ab), n, n)
by_bytes = {v: p for p, v in aa.items()}
name = lambda p: p.rsplit("/", 1)[1]
a_names = {name(p): p for p in aa}
new = [p for p in ab if name(p) not in a_names]
moved = [p for p in ab if name(p) in a_names and a_names[name(p)] != p]
same_place = [p for p in ab if p in aa]
unchanged = [p for p in same_place if aa[p] == ab[p]]
corrected = [p for p in same_place if aa[p] != ab[p]]
within("new articles", len(new), int(0.15 * n), int(0.25 * n))
within("corrected articles", len(corrected), 1, int(0.1 * n))
within("moved articles", len(moved), 1, int(0.1 * n))
within("unchanged articles", len(unchanged), int(0.6 * n), int(0.9 * n))
for p in moved:
    if ab[p] != aa[a_names[name(p)]]:
        errors.append("%s moved and changed: a move keeps the bytes" % p)
for p in new:
    if ab[p] in by_bytes:
        errors.append("%s is new but has the bytes of %s" % (p, by_bytes[ab[p]]))
ia, ib = imgs(a), imgs(b)
new_img = [p for p in ib if p not in ia]
within("images on day 1 (one article in three)", len(ia), n // 5, n // 2)
within("new images", len(new_img), 1, max(2, len(ib) // 4))
for p in ib:
    if p in ia and ia[p] != ib[p]:
        errors.append("%s: an image kept its name but changed" % p)
    if p not in ia and ib[p] in ia.values():
        errors.append("%s: a new image with old bytes" % p)
# Every image is some article's, and every article's image is there.
for t, label in ((a, "day-1"), (b, "day-2")):
    text = b"".join(v for p, v in t.items() if p.startswith("sections/"))
    for p in imgs(t):
        if p.encode() not in text:
            errors.append("%s: %s is no article's image" % (label, p))
if a["assets/site.css"] != b["assets/site.css"]:
    errors.append("assets/site.css changed")
# The table the generator printed: day-2's row agrees with the trees.
rows = {l.split()[0]: l.split() for l in open(top + ".out") if l.startswith("day-")}
want = {"files": len(b), "bytes": sum(map(len, b.values())), "articles": n, "images": len(ib)}
head = open(top + ".out").readline().split()
for k, v in want.items():
    if int(rows["day-2"][head.index(k)]) != v:
        errors.append("the table says %s %s on day 2, the tree has %d" % (k, rows["day-2"][head.index(k)], v))
got = {k: int(rows["day-2"][head.index(k)]) for k in ("new", "changed", "moved", "unchanged", "removed")}
if got["changed"] != len(corrected) or got["moved"] < len(moved) or got["unchanged"] < len(unchanged):
    errors.append("the table's churn %s does not match the trees" % got)
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# check_packs DIR: each day packs (no warnings) and its manifest names N
# articles, each with a title from its text, a language and its direction.
check_packs() {
	local d
	for d in 1 2; do
		SOURCE_DATE_EPOCH=$((FIXED_EPOCH + (d - 1) * 86400)) expect_status 0 "$PACK" pack "$1/day-$d" \
			-k key.key -c daily -e "$d" --valid-days 36500 -o "$1-$d.folio"
		grep -q 'warning' "$ERR" && { show_last; fail "$1/day-$d: folio-pack warned"; }
		expect_stderr_match "^folio-pack: $N articles"
		expect_status 0 "$UNPACK" unpack "$1-$d.folio" -p key.pub -C "$1-u$d" -q
		python3 - "$1-u$d/.folio/manifest.json" "$N" <<'PY' || fail "articles of $1/day-$d (see above)"
import json, os, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
arts, errors = m["articles"], []
if len(arts) != int(sys.argv[2]):
    errors.append("%d articles, expected %s" % (len(arts), sys.argv[2]))
langs = {}
for a in arts:
    stem = os.path.splitext(os.path.basename(a.get("source", a["path"])))[0]
    if not a["title"] or a["title"] == stem:
        errors.append("%s: no title from the text (%r)" % (a["path"], a["title"]))
    lang = a.get("lang")
    langs[lang] = langs.get(lang, 0) + 1
    if lang not in ("en", "ar") or a["dir"] != ("rtl" if lang == "ar" else "ltr"):
        errors.append("%s: lang %r dir %r" % (a["path"], lang, a["dir"]))
    if a["words"] < 20 or "author" not in a:
        errors.append("%s: %d words, author %r" % (a["path"], a["words"], a.get("author")))
if min(langs.get("en", 0), langs.get("ar", 0)) < len(arts) // 10:
    errors.append("languages: %s" % langs)
led = [a for a in arts if "image" in a]
if len(led) < len(arts) // 5 or any("thumbnail" not in a for a in led):
    errors.append("%d articles lead with an image, with thumbnails: %d" % (len(led), sum("thumbnail" in a for a in led)))
for e in errors[:20]:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
	done
}

# corpus NAME OPTIONS...: runs the generator for 2 days, its table in NAME.out.
corpus() {
	local out=$1
	shift
	expect_status 0 "$gen" "$out" --days 2 --articles "$N" "$@"
	cp "$OUT" "$out.out"
	[ "$(grep -c '^day-' "$out.out")" = 2 ] || { show_last; fail "$out: not one row a day"; }
}

# --- on the repository's fixtures alone -------------------------------------
corpus fx --no-handbook --seed 3
corpus fx2 --no-handbook --seed 3
[ "$(tree_digest fx)" = "$(tree_digest fx2)" ] || fail "--no-handbook: the same seed gave other trees"
check_churn fx
check_packs fx
# --typos 10: day 2 is day 1 with one word corrected in 10% of the articles
# (two adjacent letters swapped back) and nothing else: the usual day 1.
corpus ty --no-handbook --seed 3 --typos 10
[ "$(tree_digest ty/day-2)" = "$(tree_digest fx/day-1)" ] || fail "--typos: day 2 is not the usual day 1"
python3 - ty "$N" <<'PY' || fail "--typos: day 1 against day 2 (see above)"
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
def tree(d):
    return {os.path.relpath(os.path.join(dp, f), d): open(os.path.join(dp, f), "rb").read()
            for dp, _, fs in os.walk(d) for f in fs}
a, b = tree(top + "/day-1"), tree(top + "/day-2")
errors = []
if set(a) != set(b):
    errors.append("other paths: %s" % sorted(set(a) ^ set(b))[:5])
changed = [p for p in a if p in b and a[p] != b[p]]
if len(changed) != round(0.1 * n):
    errors.append("%d files changed, expected %d" % (len(changed), round(0.1 * n)))
for p in changed:
    x, y = a[p].decode(), b[p].decode()
    i = next(i for i in range(len(x)) if x[i] != y[i])
    if len(x) != len(y) or x[i] != y[i + 1] or x[i + 1] != y[i] or x[i + 2:] != y[i + 2:] or not x[i].isalpha():
        errors.append("%s: not two adjacent letters swapped" % p)
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# --- on the Debian handbook --------------------------------------------------
hb=/usr/share/doc/debian-handbook/html
if [ ! -d "$hb/en-US" ] || [ ! -d "$hb/ar-MA" ]; then
	echo "the Debian handbook is not installed (tools/install-deps bench installs it): checked on fixtures/edition only"
	exit 0
fi
corpus a --seed 1
corpus b --seed 1
[ "$(tree_digest a)" = "$(tree_digest b)" ] || fail "the same seed gave other trees"
corpus c --seed 2
[ "$(tree_digest a/day-1)" != "$(tree_digest c/day-1)" ] || fail "seeds 1 and 2 gave the same day 1"
check_churn a
check_packs a
# Day 2 of a longer run is day 2 of a shorter one: the days are a sequence.
expect_status 0 "$gen" d --days 3 --articles "$N" --seed 1
[ "$(tree_digest a/day-2)" = "$(tree_digest d/day-2)" ] || fail "--days 3 made another day 2"
exit 0
