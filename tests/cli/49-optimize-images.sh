# SPDX-License-Identifier: ISC
# --optimize-images: JPEG and PNG images shipped smaller with the same
# pixels (palette, grey+alpha, 16-bit and interlaced PNGs, baseline and
# progressive JPEGs), never larger than the cleaned image, the EXIF
# orientation kept; a PNG libpng cannot decode is shipped as without the
# option; the option is refused with --verbatim and --keep-image-metadata.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null ||
	skip "python3-pil is not installed (tools/install-deps installs it)"

mkdir -p src/img bad
/usr/bin/python3 - src/img bad <<'PY' || fail "cannot make the sample images"
import struct, sys, zlib
from PIL import Image

out, bad = sys.argv[1], sys.argv[2]
W, H = 96, 64

def pattern(mode):
    im = Image.new("RGB", (W, H))
    im.putdata([((x * 5) % 256, (y * 7) % 256, ((x ^ y) * 3) % 256) for y in range(H) for x in range(W)])
    return im.convert(mode) if mode != "RGB" else im

# Saved with little compression, so that there is something to gain.
pattern("RGB").save(f"{out}/rgb.png", compress_level=1)
pattern("RGBA").save(f"{out}/rgba.png", compress_level=0)
pal = pattern("RGB").quantize(16)
pal.info["transparency"] = 3
pal.save(f"{out}/palette.png", compress_level=1, transparency=3)
pattern("LA").save(f"{out}/grey-alpha.png", compress_level=1)
g16 = Image.new("I;16", (W, H))
g16.putdata([(x * 683 + y * 17) % 65536 for y in range(H) for x in range(W)])
g16.save(f"{out}/grey16.png", compress_level=1)

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def png(ihdr_interlace, raw, extra=b""):
    ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, ihdr_interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", raw) + chunk(b"IEND", b""))

# Adam7 by hand (PIL writes no interlaced PNG): each pass's rows, filter 0.
rgb = pattern("RGB").tobytes()
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
data = b""
for x0, y0, dx, dy in passes:
    for y in range(y0, H, dy):
        row = b"".join(rgb[(y * W + x) * 3:(y * W + x) * 3 + 3] for x in range(x0, W, dx))
        if row:
            data += b"\0" + row
gamma = chunk(b"gAMA", struct.pack(">I", 45455))
with open(f"{out}/interlaced.png", "wb") as f:
    f.write(png(1, zlib.compress(data, 1), gamma))

# JPEGs: baseline with EXIF (an orientation, which stays, and a camera
# make, which goes), and progressive; neither with optimised tables.
photo = pattern("RGB").resize((W * 4, H * 4))
exif = Image.Exif()
exif[0x0112] = 6
exif[0x010F] = "Camera Maker"
photo.save(f"{out}/baseline.jpg", quality=90, exif=exif.tobytes())
photo.save(f"{out}/progressive.jpg", quality=90, progressive=True)

# Odd PNGs: image data cut short (CRCs right, which cleaning checks), and a
# wrong CRC.
rows = b"".join(b"\0" + rgb[y * W * 3:(y + 1) * W * 3] for y in range(H))
z = zlib.compress(rows, 9)
with open(f"{bad}/short.png", "wb") as f:
    f.write(png(0, z[:len(z) // 2]))
good = bytearray(png(0, z))
good[-20] ^= 1  # in the IDAT chunk's CRC
with open(f"{bad}/crc.png", "wb") as f:
    f.write(good)
PY

pack() {
	SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack src -k key.key -c news $FIXED_VALIDITY "$@"
}

pack -o clean.folio
expect_status 0 "$UNPACK" unpack clean.folio -p key.pub -C clean
pack -o opt.folio --optimize-images
expect_stderr_match '^folio-pack: images: [1-9][0-9]* optimised losslessly, [1-9][0-9]* bytes saved$'
# images are optimised side by side: the bytes do not depend on how many threads
pack -o opt-t1.folio --optimize-images -T 1
pack -o opt-t3.folio --optimize-images -T 3
cmp opt.folio opt-t1.folio && cmp opt.folio opt-t3.folio || fail "--optimize-images gives other bytes with other -T"
expect_status 0 "$UNPACK" unpack opt.folio -p key.pub -C opt

/usr/bin/python3 - src/img clean/img opt/img <<'PY' || fail "--optimize-images changed a picture or made one larger"
import os, sys
from PIL import Image

src, clean, opt = sys.argv[1:]
not_smaller = []
for name in sorted(os.listdir(src)):
    with Image.open(os.path.join(src, name)) as a, Image.open(os.path.join(opt, name)) as b:
        assert (a.format, a.mode, a.size) == (b.format, b.mode, b.size), (name, a.mode, b.mode)
        assert a.tobytes() == b.tobytes(), f"{name}: the pixels differ"
        if a.mode == "P":
            assert a.getpalette() == b.getpalette(), f"{name}: the palette differs"
            assert a.info.get("transparency") == b.info.get("transparency"), f"{name}: tRNS"
        if a.mode != "I;16":
            assert a.convert("RGBA").tobytes() == b.convert("RGBA").tobytes(), name
        if name.endswith(".jpg"):
            assert a.getexif().get(0x0112) == b.getexif().get(0x0112), f"{name}: orientation"
    c, o = os.path.getsize(os.path.join(clean, name)), os.path.getsize(os.path.join(opt, name))
    assert o <= c, f"{name}: {o} bytes optimised, {c} cleaned"
    if o == c:
        not_smaller.append(name)
# Every sample was written without optimisation and must gain, but the
# progressive JPEG: libjpeg always optimises a progressive JPEG's tables.
assert not_smaller in ([], ["progressive.jpg"]), f"not smaller: {not_smaller}"
with open(os.path.join(opt, "interlaced.png"), "rb") as f:
    assert f.read(29)[28] == 0, "interlaced.png is still interlaced"
with open(os.path.join(opt, "interlaced.png"), "rb") as f:
    assert b"gAMA" in f.read(), "interlaced.png lost its gAMA chunk"
PY
cmp -s src/img/baseline.jpg opt/img/baseline.jpg && fail "baseline.jpg was not changed"

# --- odd PNGs: the same outcome with and without the option ----------------
rm -rf src && mkdir src && cp bad/short.png src/ && printf 'text\n' >src/a.txt
pack -o short.folio
expect_status 0 "$UNPACK" unpack short.folio -p key.pub -C short
pack -o short-opt.folio --optimize-images
expect_stderr_match '^folio-pack: images: 0 optimised losslessly, 0 bytes saved$'
expect_status 0 "$UNPACK" unpack short-opt.folio -p key.pub -C short-opt
cmp short/short.png short-opt/short.png || fail "a PNG cut short was changed by --optimize-images"
cmp bad/short.png short-opt/short.png || fail "a PNG cut short was not shipped as it is"

rm -rf src && mkdir src && cp bad/crc.png src/ && printf 'text\n' >src/a.txt
for opt in "" --optimize-images; do
	# shellcheck disable=SC2086
	expect_reject 1 "$(err_re folio-pack src/crc.png "CRC does not match")" \
		"$PACK" pack src -k key.key -c news -o crc.folio $opt
	[ ! -e crc.folio ] || fail "a refused pack wrote its output"
done

# --- refused combinations: usage errors -------------------------------------
for other in --verbatim --keep-image-metadata; do
	expect_status 2 "$PACK" pack src -k key.key -c news -o x.folio --optimize-images "$other"
	expect_stderr_match "^folio-pack: --optimize-images changes images: not with $other$"
	[ ! -e x.folio ] || fail "a usage error wrote its output"
done
exit 0
