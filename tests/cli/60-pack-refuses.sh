# SPDX-License-Identifier: ISC
# pack refuses to ship what it cannot ship safely (exit 1, the message names
# the path, no output written) and never leaves a partial bundle.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
SOURCE_DATE_EPOCH=$(recent_epoch)
export SOURCE_DATE_EPOCH

fresh_src() {
	rm -rf src
	make_small_src src
}

# refused WHAT REGEX: pack src must exit 1 naming REGEX; nothing written,
# and an existing output replaced with --force stays as it was.
refused() {
	local before
	before=$(tree_digest .)
	expect_reject 1 "^folio-pack: .*$2" "$PACK" pack src -k key.key -c chan -l 1 -o out.folio
	assert_same_digest "$before" . "refused pack ($1)"
	printf 'previous bundle\n' >prev.folio
	before=$(tree_digest .)
	expect_status 1 "$PACK" pack src -k key.key -c chan -l 1 -o prev.folio --force
	expect_stderr_match "^folio-pack: .*$2"
	assert_same_digest "$before" . "refused pack over an existing output ($1)"
	rm -f prev.folio
	before=$(tree_digest .)
	expect_status 1 "$PACK" pack src -k key.key -c chan -l 1 -o -
	expect_stderr_match "^folio-pack: .*$2"
	assert_same_digest "$before" . "refused pack to stdout ($1)"
}

# Control: the clean folder packs.
fresh_src
expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o ok.folio
rm -f ok.folio

fresh_src
ln -s a.txt src/news/link.txt
refused symlink "news/link\\.txt"
fresh_src
ln -s /etc src/etc-link
refused "symlink to a folder" "etc-link"
fresh_src
ln -s missing src/dangling
refused "dangling symlink" "dangling"
fresh_src
mkfifo src/news/pipe
refused FIFO "news/pipe"
fresh_src
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' src/sock || fail "socket"
refused socket "sock"
fresh_src
if mknod src/null c 1 3 2>/dev/null; then
	refused "device" "null"
else
	echo "note: mknod not permitted here: device case not checked"
fi
fresh_src
printf x >'src/back\slash.txt'
refused backslash 'back'
fresh_src
mkdir src/.folio
printf '{}' >src/.folio/manifest.json
refused ".folio folder" '\.folio'
fresh_src
printf x >src/.folio
refused ".folio file" '\.folio'
fresh_src
printf x >"src/bad-$(printf '\377\376')-utf8.txt"
refused "invalid UTF-8" 'bad-'

# Names that one FAT or exFAT stick would store as one file: by case, by
# Unicode normalisation (NFC), and folders as well as files.
collides='differ only in case or Unicode normalisation'
fresh_src
printf x >src/news/B.html
refused "case collision" "'news/B\\.html' and 'news/b\\.html' $collides"
fresh_src
mkdir src/News
printf x >src/News/c.html
refused "folder case collision" "'News' and 'news' $collides"
fresh_src
printf x >"src/caf$(printf '\303\251').html"
printf y >"src/cafe$(printf '\314\201').html"
refused "NFC collision" "$collides"
fresh_src
printf x >"src/$(printf '\330\243').html"
printf y >"src/$(printf '\330\247\331\224').html"
refused "Arabic NFC collision" "$collides"

# Source problems of another kind.
before=$(tree_digest .)
expect_status_in "1 2 3" "$PACK" pack no-such-dir -k key.key -c chan -o out.folio
expect_stderr_match "^folio-pack: .*'no-such-dir'"
assert_same_digest "$before" . "pack of a missing folder"
fresh_src
expect_status_in "1 2 3" "$PACK" pack src/a.txt -k key.key -c chan -o out.folio
expect_stderr_match "^folio-pack: .*'src/a\\.txt'"
[ ! -e out.folio ] || fail "pack of a file wrote out.folio"

# A bad key file: exit 1, names the key.
printf 'untrusted comment: nope\nAAAA\n' >bad.key
expect_reject 1 "^folio-pack: .*'bad\\.key'" "$PACK" pack src -k bad.key -c chan -o out.folio
[ ! -e out.folio ] || fail "pack with a bad key wrote out.folio"
expect_reject 1 "^folio-pack: .*'key\\.pub'" "$PACK" pack src -k key.pub -c chan -o out.folio

# An existing output without --force: exit 2, unchanged; with --force: replaced.
printf 'not a bundle\n' >exists.folio
before=$(tree_digest .)
expect_reject 2 "^folio-pack: .*'exists\\.folio'.*(exist|force)" "$PACK" pack src -k key.key -c chan -l 1 -o exists.folio
assert_same_digest "$before" . "pack over an existing output without --force"
expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o exists.folio --force
expect_status 0 "$UNPACK" verify exists.folio -p key.pub
expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o exists.folio -f -q
ls -A | grep -v -x -e src -e key.key -e key.pub -e other.pub -e exists.folio -e bad.key &&
	fail "pack left temporary files behind"

# Bad options: usage errors (exit 2) with a synopsis, nothing written.
before=$(tree_digest .)
for args in \
	"src -k key.key -o x.folio" \
	"src -c chan -o x.folio" \
	"src -k key.key -c chan" \
	"-k key.key -c chan -o x.folio" \
	"src -k key.key -c Bad_Channel -o x.folio" \
	"src -k key.key -c chan -o x.folio -l 0" \
	"src -k key.key -c chan -o x.folio -l 23" \
	"src -k key.key -c chan -o x.folio -l abc" \
	"src -k key.key -c chan -o x.folio -T -1" \
	"src -k key.key -c chan -o x.folio -e 9007199254740992" \
	"src -k key.key -c chan -o x.folio --valid-days 0" \
	"src -k key.key -c chan -o x.folio --no-such-option" \
	"src extra -k key.key -c chan -o x.folio"; do
	# shellcheck disable=SC2086
	expect_status 2 "$PACK" pack $args
	[ -s "$ERR" ] || { show_last; fail "no message for: pack $args"; }
	expect_stdout_empty
done
assert_same_digest "$before" . "usage errors"
expect_status 2 "$PACK" pack src -k key.key -c chan -o x.folio -t "$(printf 'bad\001title')"
[ ! -e x.folio ] || fail "a title with a control character was accepted"

# Control characters in a name: refused, and the message stays one line
# without the raw character (the name is shown escaped).
fresh_src
printf x >"src/news/bell$(printf '\a')name.txt"
refused "control character" "news/bell"
fresh_src
printf x >"src/news/line$(printf '\nbreak').txt"
refused "newline" "news/line"
exit 0
