# SPDX-License-Identifier: ISC
# How folio-pack cuts and compresses frames (FORMAT.md 2.1 and 6): text and
# already-compressed media never share a frame; the bundle order puts the
# text layer first, then within a layer text before compressed media, then
# by extension, file name and path; frames are compressed side by side and
# the bytes are the same for any number of threads; a frame too large to
# hold in memory (one 17 MiB file) is compressed as a stream and still reads
# back with stock zstd and tar.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
need zstd tar
use_test_keys
export SOURCE_DATE_EPOCH=$FIXED_EPOCH

mkdir -p src/en src/ar src/img src/video
python3 - src <<'PY' || fail "cannot make the source"
import os, random, sys
root = sys.argv[1]
rnd = random.Random(57)
words = "the talks resume in the capital as ministers meet officials from the region".split()
for lang in ("en", "ar"):
    for n in range(25):
        body = " ".join(rnd.choice(words) for _ in range(3000))
        with open(f"{root}/{lang}/page-{n:02d}.html", "w") as f:
            f.write(f'<!doctype html><html lang="{lang}"><title>p{n}</title><p>{body}</p></html>\n')
for n in range(30):  # compressed media: random bytes, so verbatim ships them as they are
    with open(f"{root}/img/photo-{n:02d}.jpg", "wb") as f:
        f.write(rnd.randbytes(300_000))
with open(f"{root}/img/logo.svg", "w") as f:
    f.write('<svg xmlns="http://www.w3.org/2000/svg">' + "<g/>" * 5000 + "</svg>\n")
with open(f"{root}/style.css", "w") as f:
    f.write("p { margin: 0 }\n" * 2000)
with open(f"{root}/video/clip.mp4", "wb") as f:
    f.write(rnd.randbytes(17 << 20))
PY

pack() {
	expect_status 0 "$PACK" pack src -k key.key -c frames $FIXED_VALIDITY -q --verbatim "$@"
}
pack -o t1.folio -T 1
pack -o t2.folio -T 2
pack -o t3.folio --threads 3
cmp t1.folio t2.folio || fail "-T 1 and -T 2 give other bytes"
cmp t1.folio t3.folio || fail "-T 1 and --threads 3 give other bytes"

# stock tools read it, the 20 MiB file included
zstd -tq t1.folio || fail "stock zstd -t refuses the bundle"
mkdir x && tar --zstd -xf t1.folio -C x || fail "stock tar cannot extract the bundle"
cmp x/video/clip.mp4 src/video/clip.mp4 || fail "the streamed 17 MiB file differs"
expect_status 0 "$UNPACK" unpack t1.folio -p key.pub -C out -q
diff -r --exclude=.folio src out || fail "the unpacked edition differs from the source"

# order and frames
python3 "$(dirname "$TESTLIB")/frames.py" plan t1.folio out/.folio/manifest.json plan.json >/dev/null ||
	fail "frames.py plan"
python3 - plan.json out/.folio/manifest.json <<'PY' || fail "frames or order are not as FORMAT.md says"
import json, sys
plan = json.load(open(sys.argv[1]))
files = json.load(open(sys.argv[2]))["files"]
packed = {"image/jpeg", "video/mp4"}
kind = {f["path"]: f["type"] in packed for f in files}
def ext(p):
    n = p.rsplit("/", 1)[-1]
    return n.rsplit(".", 1)[1] if "." in n[1:] else ""
key = lambda f: (f["layer"] != "text", kind[f["path"]], ext(f["path"]).encode(),
                 f["path"].rsplit("/", 1)[-1].encode(), f["path"].encode())
paths = [f["path"] for f in files]
want = [f["path"] for f in sorted(files, key=key)]
if paths != want:
    sys.exit("manifest order %s, want %s" % (paths[:8], want[:8]))
# the same page in two languages side by side
i = paths.index("ar/page-07.html")
if paths[i + 1] != "en/page-07.html":
    sys.exit("ar/page-07.html is followed by %s" % paths[i + 1])
mixed = [n for n, fr in enumerate(plan["frames"])
         if len({kind[e] for e in fr["entries"] if e in kind}) > 1]
if mixed:
    sys.exit("frames %s hold text and compressed media" % mixed)
kinds = [{kind[e] for e in fr["entries"] if e in kind} for fr in plan["frames"]]
if {True} not in kinds or {False} not in kinds:
    sys.exit("expected frames of both kinds: %s" % kinds)
big = [n for n, fr in enumerate(plan["frames"]) if "video/clip.mp4" in fr["entries"]]
print("frames:", len(plan["frames"]), "clip.mp4 in frame", big)
PY
exit 0
