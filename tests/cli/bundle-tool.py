#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Byte-level helpers for the CLI tests (tests/cli/*.sh).

  bundle-tool.py flip-all [--both|--both-at-headers] [--same-ok] [--status N] [--jobs N]
                          BUNDLE WORK RE -- CMD...
      For every byte position of BUNDLE, writes BUNDLE with one bit of that
      byte flipped (xor 0x01 at even positions, 0x80 at odd ones; --both:
      each mask at every position; --both-at-headers: each mask at the bytes
      of zstd frame headers, block headers and checksums) to a file WORK, runs CMD (stdin /dev/null)
      and requires exit status 1 (--status N) and a stderr line matching RE.
      --jobs N workers (default: the number of CPUs, at most 8) run at once;
      "@N" in WORK is replaced by the worker's number, and "@FILE@" in RE
      (regex-quoted) and in CMD by the worker's file.
      Prints one line per position that did not; exits 1 if there was any.
      --same-ok: a flip that CMD accepts (status 0) is not counted against it
      when stock `zstd -dc` decodes the flipped bundle to exactly the bytes it
      decodes BUNDLE to (zstd's encoding has redundant bits: the window size,
      parts of entropy table descriptions); such flips are listed as benign.
  bundle-tool.py truncate-all BUNDLE WORK RE -- CMD...
      The same for every proper prefix of BUNDLE (lengths 0 .. size-1).
  bundle-tool.py variants BUNDLE OUTDIR STEP
      Writes OUTDIR/POS (POS = 0, STEP, 2*STEP, ..., and the last byte), each
      BUNDLE with the bit flip described above at POS.
  bundle-tool.py truncations BUNDLE OUTDIR STEP
      Writes OUTDIR/N, the first N bytes of BUNDLE, for N = 0, STEP, ...
      below its size, and size-1.
  bundle-tool.py flip BUNDLE POS MASK OUT
      Writes BUNDLE with byte POS xor MASK (hex) to OUT.
  bundle-tool.py minisig-edit SIG WHAT OUT
      Rewrites a .minisig: WHAT is "comment" (change the trusted comment's
      last character), "inject-cr" (a CR inside the trusted comment line),
      "legacy" (algorithm ED -> Ed), or "keyid:HEX16" (key id bytes as
      minisign prints them).
"""

import base64
import os
import re
import subprocess
import sys


def mask_at(pos):
    return 0x01 if pos % 2 == 0 else 0x80


def zstd_structure(data):
    """Byte positions of zstd frame headers, block headers and checksums
    (the bytes that describe rather than carry data), or an empty set when
    data is not a well-formed sequence of zstd frames."""
    out = set()
    i = 0
    try:
        while i < len(data):
            if data[i:i + 4] != b"\x28\xb5\x2f\xfd":
                return set()
            fhd = data[i + 4]
            single = (fhd >> 5) & 1
            j = i + 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
            j += ((1 if single else 0), 2, 4, 8)[fhd >> 6]
            out.update(range(i, j))
            while True:
                bh = int.from_bytes(data[j:j + 3], "little")
                out.update(range(j, j + 3))
                btype, bsize = (bh >> 1) & 3, bh >> 3
                j += 3 + (1 if btype == 1 else bsize)
                if bh & 1:
                    break
            if (fhd >> 2) & 1:
                out.update(range(j, j + 4))
                j += 4
            i = j
    except IndexError:
        return set()
    return out if i == len(data) else set()


def zstd_decode(path):
    p = subprocess.run(["zstd", "-dcq", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout if p.returncode == 0 else None


def run_all(cases, work, regex, cmd, want, same_ok=None, jobs=1):
    """Runs cmd on every case; WORK, with "@N" replaced by a worker number,
    is the file each worker writes its case to; "@FILE@" in regex and in cmd
    stands for that file (regex-quoted in regex)."""
    import concurrent.futures
    import threading
    local = threading.local()
    ids = iter(range(1 << 30))
    lock = threading.Lock()

    def worker_file():
        if not hasattr(local, "path"):
            with lock:
                local.path = work.replace("@N", str(next(ids)))
            d = os.path.dirname(local.path)
            if d:
                os.makedirs(d, exist_ok=True)
            local.pat = re.compile(regex.replace("@FILE@", re.escape(local.path)).encode(), re.M)
        return local.path, local.pat

    def one(case):
        label, data = case
        path, pat = worker_file()
        with open(path, "wb") as f:
            f.write(data)
        argv = [a.replace("@FILE@", path) for a in cmd]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode == 0 and same_ok is not None and zstd_decode(path) == same_ok:
            return label, "benign"
        if p.returncode != want or not pat.search(p.stderr) or p.stdout:
            return label, ("status %d, stdout %d bytes, stderr %r"
                           % (p.returncode, len(p.stdout), p.stderr[:300]))
        return label, None

    bad, benign, n = [], [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for label, res in ex.map(one, cases):
            n += 1
            if res == "benign":
                benign.append(label)
            elif res is not None:
                bad.append("%s: %s" % (label, res))
    for line in bad:
        print(line)
    if benign:
        print("accepted, but zstd decodes them to the same bytes: %s" % ", ".join(benign))
    print("%d runs, %d unexpected, %d benign" % (n, len(bad), len(benign)))
    return 1 if bad else 0


def split_args(args):
    """Options (--status N, --both) and positionals before "--"; the command after."""
    if "--" not in args:
        sys.exit("missing -- before the command")
    k = args.index("--")
    head, cmd = args[:k], args[k + 1:]
    opts = {"status": 1, "both": False, "same_ok": False,
            "jobs": min(8, os.cpu_count() or 1)}
    pos = []
    while head:
        a = head.pop(0)
        if a == "--status":
            opts["status"] = int(head.pop(0))
        elif a == "--jobs":
            opts["jobs"] = max(1, int(head.pop(0)))
        elif a == "--both":
            opts["both"] = True
        elif a == "--both-at-headers":
            opts["both"] = "headers"
        elif a == "--same-ok":
            opts["same_ok"] = True
        elif a.startswith("--"):
            sys.exit("unknown option " + a)
        else:
            pos.append(a)
    return opts, pos, cmd


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    op = argv[1]
    if op in ("flip-all", "truncate-all"):
        opts, pos, rest = split_args(argv[2:])
        bundle, work, regex = pos
        data = open(bundle, "rb").read()
        if op == "flip-all":
            structure = zstd_structure(data)
            if opts["both"] == "headers" and not structure:
                sys.exit("--both-at-headers: %s is not a sequence of zstd frames" % bundle)

            def gen():
                for i in range(len(data)):
                    both = opts["both"] is True or (opts["both"] == "headers" and i in structure)
                    masks = (0x01, 0x80) if both else (mask_at(i),)
                    for m in masks:
                        b = bytearray(data)
                        b[i] ^= m
                        yield "byte %d xor 0x%02x" % (i, m), bytes(b)
        else:
            def gen():
                for n in range(len(data)):
                    yield "length %d" % n, data[:n]
        same = None
        if opts["same_ok"]:
            same = zstd_decode(bundle)
            if same is None:
                sys.exit("--same-ok: zstd cannot decode " + bundle)
        return run_all(gen(), work, regex, rest, opts["status"], same, opts["jobs"])
    if op == "variants":
        bundle, outdir, step = argv[2], argv[3], int(argv[4])
        data = open(bundle, "rb").read()
        os.makedirs(outdir, exist_ok=True)
        positions = sorted(set(list(range(0, len(data), step)) + [len(data) - 1]))
        for i in positions:
            b = bytearray(data)
            b[i] ^= mask_at(i)
            with open(os.path.join(outdir, str(i)), "wb") as f:
                f.write(b)
        return 0
    if op == "truncations":
        bundle, outdir, step = argv[2], argv[3], int(argv[4])
        data = open(bundle, "rb").read()
        os.makedirs(outdir, exist_ok=True)
        for n in sorted(set(list(range(0, len(data), step)) + [len(data) - 1])):
            with open(os.path.join(outdir, str(n)), "wb") as f:
                f.write(data[:n])
        return 0
    if op == "flip":
        bundle, pos, mask, out = argv[2], int(argv[3]), int(argv[4], 16), argv[5]
        b = bytearray(open(bundle, "rb").read())
        b[pos] ^= mask
        open(out, "wb").write(b)
        return 0
    if op == "minisig-edit":
        sig, what, out = argv[2], argv[3], argv[4]
        lines = open(sig, "rb").read().split(b"\n")
        if what == "comment":
            c = lines[2]
            lines[2] = c[:-1] + (b"0" if c[-1:] != b"0" else b"1")
        elif what == "inject-cr":
            c = lines[2]
            k = c.index(b" channel:")
            lines[2] = c[:k] + b"\r" + c[k:]
        elif what == "legacy":
            raw = bytearray(base64.b64decode(lines[1], validate=True))
            raw[0:2] = b"Ed"
            lines[1] = base64.b64encode(bytes(raw))
        elif what.startswith("keyid:"):
            raw = bytearray(base64.b64decode(lines[1], validate=True))
            raw[2:10] = bytes.fromhex(what[6:])[::-1]
            lines[1] = base64.b64encode(bytes(raw))
        else:
            sys.exit("unknown edit " + what)
        open(out, "wb").write(b"\n".join(lines))
        return 0
    sys.exit("unknown operation " + op)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
