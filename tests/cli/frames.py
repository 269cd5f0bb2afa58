# SPDX-License-Identifier: ISC
"""The zstd frames of a bundle and the tar entries each one holds, for the
partial-read tests (tests/cli/89-partial.sh).  Standard library only, plus
the zstd program (or the zstandard module when it can be imported).

  frames.py plan BUNDLE MANIFEST PLAN.json [--one-per-frame]
      walks the frames (RFC 8878 headers and blocks, not a search for the
      magic number), decodes each one alone, and finds which tar entries it
      holds; for each frame, the manifest files lost when that frame is lost
      (its entries' contents, under every path that has them).  Prints
      "START END LOST LAYER" per frame (LOST: how many files; LAYER: theirs,
      - when none or both).  Frames are counted
      from 0 here: frame 0 is FORMAT.md's frame 1, the head.  --one-per-frame:
      fail unless frame 0 is the head, each later frame one entry, and the
      last only the end of the archive (a bundle of --frame-size 1).
  frames.py make BUNDLE NAME:flip:POS|NAME:cut:POS ...
      NAME = BUNDLE with the byte at POS inverted (POS,POS...: each of them), or
      cut to its first POS bytes.
  frames.py overlap PLAN.json A B
      the frames holding any byte of [A, B), comma-separated.
  frames.py check PLAN.json CLEAN CASES
      CASES: lines "DIR<TAB>FRAMES[<TAB>LAYER]": DIR must be CLEAN without the
      files lost with those frames (only those of LAYER when given), each other
      file byte for byte and mode for mode as in CLEAN, and DIR/.folio/missing
      must list exactly the files lost, in manifest order (no such file when
      none is).  FRAMES is comma-separated, or - for none.
"""
import hashlib, io, json, os, stat, subprocess, sys, tarfile

MAGIC = b"\x28\xb5\x2f\xfd"


def walk(data):
    """(start, end) of each zstd frame, from the frame and block headers."""
    out, p = [], 0
    while p < len(data):
        if data[p:p + 4] != MAGIC:
            raise SystemExit("frames.py: no zstd frame at byte %d" % p)
        fhd = data[p + 4]
        single, fcs, did, chk = (fhd >> 5) & 1, fhd >> 6, fhd & 3, (fhd >> 2) & 1
        q = p + 5 + (0 if single else 1) + [0, 1, 2, 4][did] + [single, 2, 4, 8][fcs]
        while True:
            bh = int.from_bytes(data[q:q + 3], "little")
            q += 3
            q += 1 if (bh >> 1) & 3 == 1 else bh >> 3
            if bh & 1:
                break
        q += 4 * chk
        if q > len(data):
            raise SystemExit("frames.py: the frame at byte %d runs past the end" % p)
        out.append((p, q))
        p = q
    return out


def decode(frame):
    try:
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(frame)
    except ImportError:
        r = subprocess.run(["zstd", "-dcq"], input=frame, stdout=subprocess.PIPE, check=True)
        return r.stdout


def plan(bundle, manifest_path, out, one_per_frame):
    data = open(bundle, "rb").read()
    spans = walk(data)
    sizes, tar = [], b""
    for a, b in spans:
        part = decode(data[a:b])  # each frame decodes alone
        if not part:
            raise SystemExit("frames.py: frame at byte %d is empty" % a)
        sizes.append((len(tar), len(tar) + len(part)))
        tar += part
    m = json.loads(open(manifest_path, "rb").read())
    files = m["files"]
    content = {f["path"]: (f["size"], f["blake2b"]) for f in files}
    frames = [{"start": a, "end": b, "entries": []} for a, b in spans]

    def frame_of(off):
        return next(i for i, (x, y) in enumerate(sizes) if x <= off < y)

    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as t:
        for e in t:
            end = e.offset_data + (e.size + 511) // 512 * 512 - 1
            i = frame_of(e.offset)
            if frame_of(end) != i:
                raise SystemExit("frames.py: entry '%s' spans frames %d and %d" % (e.name, i, frame_of(end)))
            if e.name in content:  # the bytes are what the manifest says
                body = t.extractfile(e).read()
                if (len(body), hashlib.blake2b(body, digest_size=32).hexdigest()) != content[e.name]:
                    raise SystemExit("frames.py: entry '%s' does not match the manifest" % e.name)
            frames[i]["entries"].append(e.name)
        end_of_entries = t.offset
    for fr in frames:
        lost = {content[n] for n in fr["entries"] if n in content}
        fr["lost"] = [f["path"] for f in files if (f["size"], f["blake2b"]) in lost]
    json.dump({"size": len(data), "frames": frames, "files": [f["path"] for f in files],
               "layer": {f["path"]: f["layer"] for f in files}, "tar_end": end_of_entries,
               "tar_size": len(tar)}, open(out, "w"), ensure_ascii=False, indent=1)
    if one_per_frame:  # --frame-size 1: the head, one entry a frame, the end
        n = [len(fr["entries"]) for fr in frames]
        if frames[0]["entries"][:2] != [".folio/manifest.json", ".folio/manifest.json.minisig"] \
                or n[1:-1] != [1] * (len(n) - 2) or n[-1] != 0 or sizes[-1][1] - end_of_entries != 1024:
            raise SystemExit("frames.py: not one entry a frame: %s" % n)
    for fr in frames:
        layers = {f["layer"] for f in files if f["path"] in fr["lost"]}
        print(fr["start"], fr["end"], len(fr["lost"]), layers.pop() if len(layers) == 1 else "-")


def make(bundle, specs):
    data = open(bundle, "rb").read()
    for spec in specs:
        name, how, pos = spec.rsplit(":", 2)
        if how == "flip":
            d = bytearray(data)
            for x in pos.split(","):
                d[int(x)] ^= 0xFF
        elif how == "cut":
            d = data[:int(pos)]
        else:
            raise SystemExit("frames.py: make: bad spec %s" % spec)
        open(name, "wb").write(d)


def overlap(p, a, b):
    return [i for i, f in enumerate(p["frames"]) if f["start"] < b and f["end"] > a]


def tree(d):
    """Relative path -> ('f', mode, bytes) | ('d', mode) of everything under d."""
    out = {}
    for root, dirs, names in os.walk(d):
        for n in dirs + names:
            full = os.path.join(root, n)
            rel = os.path.relpath(full, d)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("f", stat.S_IMODE(st.st_mode), open(full, "rb").read())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("?", st.st_mode)
    return out


def check(p, clean, cases):
    ref = tree(clean)
    bad = 0
    for line in open(cases, encoding="utf-8"):
        fields = line.rstrip("\n").split("\t")
        d, frames = fields[0], fields[1]
        layer = fields[2] if len(fields) > 2 else None
        lost = set()
        for i in ([] if frames == "-" else [int(x) for x in frames.split(",")]):
            lost.update(p["frames"][i]["lost"])
        if layer:
            lost = {x for x in lost if p["layer"][x] == layer}
        want = [x for x in p["files"] if x in lost]
        problems = []
        if not os.path.isdir(d):
            print("FAIL: %s: not there (lost frames %s)" % (d, frames), file=sys.stderr)
            bad += 1
            continue
        got = tree(d)
        listed = got.pop(".folio/missing", None)
        if want:
            text = "".join(x + "\n" for x in want).encode("utf-8")
            if listed is None:
                problems.append("no .folio/missing")
            elif listed[2] != text:
                problems.append(".folio/missing is %r, not %r" % (listed[2].decode("utf-8", "replace"), text.decode()))
        elif listed is not None:
            problems.append(".folio/missing exists: %r" % listed[2].decode("utf-8", "replace"))
        for rel, v in sorted(ref.items()):
            if rel in lost:
                if rel in got:
                    problems.append("'%s' is there, but was lost" % rel)
                continue
            if v[0] == "d":
                continue  # a folder of lost files only may be absent
            if rel not in got:
                problems.append("'%s' is missing" % rel)
            elif got[rel] != v:
                problems.append("'%s' differs from the clean unpack" % rel)
        for rel, v in sorted(got.items()):
            if rel not in ref:
                problems.append("'%s' is not in the clean unpack" % rel)
            elif v[0] == "d" and ref[rel] != v:
                problems.append("folder '%s' differs" % rel)
        if problems:
            bad += 1
            print("FAIL: %s (lost frames %s%s):" % (d, frames, ", " + layer + " only" if layer else ""),
                  file=sys.stderr)
            for x in problems[:12]:
                print("  " + x, file=sys.stderr)
    return bad


def main(argv):
    if argv[1] == "plan":
        plan(argv[2], argv[3], argv[4], argv[5:] == ["--one-per-frame"])
    elif argv[1] == "make":
        make(argv[2], argv[3:])
    elif argv[1] == "overlap":
        p = json.load(open(argv[2], encoding="utf-8"))
        print(",".join(str(i) for i in overlap(p, int(argv[3]), int(argv[4]))) or "-")
    elif argv[1] == "check":
        p = json.load(open(argv[2], encoding="utf-8"))
        sys.exit(1 if check(p, argv[3], argv[4]) else 0)
    else:
        raise SystemExit("frames.py: unknown command %s" % argv[1])


if __name__ == "__main__":
    main(sys.argv)
