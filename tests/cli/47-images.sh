# SPDX-License-Identifier: ISC
# Images for slow links and for the people in them (FORMAT.md 14.4): by
# default folio-pack strips GPS positions, serials, XMP, IPTC and comments
# without changing a pixel; --keep-image-metadata ships them as they are;
# --max-image-width scales big images down and says how much it saved; an
# image that cannot be cleaned stops the pack.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
samples=$(dirname "$TESTLIB")/../images
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null ||
	skip "python3-pil is not installed (tools/install-deps installs it)"
need exiftool

mkdir -p src/photos
"$samples/make-samples" gen >/dev/null || fail "make-samples failed"
for f in camera.jpg progressive.jpg meta.png palette.png lossy.webp lossless.webp clean.jpg clean.png large.jpg; do
	cp "gen/$f" "src/photos/$f"
done
# An article whose lead image is the camera photo, so it gets a thumbnail
# made from the cleaned image.
cat >src/story.html <<'EOF'
<!DOCTYPE html><html lang="en"><head><title>Flood waters recede</title></head>
<body><article><h1>Flood waters recede</h1>
<img src="photos/camera.jpg" alt="The river at noon" width="640" height="480">
<p>Water levels fell overnight along the river, and families began to return to their homes in the low districts of the town.</p>
</article></body></html>
EOF
# Before: the samples really carry what must go.
exiftool -q -q -j -G gen/camera.jpg | grep -q '"EXIF:GPSLatitude"' || fail "camera.jpg has no GPS position to strip"

pack() {
	SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack src -k key.key -c news $FIXED_VALIDITY "$@"
}

# --- the default: cleaned, losslessly --------------------------------------
pack -o clean.folio
expect_stderr_match '^folio-pack: images: 6 cleaned of metadata \(5 had a GPS position\)$'
expect_status 0 "$UNPACK" unpack clean.folio -p key.pub -C clean
for f in camera.jpg progressive.jpg meta.png palette.png lossy.webp lossless.webp; do
	"$samples/check-image" "src/photos/$f" "clean/photos/$f" >check.txt 2>&1 ||
		{ cat check.txt >&2; fail "photos/$f was not cleaned losslessly"; }
	cmp -s "src/photos/$f" "clean/photos/$f" && fail "photos/$f was shipped unchanged"
done
for f in clean.jpg clean.png large.jpg; do
	cmp "src/photos/$f" "clean/photos/$f" || fail "photos/$f had nothing to strip but changed"
done
# The thumbnail is a JPEG made from the cleaned photo: no metadata either.
thumb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["articles"][0]["thumbnail"])' \
	clean/.folio/manifest.json) || fail "the story has no thumbnail"
[ "$(head -c 3 "clean/$thumb" | od -An -tx1 | tr -d ' \n')" = ffd8ff ] || fail "$thumb is not a JPEG"
/usr/bin/python3 -c 'import sys; from PIL import Image; w, h = Image.open(sys.argv[1]).size; sys.exit(not (max(w, h) == 192 and min(w, h) <= 192))' \
	"clean/$thumb" || fail "$thumb does not fit 192x192"
exiftool -q -q -j -G "clean/$thumb" | grep -Eq '"(EXIF|XMP|IPTC):' && fail "$thumb carries metadata"

# --- --keep-image-metadata: byte for byte ----------------------------------
pack -o keep.folio --keep-image-metadata
expect_stderr_match '^folio-pack: images: metadata kept as it was \(--keep-image-metadata\)$'
expect_status 0 "$UNPACK" unpack keep.folio -p key.pub -C keep
diff -r -x .folio -x _folio -x index.html src keep >/dev/null 2>&1 ||
	for f in src/photos/*; do cmp "$f" "keep/photos/${f##*/}" || fail "--keep-image-metadata changed $f"; done

# --- --max-image-width: smaller, and says by how much ----------------------
pack -o small.folio --max-image-width 800
expect_stderr_match '^folio-pack: images: [1-9][0-9]* scaled down to 800 pixels wide, [1-9][0-9]* bytes saved$'
expect_status 0 "$UNPACK" unpack small.folio -p key.pub -C small
/usr/bin/python3 - src/photos small/photos <<'PY' || fail "--max-image-width did not scale as documented"
import os, sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    with Image.open(os.path.join(src, name)) as a, Image.open(os.path.join(out, name)) as b:
        assert b.format == a.format, (name, a.format, b.format)
        if a.size[0] <= 800:  # never enlarged
            assert b.size == a.size, (name, a.size, b.size)
        elif name == "large.jpg":  # 4000x3000: aspect kept
            assert b.size[0] == 800 and abs(b.size[1] - 600) <= 1, (name, b.size)
PY
[ "$(stat -c %s small/photos/large.jpg)" -lt "$(stat -c %s src/photos/large.jpg)" ] ||
	fail "the scaled large.jpg is not smaller"
exiftool -q -q -j -G small/photos/large.jpg | grep -q '"EXIF:GPS' && fail "scaling brought metadata back"

# --- a PNG named .jpg is cleaned as the PNG it is, with a warning ----------
# (gimp-help-en ships one: images/tutorials/quickie-remove-background-source.jpg)
mkdir misnamed && cp gen/meta.png misnamed/really-a-png.jpg && printf 'text\n' >misnamed/a.txt
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack misnamed -k key.key -c news -o misnamed.folio $FIXED_VALIDITY
expect_stderr_match "^folio-pack: warning: 'misnamed/really-a-png.jpg' is a png image with the name of a jpeg one: handled as what it is$"
expect_status 0 "$UNPACK" unpack misnamed.folio -p key.pub -C misnamed-out
/usr/bin/python3 - gen/meta.png misnamed-out/really-a-png.jpg <<'PY' || fail "the misnamed PNG was not cleaned as a PNG"
import sys
from PIL import Image
with Image.open(sys.argv[1]) as a, Image.open(sys.argv[2]) as b:
    assert b.format == "PNG", b.format
    assert list(a.convert("RGBA").getdata()) == list(b.convert("RGBA").getdata()), "pixels changed"
PY
[ "$(stat -c %s misnamed-out/really-a-png.jpg)" -lt "$(stat -c %s gen/meta.png)" ] ||
	fail "the misnamed PNG kept its metadata"

# --- an image that cannot be cleaned stops the pack -------------------------
mkdir bad && cp gen/truncated.jpg bad/broken.jpg && printf 'text\n' >bad/a.txt
expect_reject 1 "$(err_re folio-pack bad/broken.jpg 'use --keep-image-metadata')" \
	"$PACK" pack bad -k key.key -c news -o bad.folio
[ ! -e bad.folio ] || fail "a refused pack wrote its output"
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack bad -k key.key -c news -o bad.folio --keep-image-metadata
exit 0
