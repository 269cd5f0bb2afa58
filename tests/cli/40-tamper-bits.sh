# SPDX-License-Identifier: ISC
# One flipped bit anywhere in a bundle is refused: every byte position of a
# small bundle for verify; every 7th position for unpack, which must then
# leave no trace.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src

# Fixed time: the same bundle bytes every run, so a failure names a position
# that reproduces.
SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 1 -T 1 $FIXED_VALIDITY -o good.folio -q
expect_status 0 "$UNPACK" verify good.folio -p key.pub
size=$(stat -c %s good.folio)
[ "$size" -gt 200 ] && [ "$size" -le 4096 ] || fail "small bundle is $size bytes"
# The test's own control: the byte flipper's first output still verifies
# when nothing is flipped twice.
python3 "$TOOL" flip good.folio 100 01 once || fail "flip"
python3 "$TOOL" flip once 100 01 twice || fail "flip"
cmp -s twice good.folio || fail "bundle-tool flip is not an involution"

# Every byte (xor 0x01 at even positions, 0x80 at odd ones; both at the bytes
# of zstd frame and block headers and checksums), verify reading a file:
# status 1, one error naming the file.  zstd's encoding has a few redundant bits (the
# window size; parts of Huffman and FSE table descriptions): a flip there
# leaves the decoded bytes exactly as signed, so no reader can see it.  Those
# are allowed, and listed, but only when stock zstd decodes the flipped
# bundle to the very same bytes (else it is a failure like any other).
need zstd
if ! python3 "$TOOL" flip-all --both-at-headers --same-ok good.folio 'w@N/t.folio' "^folio-unpack: .*'@FILE@'" -- \
	"$UNPACK" verify @FILE@ -p key.pub >flips.txt; then
	head -n 40 flips.txt
	fail "some bit flips were not refused by verify ($(tail -n 1 flips.txt))"
fi
grep -v '^byte' flips.txt
# No benign flip may sit in a frame header: folio pins every header bit that
# zstd leaves free (docs/FORMAT.md section 2).
python3 - good.folio flips.txt <<'PY' || fail "a flip in a zstd frame header was accepted"
import re, sys
data = open(sys.argv[1], "rb").read()
headers, i = set(), 0
while i < len(data):  # frame headers: magic, descriptor, window, no FCS here
    fhd = data[i + 4]
    n = 5 + (0 if (fhd >> 5) & 1 else 1) + (0, 1, 2, 4)[fhd & 3] + ((1 if (fhd >> 5) & 1 else 0), 2, 4, 8)[fhd >> 6]
    headers.update(range(i, i + n))
    j = i + n
    while True:
        bh = int.from_bytes(data[j:j + 3], "little")
        j += 3 + (1 if (bh >> 1) & 3 == 1 else bh >> 3)
        if bh & 1:
            break
    i = j + 4
benign = [int(m) for m in re.findall(r"byte (\d+) xor", "".join(l for l in open(sys.argv[2]) if l.startswith("accepted")))]
bad = [p for p in benign if p in headers]
if bad:
    sys.exit("accepted flips in frame headers at %s" % bad)
PY

# A sample of positions, unpack: status 1, dest absent, nothing else changed.
python3 "$TOOL" variants good.folio v 7 || fail "variants"
zstd -dcq good.folio >good.tar || fail "zstd -d good.folio"
mkdir lib
printf 'an earlier edition\n' >lib/old.txt
before=$(tree_digest lib)
n=0
for f in $(ls v | sort -n); do
	if zstd -dcq "v/$f" 2>/dev/null | cmp -s - good.tar; then
		continue # a redundant bit, see above
	fi
	expect_status 1 "$UNPACK" unpack "v/$f" -p key.pub -C lib/dest
	expect_stderr_match "$(err_re folio-unpack "v/$f" '')"
	[ ! -e lib/dest ] || fail "byte $f: unpack created lib/dest"
	assert_same_digest "$before" lib "byte $f: refused unpack"
	n=$((n + 1))
done
assert_no_staging lib
echo "$n unpacks refused"
exit 0
