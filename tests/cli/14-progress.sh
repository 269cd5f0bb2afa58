# SPDX-License-Identifier: ISC
# Progress: on a terminal (stderr a pseudo-terminal, stdout a pipe) pack,
# unpack, verify and install draw one line per phase with the files done and
# the total, cleared before any message and at the end; nothing with -q, and
# never a \r or an escape when stderr is not a terminal.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys

TTY=$SCRATCH/tty
# on_tty COLUMNS cmd...: runs cmd with stderr on a pseudo-terminal COLUMNS
# wide and stdout to "$OUT"; what reached the terminal, byte for byte, is in
# "$TTY".  Its status is on_tty's.
cat >"$SCRATCH/on-tty.py" <<'EOF'
import fcntl, os, struct, subprocess, sys, termios
cols, tty, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    master, slave = os.openpty()
except OSError as e:
    print("no pseudo-terminal: %s" % e)
    sys.exit(77)
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
with open(out, "wb") as o:
    p = subprocess.Popen(sys.argv[4:], stdout=o, stderr=slave)
os.close(slave)
got = b""
while True:  # read as it comes: a full terminal would block the program
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: every writer is gone
        break
    if not chunk:
        break
    got += chunk
with open(tty, "wb") as t:
    t.write(got)
sys.exit(p.wait())
EOF
on_tty() {
	local cols=$1 got
	shift
	LAST_CMD="(stderr on a terminal) $*"
	python3 "$SCRATCH/on-tty.py" "$cols" "$TTY" "$OUT" "$@"
	got=$?
	[ "$got" != 77 ] || skip "no pseudo-terminal here"
	return "$got"
}

# check_tty: the progress lines drawn (the text between \r and \033[K), one
# a line, into "$SCRATCH/drawn"; fails unless the last one was cleared
# ("\r\033[K") before anything else was written, and what followed has no
# \r but the terminal's line ends, and no escape.
cat >"$SCRATCH/check-tty.py" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
drawn = [m.group(1) for m in re.finditer(rb"\r([^\r\x1b]*)\x1b\[K", data)]
with open(sys.argv[2], "wb") as f:
    f.write(b"".join(d + b"\n" for d in drawn if d))
last = data.rfind(b"\x1b[K")
if last >= 0:
    if data[last - 1:last] != b"\r":
        sys.exit("the last progress line was not cleared: %r" % data[max(0, last - 80):last + 3])
    rest = data[last + 3:]
    if b"\x1b" in rest or re.search(rb"\r(?!\n)", rest):
        sys.exit("stray \\r or escape after the progress: %r" % rest[:200])
EOF
check_tty() {
	python3 "$SCRATCH/check-tty.py" "$TTY" "$SCRATCH/drawn" || {
		show_last
		printf '  --- terminal ---\n' >&2
		head -c 4000 "$TTY" | cat -v | sed 's/^/  | /' >&2
		fail "the terminal was left unclean"
	}
}
# drawn_match REGEX: a progress line drawn matches REGEX (grep -E).
drawn_match() {
	grep -Eq -- "$1" "$SCRATCH/drawn" || {
		printf '  --- lines drawn ---\n' >&2
		sed 's/^/  | /' "$SCRATCH/drawn" >&2
		fail "no progress line matches '$1'"
	}
}

# 60 files, 15 of them twice (the same content is stored once, still 60
# files), in a few folders.
mkdir -p src/a src/b
for i in $(seq 1 45); do
	seq "$i" 3000 >"src/a/f$i.txt"
done
for i in $(seq 1 15); do
	cp "src/a/f$i.txt" "src/b/same$i.txt"
done
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(recent_epoch)

# --- pack ----------------------------------------------------------------------
on_tty 100 "$PACK" pack --verbatim src -k key.key -c chan -l 3 -o b.folio || {
	show_last
	fail "pack on a terminal failed"
}
[ ! -s "$OUT" ] || fail "pack wrote to stdout: $(head -c 200 "$OUT")"
check_tty
drawn_match '^hashing +60/60 files  [0-9.]+/[0-9.]+ (B|KiB|MiB)'
drawn_match '^compressing +60/60 files  '
# the summary is on a line of its own, after the cleared progress
grep -aq "$(printf '\r\033\\[K')folio-pack: packed 'b.folio': .* 60 files (45 stored)" "$TTY" ||
	fail "the summary does not follow the cleared progress line"
# every line fits a terminal 30 wide (29 columns: the last one may wrap)
on_tty 30 "$PACK" pack --verbatim src -k key.key -c chan -l 3 -o b30.folio || fail "pack, 30 columns"
check_tty
drawn_match '^compressing +60/60 files'
awk 'length($0) > 29 { print; bad = 1 } END { exit bad }' "$SCRATCH/drawn" ||
	fail "a progress line is wider than the terminal"

# The reader's edition: articles are prepared first.  A warning starts a line
# of its own (the progress line is cleared before it).
mkdir web
printf '# Title\n\ntext\n' >web/a.md
printf '<!DOCTYPE html><html><head><title>T</title></head><body><img src="http://example.com/x.jpg" alt=""></body></html>\n' >web/remote.html
on_tty 100 "$PACK" pack web -k key.key -c chan -l 3 -o web.folio || fail "pack web on a terminal"
check_tty
drawn_match '^preparing +2/2 files'
grep -aq "$(printf '\r\033\\[K')folio-pack: warning: 'web/remote.html' loads" "$TTY" ||
	fail "the warning does not start on a cleared line"

# -q: nothing at all on the terminal
on_tty 100 "$PACK" pack -q --verbatim src -k key.key -c chan -l 3 -o bq.folio || fail "pack -q"
[ ! -s "$TTY" ] || fail "pack -q wrote to the terminal: $(cat -v "$TTY" | head -c 300)"

# stderr not a terminal: the summary only, no \r, no escape
expect_status 0 "$PACK" pack --verbatim src -k key.key -c chan -l 3 -o bf.folio
expect_stderr_clean
expect_stderr_lines 1

# --- unpack, verify, install ---------------------------------------------------------
on_tty 100 "$UNPACK" unpack b.folio -p key.pub -C dest || { show_last; fail "unpack on a terminal"; }
[ ! -s "$OUT" ] || fail "unpack wrote to stdout"
check_tty
drawn_match '^unpacking +60/60 files  [0-9.]+/[0-9.]+ (B|KiB|MiB)'
grep -aq "$(printf '\r\033\\[K')folio-unpack: unpacked edition .* into 'dest': 60 files" "$TTY" ||
	fail "the unpack summary does not follow the cleared progress line"
diff -r -x .folio src dest || fail "unpacked on a terminal, the files differ"

on_tty 100 "$UNPACK" unpack -q b.folio -p key.pub -C destq || fail "unpack -q"
[ ! -s "$TTY" ] || fail "unpack -q wrote to the terminal: $(cat -v "$TTY" | head -c 300)"

# From a pipe the bundle's size is unknown: bytes read, no total.
on_tty 100 sh -c 'cat b.folio | "$1" verify - -p key.pub' sh "$UNPACK" || fail "verify - on a terminal"
check_tty
drawn_match '^verifying +60/60 files  [0-9.]+ (B|KiB|MiB)$'

# A refusal: the progress is cleared, the error is one line of its own.
head -c "$(($(wc -c <b.folio) / 2))" b.folio >half.folio
on_tty 100 "$UNPACK" verify half.folio -p key.pub
[ $? = 1 ] || fail "a truncated bundle was not refused"
check_tty
grep -aq "folio-unpack: cannot verify 'half.folio': truncated" "$TTY" || fail "no refusal on the terminal"

expect_status 0 "$UNPACK" unpack b.folio -p key.pub -C destf
expect_stderr_clean
expect_stderr_lines 1

expect_status 0 "$UNPACK" trust add chan key.pub --library lib
on_tty 100 "$UNPACK" install b.folio --library lib || { show_last; fail "install on a terminal"; }
check_tty
drawn_match '^unpacking +60/60 files'
grep -aq "$(printf '\r\033\\[K')folio-unpack: installed edition" "$TTY" ||
	fail "the install summary does not follow the cleared progress line"
exit 0
