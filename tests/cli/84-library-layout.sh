# SPDX-License-Identifier: ISC
# The library: trust, install, layout (DIR/CHANNEL/EDITION exactly as
# unpack makes it), the library page, identical files shared between
# editions (one inode), status and its JSON, two channels, trust remove,
# usage errors.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
export FOLIO_LIBRARY=
lib_src s1 1
lib_src s2 2
lib_pack s1 key.key news 1 n1.folio
lib_pack s2 key.key news 2 n2.folio
lib_pack s1 key.key sport 7 s7.folio

# Not a library yet: status and check say so (exit 2), and make nothing.
expect_reject 2 "^folio-unpack: 'lib' is not a folio library" "$UNPACK" status --library lib
[ ! -e lib ] || fail "status made the library"
usage() {
	local re=$1
	shift
	expect_status 2 "$@"
	expect_stderr_match "^folio-unpack: .*$re"
	expect_stderr_match "^usage: "
}
usage "needs --library DIR" "$UNPACK" status
usage "takes two arguments" "$UNPACK" trust add news --library lib
usage "prune needs --keep" "$UNPACK" prune --library lib
usage "duration" "$UNPACK" install n1.folio --library lib --future-margin 3x
usage "--json is for status" "$UNPACK" install n1.folio --library lib --json
usage "for the library commands" "$UNPACK" verify n1.folio -p key.pub --library lib
[ ! -e lib ] || fail "a usage error made the library"

expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_stderr_match "now trusts 'key.pub' for channel 'news'"
expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_stderr_match "already trusts .*nothing to do"
# FOLIO_LIBRARY stands for --library
FOLIO_LIBRARY=lib expect_status 0 "$UNPACK" trust add sport key.pub
[ -f lib/.folio-library/state.json ] && [ -f lib/index.html ] || fail "no state or page after trust add"

expect_status 0 "$UNPACK" install n1.folio --library lib
expect_stderr_match "^folio-unpack: installed edition 1 of channel 'news' \(news edition 1\) in lib/news/1: [0-9]+ files, [0-9]+ bytes, 0 of them shared"
expect_status 0 "$UNPACK" install n2.folio --library lib
expect_stderr_match "installed edition 2 of channel 'news' .* in lib/news/2: .*, [1-9][0-9]* of them shared"
expect_status 0 "$UNPACK" install s7.folio --library lib -q
expect_stderr_empty

# Each edition is what unpack makes of its bundle.
for e in news/1:n1 news/2:n2 sport/7:s7; do
	expect_status 0 "$UNPACK" unpack "${e#*:}.folio" -p key.pub -C "plain-${e#*:}"
	[ "$(tree_digest "lib/${e%:*}")" = "$(tree_digest "plain-${e#*:}")" ] ||
		fail "lib/${e%:*} differs from a plain unpack of ${e#*:}.folio"
done
cmp -s lib/news/2/.folio/manifest.json plain-n2/.folio/manifest.json || fail "kept manifest differs"
# Identical files are one inode; different ones are not.
i1=$(stat -c %i lib/news/1/media/same.bin) i2=$(stat -c %i lib/news/2/media/same.bin)
i7=$(stat -c %i lib/sport/7/media/same.bin)
[ "$i1" = "$i2" ] && [ "$i1" = "$i7" ] || fail "media/same.bin is not shared ($i1 $i2 $i7)"
[ "$(stat -c %i lib/news/1/tag.txt)" != "$(stat -c %i lib/news/2/tag.txt)" ] || fail "tag.txt shared"
[ "$(stat -c %i lib/news/1/tag.txt)" = "$(stat -c %i lib/sport/7/tag.txt)" ] || fail "identical tag.txt of two channels not shared"
# the kept signed files are not shared
[ "$(stat -c %h lib/news/1/.folio/manifest.json)" = 1 ] || fail "kept manifest is a shared link"
obj=$(find lib/.folio-library/objects -type f -size 256k)
[ "$(stat -c %h "$obj")" = 4 ] || fail "the shared object has $(stat -c %h "$obj") links, not 4"

# status: text and JSON; disk use counts shared files once
expect_status 0 "$UNPACK" status --library lib
expect_stdout_match '^channel news: root key 6100CC97C9C90BEA, newest edition accepted 2'
expect_stdout_match '^ +2  made .* news edition 2$'
expect_stdout_match '^sharing: identical files are shared'
expect_stdout_match '^consistent: yes'
bytes=$(lib_json bytes) unshared=$(lib_json bytes_unshared)
du=$(du -sb lib | cut -f1)
[ "$bytes" = "$du" ] || fail "status bytes $bytes, du -sb says $du"
[ "$bytes" -lt "$unshared" ] || fail "sharing saves nothing: $bytes >= $unshared"
[ "$(lib_json consistent)" = true ] || fail "not consistent"
[ "$(lib_json channels.0.editions.0.edition)" = 2 ] || fail "editions not newest first"
[ "$(lib_json channels.1.channel)" = sport ] || fail "channel sport missing"
[ "$(lib_json channels.0.signers)" = '{"6100CC97C9C90BEA": 2}' ] || fail "signers: $(lib_json channels.0.signers)"
python3 - lib/.folio-library/state.json <<'PY' || fail "state.json"
import json, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"}\n") and b"\n" not in raw[:-1], raw
s = json.loads(raw)
assert s["format"] == "folio-library-1"
c = s["channels"]["news"]
assert c["edition"] == 2 and c["root_id"] == "6100CC97C9C90BEA" and c["root"].startswith("RW"), c
assert c["signers"] == {"6100CC97C9C90BEA": 2}
PY

# The library page: both channels, editions newest first, linking each
# edition's page, the reader pages' CSP, no script.
python3 - lib/index.html <<'PY' || fail "the library page"
import re, sys
p = open(sys.argv[1], encoding="utf-8").read()
assert "Content-Security-Policy" in p and "default-src 'none'" in p
assert "<script" not in p
links = re.findall(r'href="([^"]+)"', p)
assert links == ["news/2/index.html", "news/1/index.html", "sport/7/index.html"], links
assert 'dir="auto"' in p and "prefers-color-scheme:dark" in p
PY
for l in news/2/index.html news/1/index.html sport/7/index.html; do
	[ -f "lib/$l" ] || fail "the page links lib/$l, which is missing"
done

# trust remove: editions stay, no more installs
expect_status 0 "$UNPACK" trust remove sport --library lib
expect_stderr_match "no longer trusts channel 'sport'"
[ -d lib/sport/7 ] || fail "trust remove removed an edition"
lib_pack s2 key.key sport 8 s8.folio
before=$(tree_digest lib)
expect_reject 1 "cannot install 's8.folio': channel 'sport' is no longer trusted" "$UNPACK" install s8.folio --library lib
assert_same_digest "$before" lib "install into an untrusted channel"
expect_reject 2 "channel 'sport' is not trusted" "$UNPACK" trust remove sport --library lib
# trusted again: its floor is kept
expect_status 0 "$UNPACK" trust add sport key.pub --library lib
lib_pack s2 key.key sport 6 s6.folio
expect_reject 1 "edition 6 of channel 'sport' is older than edition 7" "$UNPACK" install s6.folio --library lib
expect_status 0 "$UNPACK" install s8.folio --library lib
lib_consistent
# another key for a pinned channel needs --force; the floors stay, and check
# then finds the editions signed by the old key
expect_reject 2 "pinned to key 6100CC97C9C90BEA.*--force" "$UNPACK" trust add sport other.pub --library lib
expect_status 0 "$UNPACK" trust add sport other.pub --library lib --force
[ "$(lib_json channels.1.root_id)" = "$OTHER_KEY_ID" ] || fail "root not replaced"
[ "$(lib_json channels.1.edition)" = 8 ] || fail "floor lost on key replacement"
expect_status 1 "$UNPACK" check --library lib
expect_stderr_match "lib/sport/8/.folio/manifest.json.*not by the trusted key $OTHER_KEY_ID"
exit 0
