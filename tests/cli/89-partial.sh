# SPDX-License-Identifier: ISC
# Partial and damaged bundles (--partial): a bundle of one entry a zstd frame,
# damaged in the middle of every frame in turn, in a few frame headers, and
# cut at every frame boundary and inside some frames, keeps exactly the files
# of the frames that decode and lists the others in .folio/missing; without
# --partial it is refused and nothing is written.  A later bundle of the
# edition (the whole one, a text then a media layer, another damaged copy,
# parts) completes it, in a folder and in a library; so does standard input.
# Frames are counted from 0: frame 0 is the head (FORMAT.md's frame 1).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"
need zstd
use_test_keys
export FOLIO_LIBRARY=
FRAMES_PY=$(dirname "$TESTLIB")/frames.py
frames() { python3 "$FRAMES_PY" "$@"; }

# ---- a small edition, one entry a frame ----------------------------------------

# the fixture edition, and text and images of a few KB made here: PNGs (one
# of 170 KB: damage in it is found after some of it was written), a copy of
# a JPEG (one content, two paths), long text and Markdown
cp -R "$FIXTURES/edition" src
mkdir src/extra
python3 - <<'PY' || fail "make the hand-made files"
import random, struct, zlib
r = random.Random(89)
def png(path, w, h):
    raw = b"".join(b"\0" + bytes(r.getrandbits(8) for _ in range(3 * w)) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
png("src/extra/photo.png", 40, 40)
png("src/extra/chart.png", 32, 48)
png("src/extra/panorama.png", 240, 240)  # more than zstd's 128 KiB blocks
words = "the river rose at dawn and the market opened late with cotton and news".split()
open("src/extra/notes.txt", "w").write(" ".join(r.choice(words) for _ in range(1200)) + "\n")
open("src/extra/long.md", "w").write("# Long read\n\n" + "\n\n".join(
    " ".join(r.choice(words) for _ in range(60)) for _ in range(25)) + "\n")
PY
cp src/assets/img/nile.jpg src/extra/nile-copy.jpg
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack src -k key.key -c chan -e 7 -l 3 -T 1 \
	$FIXED_VALIDITY --frame-size 1 -o good.folio -q
expect_status 0 "$UNPACK" unpack good.folio -p key.pub -C clean
frames plan good.folio clean/.folio/manifest.json plan.json --one-per-frame >spans.txt ||
	fail "good.folio is not one entry a frame"
start=() end=() nlost=() layer=()
while read -r a b l y; do
	start+=("$a") end+=("$b") nlost+=("$l") layer+=("$y")
done <spans.txt
n=${#start[@]}
last=$((n - 1))
[ "$n" -ge 20 ] || fail "only $n frames"
size=$(stat -c %s good.folio)
mid() { echo $(((start[$1] + end[$1]) / 2)); }
# from K: "K,K+1,...,last", the frames lost when the bundle is cut in frame K
from() { seq -s, "$1" "$last"; }
# two text frames and two media frames, m2 a content with two paths
texts=() medias=() m2=
for ((k = 1; k < last; k++)); do
	case ${layer[k]} in text) texts+=("$k") ;; media) medias+=("$k") ;; esac
	[ "${layer[k]}" = media ] && [ "${nlost[k]}" -ge 2 ] && m2=$k
done
t1=${texts[2]} t2=${texts[${#texts[@]} / 2 + 1]} m1=${medias[0]}
if [ -z "$m2" ] || [ "$m1" = "$m2" ] || [ "${#texts[@]}" -lt 8 ]; then
	fail "not the frames expected: ${layer[*]}"
fi

# Every damaged and cut bundle, made at once.
mkdir d
specs=()
for ((k = 0; k < n; k++)); do
	specs+=("d/mid-$k.folio:flip:$(mid "$k")" "d/cut-$k.folio:cut:${start[k]}" "d/cutmid-$k.folio:cut:$(mid "$k")")
	[ "$k" -lt "$last" ] && specs+=("d/adj-$k.folio:flip:$(mid "$k"),$(mid $((k + 1)))")
done
for k in 0 1 2 $t2 $m2 $last; do
	specs+=("d/magic-$k.folio:flip:$((start[k] + 1))" "d/fhd-$k.folio:flip:$((start[k] + 4))")
done
specs+=("d/cut-end.folio:cut:$((size - 1))"
	"d/two.folio:flip:$(mid "$t2"),$(mid "$m2")"
	"d/a.folio:flip:$(mid "$t1"),$(mid "$t2"),$(mid "$m1")"
	"d/b.folio:flip:$(mid "$t2"),$(mid 1),$(mid "$m2")")
frames make good.folio "${specs[@]}" || fail "make the damaged bundles"

# refused DEST: nothing ever appears in r/
mkdir r out
refused_nothing_written() {
	[ -z "$(ls -A r)" ] || fail "a refused unpack wrote $(ls -A r) ($LAST_CMD)"
}
cases=$SCRATCH/cases
: >"$cases"
# partial_ok BUNDLE DIR FRAMES MESSAGE: unpack --partial keeps all but FRAMES
partial_ok() {
	local k lost=0
	expect_status 0 "$UNPACK" unpack "$1" -p key.pub -C "$2" --partial
	expect_stderr_match "^folio-unpack: warning: damage skipped: cannot verify '$(re_quote "$1")': .*($4)"
	if [ "$3" != - ]; then
		for k in ${3//,/ }; do
			lost=$((lost + nlost[k]))
		done
	fi
	if [ $lost -gt 0 ]; then
		expect_stderr_match "incomplete: $lost files? (is|are) missing .*listed in $2/.folio/missing"
	elif grep -q 'incomplete' "$ERR"; then
		show_last
		fail "$1: nothing is lost, yet 'incomplete'"
	fi
	printf '%s\t%s\n' "$2" "$3" >>"$cases"
}
# check_cases WHAT: every folder recorded since the last call is as it must be
check_cases() {
	frames check plan.json clean "$cases" || fail "$1: not what the frames say"
	: >"$cases"
}
# refused BUNDLE [--partial]: exit 1, one line naming it, nothing written
refused() {
	expect_reject 1 "$(err_re folio-unpack "$1" '')" "$UNPACK" unpack "$1" -p key.pub -C r/dest "${@:2}"
	refused_nothing_written
}

# ---- 1. one flipped byte in the middle of each frame ---------------------------

refused d/mid-0.folio --partial # the head: nothing to trust
for ((k = 1; k < n; k++)); do
	partial_ok "d/mid-$k.folio" "out/mid-$k" "$k" 'corrupt zstd data|does not match|malformed'
	refused "d/mid-$k.folio"
done

# two frames in a row: the tar reader meets the second as it starts again
for ((k = 1; k < last; k++)); do
	partial_ok "d/adj-$k.folio" "out/adj-$k" "$k,$((k + 1))" 'corrupt zstd data|does not match|malformed'
done

# the frame's magic number or header descriptor: the frame is skipped, the
# next one found
refused d/magic-0.folio --partial
refused d/fhd-0.folio --partial
for k in 1 2 $t2 $m2 $last; do
	partial_ok "d/magic-$k.folio" "out/magic-$k" "$k" 'trailing bytes after the last zstd frame'
	partial_ok "d/fhd-$k.folio" "out/fhd-$k" "$k" 'zstd frame header is not as folio writes it'
	refused "d/magic-$k.folio"
done

# ---- 2. cut at every frame boundary, and inside every frame --------------------

refused d/cut-0.folio --partial
refused d/cutmid-0.folio --partial
refused d/cut-1.folio
for ((k = 1; k < n; k++)); do
	partial_ok "d/cut-$k.folio" "out/cut-$k" "$(from "$k")" 'truncated'
	partial_ok "d/cutmid-$k.folio" "out/cutmid-$k" "$(from "$k")" 'truncated'
done
refused "d/cutmid-$t2.folio"
partial_ok d/cut-end.folio out/cut-end "$last" 'truncated'

# ---- 6. standard input: no seeking back, the later frames still found ---------

pipe_ok() { # NAME FRAMES MESSAGE
	expect_status 0 sh -c 'cat "$1" | "$2" unpack - -p key.pub -C "$3" --partial' sh "d/$1.folio" "$UNPACK" "out/pipe-$1"
	expect_stderr_match "damage skipped: cannot verify '\\(standard input\\)': .*($3)"
	printf '%s\t%s\n' "out/pipe-$1" "$2" >>"$cases"
}
for k in 1 $t1 $t2 $m2 $last; do
	pipe_ok "mid-$k" "$k" 'corrupt zstd data|does not match|malformed'
done
pipe_ok "adj-$t1" "$t1,$((t1 + 1))" 'corrupt zstd data|does not match|malformed'
pipe_ok "adj-$((last - 1))" "$((last - 1)),$last" 'corrupt zstd data|does not match|malformed'
pipe_ok "magic-$t2" "$t2" 'trailing bytes'
pipe_ok "fhd-$m2" "$m2" 'not as folio writes it'
pipe_ok "cutmid-$t2" "$(from "$t2")" 'truncated'
pipe_ok two "$t2,$m2" 'corrupt zstd data|does not match|malformed'

check_cases "the partial unpacks above"

# ---- 3. a later bundle of the edition completes it ----------------------------

clean_digest=$(tree_digest clean)
complete() { # DIR WHAT
	[ "$(tree_digest "$1")" = "$clean_digest" ] || { tree_listing "$1" >&2; fail "$1 is not complete after $2"; }
}
# the whole bundle, over a damaged and a cut unpack (--force: DEST exists)
for d in mid-$t2 cut-1 cutmid-$m1; do
	expect_status 0 "$UNPACK" unpack good.folio -p key.pub -C "out/$d" --force
	complete "out/$d" "the whole bundle"
done
# the text layer, then the media layer
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack src -k key.key -c chan -e 7 -l 3 -T 1 \
	$FIXED_VALIDITY --frame-size 1 --layers text,media -o layer -q
for l in text media; do
	cmp -s <(zstd -dcq "layer.$l.folio" | tar -xOf - .folio/manifest.json) clean/.folio/manifest.json ||
		fail "the $l layer does not carry the same manifest"
done
partial_ok d/two.folio out/layers "$t2,$m2" 'corrupt zstd data|does not match|malformed'
check_cases "unpack --partial"
expect_status 0 "$UNPACK" unpack layer.text.folio -p key.pub -C out/layers --force
printf '%s\t%s\t%s\n' out/layers "$t2,$m2" media >>"$cases"
check_cases "the text layer over a damaged unpack"
expect_status 0 "$UNPACK" unpack layer.media.folio -p key.pub -C out/layers --force
complete out/layers "the text then the media layer"

# ---- 4. two copies damaged differently: the union of what each kept ----------

partial_ok d/a.folio out/union "$t1,$t2,$m1" 'corrupt zstd data|does not match|malformed'
partial_ok d/b.folio out/b-alone "1,$t2,$m2" 'corrupt zstd data|does not match|malformed'
check_cases "unpack --partial"
expect_status 0 "$UNPACK" unpack d/b.folio -p key.pub -C out/union --force --partial
printf '%s\t%s\n' out/union "$t2" >>"$cases"
check_cases "a second damaged copy over the first"

# ---- 3 and 4 in a library -------------------------------------------------------

lib_trust() { # DIR
	expect_status 0 "$UNPACK" trust add chan key.pub --library "$1"
}
LIBDIR=lib
lib_trust lib
before=$(tree_digest lib)
expect_reject 1 "$(err_re folio-unpack d/two.folio '')" "$UNPACK" install d/two.folio --library lib
assert_same_digest "$before" lib "install of a damaged bundle without --partial"
expect_status 0 "$UNPACK" install d/two.folio --library lib --partial
expect_stderr_match "damage skipped: cannot verify 'd/two.folio'"
missing_two=$((nlost[t2] + nlost[m2]))
printf '%s\t%s\n' lib/chan/7 "$t2,$m2" >>"$cases"
check_cases "install --partial"
expect_status 0 "$UNPACK" status --library lib
expect_stdout_match "$missing_two files not received yet"
[ "$(lib_json channels.0.editions.0.missing)" = "$missing_two" ] ||
	fail "status --json: missing is $(lib_json channels.0.editions.0.missing), not $missing_two"
lib_consistent
# the damaged bundle again, without --partial: refused, the library unchanged
before=$(tree_digest lib)
expect_reject 1 "$(err_re folio-unpack d/two.folio '')" "$UNPACK" install d/two.folio --library lib
assert_same_digest "$before" lib "install of a damaged bundle without --partial over the incomplete edition"
expect_status 0 "$UNPACK" install good.folio --library lib
complete lib/chan/7 "install of the whole bundle"
lib_consistent
expect_status 0 "$UNPACK" status --library lib
grep -q 'not received' "$OUT" && fail "status still says files are not received"

# the text layer, then the media layer
LIBDIR=lib-layers
lib_trust lib-layers
expect_status 0 "$UNPACK" install d/two.folio --library lib-layers --partial
expect_status 0 "$UNPACK" install layer.text.folio --library lib-layers
printf '%s\t%s\t%s\n' lib-layers/chan/7 "$t2,$m2" media >>"$cases"
check_cases "install of the text layer"
lib_consistent
expect_status 0 "$UNPACK" install layer.media.folio --library lib-layers
complete lib-layers/chan/7 "install of the text then the media layer"
lib_consistent

# two damaged copies: the union
LIBDIR=lib-union
lib_trust lib-union
expect_status 0 "$UNPACK" install d/a.folio --library lib-union --partial
expect_status 0 "$UNPACK" install d/b.folio --library lib-union --partial
printf '%s\t%s\n' lib-union/chan/7 "$t2" >>"$cases"
check_cases "two damaged copies in a library"
lib_consistent

# ---- 5. parts: a part lost ---------------------------------------------------------

mkdir parts
expect_status 0 "$PACK" split good.folio --size 4K -k key.key -o parts/g.folio
np=$(ls parts/g.folio.part* | wc -l)
[ "$np" -ge 10 ] || fail "only $np parts"
gone=$((np / 2))
gone_name=$(printf 'g.folio.part%03d' "$gone")
mv "parts/$gone_name" .
lost=$(frames overlap plan.json $(((gone - 1) * 4096)) $((gone * 4096)))
case $lost in -|0|0,*) fail "part $gone holds no file or the head ($lost)" ;; esac
LIBDIR=lib-parts
lib_trust lib-parts
before=$(tree_digest lib-parts)
expect_status 1 "$UNPACK" install parts/g.folio.parts --library lib-parts
expect_stderr_match "$gone_name \(missing\)"
assert_same_digest "$before" lib-parts "install from parts with one missing, without --partial"
expect_status 0 "$UNPACK" install parts/g.folio.parts --library lib-parts --partial
expect_stderr_match "damage skipped"
printf '%s\t%s\n' lib-parts/chan/7 "$lost" >>"$cases"
check_cases "install --partial from parts without $gone_name"
[ -z "$(find lib-parts -name 'parts.tmp-*')" ] || fail "install left $(find lib-parts -name 'parts.tmp-*')"
lib_consistent
# the part sent again: the whole set completes the edition
mv "$gone_name" parts/
expect_status 0 "$UNPACK" install parts/g.folio.parts --library lib-parts
complete lib-parts/chan/7 "install of the whole set of parts"
lib_consistent
exit 0
