# SPDX-License-Identifier: ISC
# A bundle in parts: folio-pack split writes raw slices and a signed index
# (stock minisign verifies it); folio-unpack parts says which part is good,
# damaged or missing, finding parts on several "sticks"; install joins them
# into a library, refusing a missing part (library unchanged), a tampered
# index, and an index of another bundle.  A channel that delegates signing:
# the first edition's index, signed by a day key, is checked and installed
# by a library that trusts only the root, the key taken from part 1's head;
# refused without part 1, for a key the head's list does not name, names out
# of range or revoked, for another bundle's part 1, another root's list, an
# older list than the library's.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
export FOLIO_LIBRARY=
lib_src src 1
head -c 300000 /dev/urandom >src/media/own.bin
lib_pack src key.key news 1 n1.folio
lib_src src2 2
head -c 300000 /dev/urandom >src2/media/own.bin
lib_pack src2 key.key news 2 n2.folio

# ---- split -------------------------------------------------------------------

mkdir pub
expect_status 0 "$PACK" split n1.folio --size 64K -k key.key -o pub/today.folio
expect_stderr_match "^folio-pack: split 'n1.folio' \(channel news, edition 1, [0-9]+ bytes\) into [0-9]+ parts of at most 65536 bytes; index 'pub/today.folio.parts', signed by key $TEST_KEY_ID"
size=$(stat -c %s n1.folio)
n=$(( (size + 65535) / 65536 ))
[ "$n" -ge 5 ] || fail "the test bundle is too small for several parts ($size bytes)"
parts=()
for i in $(seq 1 "$n"); do
	parts+=("$(printf 'today.folio.part%03d' "$i")")
done
# exactly the parts, the index and its signature: nothing else, no temporary file
want=$(printf '%s\n' "${parts[@]}" today.folio.parts today.folio.parts.minisig | LC_ALL=C sort)
got=$(ls -A pub | LC_ALL=C sort)
[ "$got" = "$want" ] || fail "split wrote $(echo "$got" | tr '\n' ' '), not $(echo "$want" | tr '\n' ' ')"
for ((i = 0; i < n - 1; i++)); do
	[ "$(stat -c %s "pub/${parts[i]}")" = 65536 ] || fail "${parts[i]} is not 65536 bytes"
done
[ "$(stat -c %s "pub/${parts[n - 1]}")" = $((size - (n - 1) * 65536)) ] || fail "the last part has the wrong size"
# raw slices: the parts, joined, are the bundle
cat pub/today.folio.part[0-9]* >joined.folio
cmp -s joined.folio n1.folio || fail "cat of the parts is not the bundle"
# the index: compact JSON, one LF, the fields in order, the hashes right
python3 - pub/today.folio.parts n1.folio pub <<'PY' || fail "the index"
import hashlib, json, os, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"}\n") and b"\n" not in raw[:-1], raw[:200]
j = json.loads(raw)
assert list(j) == ["format", "channel", "edition", "manifest", "bundle", "part_size", "parts"], list(j)
assert j["format"] == "folio-parts-1" and j["channel"] == "news" and j["edition"] == 1
assert raw.startswith(b'{"format":"folio-parts-1","channel":"news","edition":1,"manifest":"')
b2 = lambda d: hashlib.blake2b(d, digest_size=32).hexdigest()
bundle = open(sys.argv[2], "rb").read()
assert j["bundle"] == {"size": len(bundle), "blake2b": b2(bundle)}, j["bundle"]
assert j["part_size"] == 65536
for i, p in enumerate(j["parts"]):
    assert list(p) == ["name", "size", "blake2b"]
    assert p["name"] == "today.folio.part%03d" % (i + 1), p["name"]
    data = open(os.path.join(sys.argv[3], p["name"]), "rb").read()
    assert p["size"] == len(data) and p["blake2b"] == b2(data), p["name"]
PY
grep -qx "trusted comment: folio-parts-1 channel:news edition:1 parts:$n" pub/today.folio.parts.minisig ||
	fail "trusted comment: $(sed -n 3p pub/today.folio.parts.minisig)"
if command -v minisign >/dev/null 2>&1; then
	minisign -Vm pub/today.folio.parts -p key.pub >mv.out 2>&1 || { cat mv.out >&2; fail "stock minisign rejects the index"; }
	grep -q "folio-parts-1 channel:news edition:1 parts:$n" mv.out || fail "minisign shows no trusted comment"
	minisign -Vm pub/today.folio.parts -p other.pub >/dev/null 2>&1 && fail "minisign accepted the index with another key"
	rm -f mv.out
else
	echo "note: minisign is not installed: the stock check of the index is not run"
fi

# existing outputs: refused without --force (exit 2), nothing changed
before=$(tree_digest pub)
expect_reject 2 "cannot write 'pub/today.folio.part001': it exists \(use --force" "$PACK" split n1.folio --size 64K -k key.key -o pub/today.folio
assert_same_digest "$before" pub "split without --force"
# with --force: the same parts (split is deterministic), stale parts of an
# earlier split with more parts removed
expect_status 0 "$PACK" split n1.folio --size 16K -k key.key -o pub/today.folio -f
[ -e pub/today.folio.part010 ] || fail "no 16K parts"
expect_status 0 "$PACK" split n1.folio --size 64K -k key.key -o pub/today.folio --force
assert_same_digest "$before" pub "split --force with the same size"
# a bundle that does not verify is not split, and nothing is written
cp n1.folio bad.folio
printf '\x55' | dd of=bad.folio bs=1 seek=$((size - 5000)) conv=notrunc 2>/dev/null
mkdir badout
expect_reject 1 "^folio-pack: .*'bad.folio'" "$PACK" split bad.folio --size 64K -k key.key -o badout/bad
[ -z "$(ls -A badout)" ] || fail "a failed split left $(ls -A badout)"
# the key must be the bundle's
"$PACK" keygen -o k2 --unencrypted -q || fail "keygen"
expect_reject 1 "^folio-pack: cannot verify 'n1.folio'" "$PACK" split n1.folio --size 64K -k k2.key -o badout/x
[ -z "$(ls -A badout)" ] || fail "a failed split left $(ls -A badout)"
# usage
expect_status 2 "$PACK" split n1.folio -k key.key
expect_stderr_match "split needs -k KEY and --size SIZE"
expect_reject 2 "more than 100000 parts" "$PACK" split n1.folio --size 1 -k key.key -o badout/x
expect_status 2 "$PACK" split n1.folio --size 64K -k key.key -c news
expect_stderr_match "not for split"
expect_status 2 "$PACK" pack src --size 64K -k key.key -c news -o x.folio
expect_stderr_match "--size is for split only"
[ -z "$(ls -A badout)" ] || fail "a usage error wrote $(ls -A badout)"

# ---- parts: which are good ---------------------------------------------------

# count_state STATE: the lines of the last parts output in that state
count_state() {
	grep -c ": $1" "$OUT"
}
expect_status 0 "$UNPACK" parts pub/today.folio.parts -p key.pub
[ "$(count_state good)" = "$n" ] || fail "not all $n parts good"
expect_stdout_match "^all $n parts of 'pub/today.folio.parts' are good: channel news, edition 1, $size bytes$"
expect_stderr_empty
# another key: the index is refused
expect_status 1 "$UNPACK" parts pub/today.folio.parts -p other.pub
expect_stderr_match "cannot verify 'pub/today.folio.parts': signed by key $TEST_KEY_ID, not by the trusted key $OTHER_KEY_ID"
expect_stdout_empty

# one part missing, one damaged (a byte flipped): exactly those two named
cp -R pub work
rm work/today.folio.part002
printf '\x00' | dd of=work/today.folio.part004 bs=1 seek=1234 conv=notrunc 2>/dev/null
cmp -s work/today.folio.part004 pub/today.folio.part004 && printf '\x01' |
	dd of=work/today.folio.part004 bs=1 seek=1234 conv=notrunc 2>/dev/null
expect_status 1 "$UNPACK" parts work/today.folio.parts -p key.pub
expect_stdout_match "^today.folio.part002: missing$"
expect_stdout_match "^today.folio.part004: damaged: its bytes differ from the index \(BLAKE2b\) \(work/today.folio.part004\)$"
[ "$(count_state good)" = $((n - 2)) ] || fail "not $((n - 2)) parts good"
[ "$(count_state missing)" = 1 ] && [ "$(count_state damaged)" = 1 ] || fail "not one missing and one damaged"
expect_stdout_match "^send again: today.folio.part002 today.folio.part004$"
expect_stderr_match "^folio-unpack: 'work/today.folio.parts': 2 of its $n parts are missing or damaged$"
# a part of the wrong size
head -c 1000 pub/today.folio.part003 >work/today.folio.part003
expect_status 1 "$UNPACK" parts work/today.folio.parts -p key.pub
expect_stdout_match "^today.folio.part003: damaged: it has 1000 bytes, not 65536 "
expect_stdout_match "^send again: today.folio.part002 today.folio.part003 today.folio.part004$"
cp pub/today.folio.part003 work/

# two sticks: the missing parts are found in the folders given, and given
# as files, in any order; a good copy counts over a damaged one
mkdir stick1 stick2
cp pub/today.folio.part002 stick1/
cp pub/today.folio.part004 stick2/
expect_status 0 "$UNPACK" parts work/today.folio.parts stick2 stick1 -p key.pub
expect_stdout_match "^today.folio.part002: good \(stick1/today.folio.part002\)$"
expect_stdout_match "^today.folio.part004: good \(stick2/today.folio.part004\)$"
expect_status 0 "$UNPACK" parts stick2/today.folio.part004 work/today.folio.parts stick1/today.folio.part002 -p key.pub
[ "$(count_state good)" = "$n" ] || fail "parts given as files not found"
# only one stick: the other part is still wanted
expect_status 1 "$UNPACK" parts work/today.folio.parts stick1 -p key.pub
expect_stdout_match "^send again: today.folio.part004$"
# a folder that does not exist is a usage error
expect_reject 2 "cannot look in 'stick3': it does not exist" "$UNPACK" parts work/today.folio.parts stick3 -p key.pub
# usage
expect_status 2 "$UNPACK" parts work/today.folio.parts
expect_stderr_match "parts needs one of -p KEY.pub and --library DIR"
expect_status 2 "$UNPACK" parts work/today.folio.parts -p key.pub --library lib
expect_status 2 "$UNPACK" parts -p key.pub
expect_status 2 "$UNPACK" verify n1.folio -p key.pub --partial

# ---- the index is signed and checked strictly --------------------------------

cp -R pub tampered
python3 - tampered/today.folio.parts <<'PY' || fail "tamper"
import sys
p = sys.argv[1]
raw = bytearray(open(p, "rb").read())
i = raw.index(b'"name":"today.folio.part002","size":65536,"blake2b":"') + 53
raw[i] = ord("0") if raw[i] != ord("0") else ord("1")
open(p, "wb").write(raw)
PY
expect_reject 1 "cannot verify 'tampered/today.folio.parts': signature does not match key $TEST_KEY_ID" \
	"$UNPACK" parts tampered/today.folio.parts -p key.pub
rm tampered/today.folio.parts.minisig
expect_reject 1 "cannot verify 'tampered/today.folio.parts': its signature 'tampered/today.folio.parts.minisig' is missing" \
	"$UNPACK" parts tampered/today.folio.parts -p key.pub
# re-signed with the right key but not as folio writes it: refused
if command -v minisign >/dev/null 2>&1; then
	resign() { # FILE COMMENT
		rm -f "$1.minisig"
		minisign -S -s key.key -m "$1" -x "$1.minisig" -t "$2" </dev/null >/dev/null || fail "minisign -S"
	}
	strict() { # PYTHON-EDIT REGEX [COMMENT]
		cp pub/today.folio.parts tampered/today.folio.parts
		python3 - tampered/today.folio.parts "$1" <<'PY' || fail "edit index"
import json, sys
j = json.loads(open(sys.argv[1], "rb").read())
exec(sys.argv[2])
open(sys.argv[1], "wb").write(json.dumps(j, separators=(",", ":")).encode() + b"\n")
PY
		resign tampered/today.folio.parts "${3:-folio-parts-1 channel:news edition:1 parts:$n}"
		expect_reject 1 "cannot verify 'tampered/today.folio.parts': .*$2" \
			"$UNPACK" parts tampered/today.folio.parts -p key.pub
	}
	strict 'pass' 'parts index: trusted comment does not match the index' 'folio-parts-1 channel:news edition:2 parts:'"$n"
	strict 'j["extra"] = 1' 'parts index: the index has fields other than the 7'
	strict 'j["parts"][0]["size"] = 65535' 'has 65535 bytes, not 65536'
	strict 'j["parts"][1]["name"] = "other.part002"' "part 2 is named 'other.part002', not 'today.folio.part002'"
	strict 'j["parts"][0]["name"] = "../x.part001"' "part name '../x.part001' is not NAME.part001"
	strict 'j["bundle"]["size"] += 1' 'parts hold [0-9]+ bytes, the bundle [0-9]+'
	strict 'j["parts"][0]["blake2b"] = j["parts"][0]["blake2b"].upper()' "not 64 lower-case hex digits"
	strict 'j["format"] = "folio-parts-2"' "unknown format 'folio-parts-2'"
	strict 'j["parts"] = j["parts"][:-1]' 'parts of 65536 bytes cannot hold a bundle' "folio-parts-1 channel:news edition:1 parts:$((n - 1))"
else
	echo "note: minisign is not installed: the strict parsing checks are not run"
fi

# ---- the library: parts, key from the library, install ------------------------

expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" parts pub/today.folio.parts --library lib
[ "$(count_state good)" = "$n" ] || fail "parts --library: not all good"
FOLIO_LIBRARY=lib expect_status 0 "$UNPACK" parts pub/today.folio.parts
# a channel the library does not trust
mkdir lib2
expect_status 0 "$UNPACK" trust add sport key.pub --library lib2
expect_reject 1 "cannot verify 'pub/today.folio.parts': it is for channel 'news', which the library 'lib2' does not trust" \
	"$UNPACK" parts pub/today.folio.parts --library lib2

# a missing part: refused, named, the library unchanged
before=$(tree_digest lib)
expect_reject 1 "cannot install 'work/today.folio.parts': 1 of its $n parts is missing or damaged: today.folio.part004 \(damaged\); get them again" \
	"$UNPACK" install work/today.folio.parts stick1 --library lib
assert_same_digest "$before" lib "install with a damaged part"
rm work/today.folio.part004
expect_reject 1 "today.folio.part004 \(missing\)" "$UNPACK" install work/today.folio.parts stick1 --library lib
assert_same_digest "$before" lib "install with a missing part"
# a tampered index
cp pub/today.folio.part* tampered/ 2>/dev/null
python3 - tampered/today.folio.parts <<'PY' || fail "tamper"
import sys
p = sys.argv[1]
raw = bytearray(open("pub/today.folio.parts", "rb").read())
i = raw.index(b'"blake2b":"', raw.index(b'"parts":')) + 11
raw[i] = ord("0") if raw[i] != ord("0") else ord("1")
open(p, "wb").write(raw)
PY
cp pub/today.folio.parts.minisig tampered/
expect_reject 1 "cannot verify 'tampered/today.folio.parts': signature does not match key $TEST_KEY_ID" \
	"$UNPACK" install tampered/today.folio.parts --library lib
assert_same_digest "$before" lib "install with a tampered index"

# the index of another edition beside these parts: every part is damaged
mkdir pub2 mixed
expect_status 0 "$PACK" split n2.folio --size 64K -k key.key -o pub2/today.folio
cp pub/today.folio.part[0-9]* mixed/
cp pub2/today.folio.parts pub2/today.folio.parts.minisig mixed/
expect_status 1 "$UNPACK" parts mixed/today.folio.parts -p key.pub
# A part is good when its bytes are the index's, whichever bundle it came
# from: the two bundles may share a part byte for byte (their last frame,
# the end of the archive, is the same), so count those first.
same=0 differ=0
for f in pub2/today.folio.part[0-9]*; do
	if cmp -s "$f" "mixed/${f##*/}"; then
		same=$((same + 1))
	elif [ -e "mixed/${f##*/}" ]; then
		differ=$((differ + 1))
	fi
done
[ "$differ" -ge 1 ] || fail "the two editions' parts do not differ: the check below would prove nothing"
[ "$(count_state good)" = "$same" ] || fail "a part of edition 1 passed for one of edition 2"
[ "$(count_state damaged)" = "$differ" ] || fail "the parts of edition 1 are not all damaged for edition 2's index"
expect_reject 1 "cannot install 'mixed/today.folio.parts': .* missing or damaged" "$UNPACK" install mixed/today.folio.parts --library lib
assert_same_digest "$before" lib "install from the index of another edition"
# a part of another bundle, given by name, is found damaged, and noted
expect_status 1 "$UNPACK" parts work/today.folio.parts pub2/today.folio.part004 -p key.pub
expect_stdout_match "^today.folio.part004: damaged: .* \(pub2/today.folio.part004\)$"

# a stale temporary file of a killed run is swept; install from parts given
# in any order (the index found beside them) works
printf 'stale' >lib/.folio-library/parts.tmp-0a1b2c3d
shuffled=$(printf '%s\n' "${parts[@]}" | shuf | sed 's|^|pub/|' | tr '\n' ' ')
# shellcheck disable=SC2086
expect_status 0 "$UNPACK" install $shuffled --library lib
expect_stderr_match "installed edition 1 of channel 'news' .* in lib/news/1"
[ -d lib/news/1 ] || fail "edition 1 is not in the library"
[ ! -e lib/.folio-library/parts.tmp-0a1b2c3d ] || fail "the stale parts.tmp was not swept"
[ -z "$(find lib -name 'parts.tmp-*')" ] || fail "install left $(find lib -name 'parts.tmp-*')"
expect_status 0 "$UNPACK" unpack n1.folio -p key.pub -C plain1
[ "$(tree_digest lib/news/1)" = "$(tree_digest plain1)" ] || fail "the edition installed from parts differs from the bundle's"
lib_consistent
# the second stick's parts with the index: edition 2 from parts spread over two folders
mkdir sA sB
mv pub2/today.folio.part00[13] sA/
mv pub2/today.folio.part00[25] sB/
expect_status 0 "$UNPACK" install pub2/today.folio.parts sB sA --library lib
[ -d lib/news/2 ] || fail "edition 2 is not in the library"
lib_consistent

# ---- a channel that delegates signing: the first edition from parts -----------
# The index is signed by the day key; a library pinned to the root learns the
# day key from the key list in the bundle's head, at the start of part 1.

for k in root day day2 day3 day4 day5; do
	expect_status 0 "$PACK" keygen -o $k --unencrypted -q
done
ROOT=$(pub_keyid root.pub)
DAY=$(pub_keyid day.pub)
DAY2=$(pub_keyid day2.pub)
DAY3=$(pub_keyid day3.pub)
DAY4=$(pub_keyid day4.pub)
DAY5=$(pub_keyid day5.pub)
# version 1: day; a branch of it adds day5 (version 2 too, never published);
# the list goes on: day3 for editions 5 to 9 (2), day4 (3), day4 revoked (4)
expect_status 0 "$PACK" delegate -k root.key -p day.pub -c dlg -o dlg.keys -q
cp dlg.keys branch.keys && cp dlg.keys.minisig branch.keys.minisig
expect_status 0 "$PACK" delegate -k root.key -p day5.pub -c dlg -o branch.keys -q
expect_status 0 "$PACK" delegate -k root.key -p day3.pub -c dlg -o dlg.keys --first 5 --last 9 -q
expect_status 0 "$PACK" delegate -k root.key -p day4.pub -c dlg -o dlg.keys -q
expect_status 0 "$PACK" revoke -k root.key -p day4.pub -c dlg -o dlg.keys -q
# dlg_pack KEY LIST EDITION OUT
dlg_pack() {
	lib_src "dsrc$3" "dlg $3"
	head -c 300000 /dev/urandom >"dsrc$3/media/own.bin"
	SOURCE_DATE_EPOCH=$(($(date +%s) - 3600 + $3)) expect_status 0 "$PACK" pack "dsrc$3" -k "$1" -c dlg \
		-e "$3" -t "dlg edition $3" -l 1 --keys "$2" -o "$4" -q
}
dlg_pack day.key dlg.keys 1 d1.folio
dlg_pack day.key dlg.keys 2 d2.folio
dlg_pack day5.key branch.keys 3 d3.folio
# dlg_split BUNDLE KEY SIZE PREFIX: split, verified with the root
dlg_split() {
	mkdir -p "$(dirname "$4")"
	expect_status 0 "$PACK" split "$1" --size "$3" -k "$2" -p root.pub -o "$4" -q
}
dlg_split d1.folio day.key 64K dpub/d.folio
dn=$(ls dpub/d.folio.part[0-9]* | wc -l)
[ "$dn" -ge 5 ] || fail "the delegated bundle is too small for several parts"
expect_status 0 "$UNPACK" trust add dlg root.pub --library dlib -q
export TMPDIR=$PWD/tmp
mkdir tmp
# the root only: the index's key comes from part 1's head
expect_status 0 "$UNPACK" parts dpub/d.folio.parts --library dlib
expect_stdout_match "^all $dn parts of 'dpub/d.folio.parts' are good: channel dlg, edition 1, "
expect_stderr_empty
# -p with the root is not the index's key: no head is read for -p
expect_reject 1 "cannot verify 'dpub/d.folio.parts': signed by key $DAY, not by the trusted key $ROOT" \
	"$UNPACK" parts dpub/d.folio.parts -p root.pub
# part 1 is the head: the rest of the body is not read (part 1 alone, on a
# stick of its own, with the index elsewhere)
mkdir dstick dindex
cp dpub/d.folio.part001 dstick/
cp dpub/d.folio.parts dpub/d.folio.parts.minisig dindex/
expect_status 1 "$UNPACK" parts dindex/d.folio.parts dstick --library dlib
expect_stdout_match "^d.folio.part001: good \(dstick/d.folio.part001\)$"
expect_stdout_match "^d.folio.part002: missing$"
# part 1 not here: the index cannot be checked yet, and says why
expect_reject 1 "^folio-unpack: cannot verify 'dindex/d.folio.parts': signed by key $DAY, which the library does not know yet; the key list that names it comes with part 1, 'd.folio.part001', which is not here: the index's key cannot be checked until part 1 is here$" \
	"$UNPACK" parts dindex/d.folio.parts --library dlib
expect_stdout_empty
before=$(tree_digest dlib)
expect_reject 1 "cannot be checked until part 1 is here" "$UNPACK" install dindex/d.folio.parts --library dlib
assert_same_digest "$before" dlib "install without part 1"
# part 1 damaged: its head does not verify, nothing is believed
cp -R dpub dbad
printf '\x00' | dd of=dbad/d.folio.part001 bs=1 seek=300 conv=notrunc 2>/dev/null
cmp -s dbad/d.folio.part001 dpub/d.folio.part001 && printf '\x01' |
	dd of=dbad/d.folio.part001 bs=1 seek=300 conv=notrunc 2>/dev/null
expect_reject 1 "cannot verify 'dbad/d.folio.parts': signed by key $DAY, which the library does not know yet; the bundle's head, whose key list would name it, is not whole and good" \
	"$UNPACK" parts dbad/d.folio.parts --library dlib
# the index re-signed by a key the list does not name, by one outside its
# range, by a revoked one: refused (split signs with -k, verifies with -p)
dlg_split d1.folio day2.key 64K dk2/d.folio
expect_reject 1 "^folio-unpack: cannot verify 'dk2/d.folio.parts': signed by key $DAY2, which is neither the root key of channel 'dlg' \($ROOT\) nor a key of the key list \(version 4\) that 'dk2/d.folio.part001' carries$" \
	"$UNPACK" parts dk2/d.folio.parts --library dlib
expect_reject 1 "signed by key $DAY2, which is neither" "$UNPACK" install dk2/d.folio.parts --library dlib
assert_same_digest "$before" dlib "install from an index of a key the list does not name"
dlg_split d1.folio day3.key 64K dk3/d.folio
expect_reject 1 "^folio-unpack: cannot verify 'dk3/d.folio.parts': edition 1 is outside the editions key $DAY3 may sign \(5 to 9\)$" \
	"$UNPACK" parts dk3/d.folio.parts --library dlib
dlg_split d1.folio day4.key 64K dk4/d.folio
expect_reject 1 "^folio-unpack: cannot verify 'dk4/d.folio.parts': signed by key $DAY4, which the publisher of channel 'dlg' revoked \(key list version 4\)$" \
	"$UNPACK" parts dk4/d.folio.parts --library dlib
# mix and match: edition 2's index (same day key) with edition 1's part 1
dlg_split d2.folio day.key 64K dpub2/d.folio
mkdir dmix
cp dpub2/d.folio.parts dpub2/d.folio.parts.minisig dmix/
cp dpub/d.folio.part001 dmix/
expect_reject 1 "^folio-unpack: cannot verify 'dmix/d.folio.parts': it is not the index of the bundle whose part 1 is here \(its manifest is another\); get the index and the parts of one bundle$" \
	"$UNPACK" parts dmix/d.folio.parts --library dlib
expect_reject 1 "it is not the index of the bundle whose part 1 is here" \
	"$UNPACK" install dmix/d.folio.parts dpub2 --library dlib
assert_same_digest "$before" dlib "install from an index with another bundle's part 1"
# tiny parts: the head runs over several parts, joined to read it
dlg_split d1.folio day.key 1K dtiny/d.folio
expect_status 0 "$UNPACK" parts dtiny/d.folio.parts --library dlib
expect_stdout_match "^all [0-9]+ parts of 'dtiny/d.folio.parts' are good"
rm dtiny/d.folio.part002
expect_reject 1 "cannot verify 'dtiny/d.folio.parts': signed by key $DAY, which the library does not know yet; the bundle's head, whose key list would name it, is not whole and good in the first parts here \(.*truncated" \
	"$UNPACK" parts dtiny/d.folio.parts --library dlib
[ -z "$(ls -A tmp)" ] || fail "reading the head left $(ls -A tmp)"
assert_same_digest "$before" dlib "parts"
# a head whose key list another channel's root signed: not this channel's
expect_status 0 "$PACK" keygen -o rootx --unencrypted -q
ROOTX=$(pub_keyid rootx.pub)
expect_status 0 "$UNPACK" trust add other rootx.pub --library dlib -q
expect_status 0 "$PACK" delegate -k rootx.key -p day2.pub -c dlg -o forged.keys -q
dlg_pack day2.key forged.keys 1 dx.folio
mkdir dx
expect_status 0 "$PACK" split dx.folio --size 64K -k day2.key -p rootx.pub -o dx/d.folio -q
expect_reject 1 "^folio-unpack: cannot verify 'dx/d.folio.parts': 'dx/d.folio.part001' says it is for channel 'dlg' but is signed by key $ROOTX, not by key $ROOT, the one channel 'dlg' is pinned to$" \
	"$UNPACK" parts dx/d.folio.parts --library dlib
before=$(tree_digest dlib)

# install from parts: the first edition, then the library knows the key
expect_status 0 "$UNPACK" install dindex/d.folio.parts dstick dpub --library dlib
expect_stderr_match "installed edition 1 of channel 'dlg' .* in dlib/dlg/1"
expect_status 0 "$UNPACK" unpack d1.folio -p root.pub -C dplain1
[ "$(tree_digest dlib/dlg/1)" = "$(tree_digest dplain1)" ] || fail "the delegated edition installed from parts differs"
LIBDIR=dlib lib_consistent
# now known: part 1 is not needed to check the index
rm dpub2/d.folio.part001
expect_status 1 "$UNPACK" parts dpub2/d.folio.parts --library dlib
expect_stdout_match "^send again: d.folio.part001$"
# a key only an older list (a branch, version 2) names is not taken from a
# head once the library has version 4
dlg_split d3.folio day5.key 64K dpub3/d.folio
expect_reject 1 "^folio-unpack: cannot verify 'dpub3/d.folio.parts': signed by key $DAY5, which the newest key list of channel 'dlg' the library 'dlib' accepted \(version 4\) does not name; 'dpub3/d.folio.part001' carries version 2, not a newer one$" \
	"$UNPACK" parts dpub3/d.folio.parts --library dlib
[ -z "$(ls -A tmp)" ] || fail "reading the head left $(ls -A tmp)"
exit 0

# ---- a delta: its manifest is a patch against its base's, so it verifies,
# and splits, only with its base edition's folder ----
cp -R src dsrc
printf 'one more line\n' >>"$(find dsrc -name '*.md' | sort | head -n 1)"
expect_status 0 "$PACK" pack dsrc -k key.key -c news -e 3 -o delta.folio --base n1.folio -q
expect_status 0 "$UNPACK" unpack n1.folio -p key.pub -C dbase -q
expect_status 1 "$PACK" split delta.folio --size 4K -k key.key -o dsplit/delta.folio
expect_stderr_match "it is a delta against edition"
[ -e dsplit ] && fail "a refused split left dsplit"
mkdir dsplit
expect_status 2 "$PACK" split delta.folio --size 4K -k key.key -o dsplit/delta.folio --base n1.folio
expect_status 0 "$PACK" split delta.folio --size 4K -k key.key -o dsplit/delta.folio --base dbase
cat dsplit/delta.folio.part[0-9]* | cmp -s - delta.folio || fail "the delta's parts do not make the delta"
expect_status 0 "$UNPACK" parts dsplit/delta.folio.parts -p key.pub
