# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# tools/bench in its smoke mode (BENCH_SMOKE=1: fixtures/edition, one run, no
# warm-up): it prints Markdown, writes the same Markdown and a JSON report in
# BENCH_RESULTS/STAMP/ with a `latest` link, holds a measured row for every
# command whose programs are installed here (and a reason for the others), and
# round-trips the --verbatim bundle.  A peer that fails is reported, not fatal;
# a folio command that fails makes the exit status 1, report still written.
# No timing is asserted: only that each number is there.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
repo=$(cd "$FIXTURES/.." && pwd)
bench=$repo/tools/bench
[ -x /usr/bin/time ] || skip "/usr/bin/time is missing (Debian package time: tools/install-deps bench)"
for p in tar zstd; do
	command -v "$p" >/dev/null 2>&1 || skip "$p is missing (tools/install-deps)"
done

# check RESULTS STDOUT [FAILED-ROW] [FAILED-TEXT]: the report in RESULTS/latest
# is complete; FAILED-ROW, if given, is reported as failed with FAILED-TEXT.
check() {
	python3 - "$@" <<'PY' || fail "report in $1 (see above)"
import json, os, shutil, sys
res, stdout = sys.argv[1], sys.argv[2]
failed_row = sys.argv[3] if len(sys.argv) > 3 else None
failed_text = sys.argv[4] if len(sys.argv) > 4 else None
errors = []
latest = os.path.join(res, "latest")
if not os.path.islink(latest):
    sys.exit("  no 'latest' symlink in %s" % res)
md = open(os.path.join(latest, "bench.md"), encoding="utf-8").read()
data = json.load(open(os.path.join(latest, "bench.json"), encoding="utf-8"))
if md != open(stdout, encoding="utf-8").read():
    errors.append("bench.md is not what was printed")
have = lambda *progs: all(shutil.which(p) for p in progs)
optimize = "--optimize-images" in os.popen(os.environ["FOLIO_BIN"] + "/folio-pack pack --help").read()
# Each row the bench promises, and the programs it needs.
rows = {
    "tar | zstd -3 -T0 + minisign -S": have("tar", "zstd", "minisign"),
    "tar | zstd -19 -T0 + minisign -S": have("tar", "zstd", "minisign"),
    "tar | xz -9 -T0": have("tar", "xz"),
    "tar | zstd --ultra -22 --long=27": have("tar", "zstd"),
    "mksquashfs -comp zstd L19 + minisign -S": have("mksquashfs", "minisign"),
    "zimwriterfs": have("zimwriterfs"),
    "bsdtar --zstd + minisign -S": have("bsdtar", "minisign"),
    "folio-pack": True,
    "folio-pack --verbatim": True,
    "folio-pack --optimize-images": optimize,
    "zstd -d | tar -x": have("tar", "zstd", "minisign"),
    "minisign -V && zstd -d | tar -x": have("tar", "zstd", "minisign"),
    "unsquashfs": have("mksquashfs", "unsquashfs", "minisign"),
    "folio-unpack": True,
    "folio-unpack (--verbatim bundle)": True,
}
if failed_row == "folio-pack --verbatim":
    rows["folio-unpack (--verbatim bundle)"] = False
if [c["name"] for c in data["corpora"]] != ["smoke"]:
    errors.append("corpora: %s, expected smoke" % [c["name"] for c in data["corpora"]])
c = data["corpora"][0]
if c.get("files") != 12 or c.get("runs") != 1 or c.get("warmup") != 0:
    errors.append("smoke corpus: %s files, %s runs, warm-up %s" % (c.get("files"), c.get("runs"), c.get("warmup")))
tools = {t["name"]: t for t in c.get("tools", [])}
for name, runs in rows.items():
    t = tools.get(name)
    if t is None:
        errors.append("%s: no row in the JSON" % name)
        continue
    if ("| %s |" % name.replace("|", "\\|")) not in md:
        errors.append("%s: no row in the Markdown" % name)
    if name == failed_row:
        if not t["failed"] or failed_text not in t["failed"]:
            errors.append("%s: reported as %r, expected a failure saying %r" % (name, t["failed"], failed_text))
        if "FAILED: " not in md:
            errors.append("the Markdown does not show the failure")
        continue
    if not runs:
        if not t["skipped"]:
            errors.append("%s: neither run nor skipped with a reason" % name)
        continue
    if t["skipped"] or t["failed"]:
        errors.append("%s: skipped %r, failed %r" % (name, t["skipped"], t["failed"]))
        continue
    measured = [r for r in t["runs"] if not r["warmup"]]
    if len(measured) != 1 or t["median_wall"] is None or t["median_wall"] <= 0 or not t["median_rss_kib"]:
        errors.append("%s: runs %s" % (name, t["runs"]))
    if t["phase"] == "pack" and not (t["size"] or 0) > 0:
        errors.append("%s: size %r" % (name, t["size"]))
    if name.startswith("folio") or t["phase"] != tools["folio-pack"]["phase"]:
        continue
    if "folio-pack" not in t["ratios"] or t["ratios"]["folio-pack"]["size"] != tools["folio-pack"]["size"] / t["size"]:
        errors.append("%s: size ratio %r" % (name, t["ratios"].get("folio-pack")))
if failed_row != "folio-pack --verbatim" and c.get("roundtrip_identical") is not True:
    errors.append("round trip of the --verbatim bundle: %r" % c.get("roundtrip_identical"))
targets = c.get("targets", [])
if not any(t["target"].startswith("unpack + verify") for t in targets) or \
        any(t["met"] not in (True, False, None) or not t["detail"] for t in targets):
    errors.append("targets: %s" % targets)
for k in ("nproc", "uname", "folio_commit", "versions"):
    if not data["machine"].get(k):
        errors.append("machine: no %s" % k)
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# --- everything installed here runs and is reported -------------------------
BENCH_SMOKE=1 BENCH_RESULTS=$PWD/res expect_status 0 "$bench"
cp "$OUT" out1.md
check res out1.md
[ -z "$(find res -mindepth 1 -maxdepth 1 ! -name latest ! -name '2*')" ] || fail "res holds more than runs and latest"

# --- a peer that fails is reported; the bench still exits 0 -----------------
mkdir fake
printf '#!/bin/sh\necho "xz: simulated failure" >&2\nexit 1\n' >fake/xz
chmod +x fake/xz
PATH=$PWD/fake:$PATH BENCH_SMOKE=1 BENCH_RESULTS=$PWD/res2 expect_status 0 "$bench"
cp "$OUT" out2.md
expect_stderr_match "tar \| xz -9 -T0 failed: exit status 1: xz: simulated failure"
check res2 out2.md "tar | xz -9 -T0" "simulated failure"

# --- a folio command that fails: exit status 1, the report is written -------
mkdir bin
printf '#!/bin/sh\nfor a; do [ "$a" = --verbatim ] && { echo "folio-pack: simulated failure" >&2; exit 3; }; done\nexec %s "$@"\n' \
	"$FOLIO_BIN/folio-pack" >bin/folio-pack
chmod +x bin/folio-pack
ln -s "$FOLIO_BIN/folio-unpack" bin/folio-unpack
FOLIO_BIN=$PWD/bin BENCH_SMOKE=1 BENCH_RESULTS=$PWD/res3 expect_status 1 "$bench"
cp "$OUT" out3.md
check res3 out3.md "folio-pack --verbatim" "simulated failure"
exit 0
