# SPDX-License-Identifier: ISC
# Helpers for the CLI tests in tests/cli/*.sh, sourced through $TESTLIB.
#
# tests/run-cli runs each test in a fresh empty folder (the current folder) with
# FOLIO_BIN, SHARED, FIXTURES and TESTLIB set.  A test exits 0 to pass, 77 to be
# skipped (skip prints the reason), anything else fails.  expect_status keeps
# the last command's output in "$OUT" and "$ERR", outside the test's folder, so
# that a tree digest of the test's folder sees only what the programs wrote.

set -u

: "${FOLIO_BIN:?FOLIO_BIN must name the folder holding folio-pack and folio-unpack}"
: "${FIXTURES:?FIXTURES must name the fixtures folder of the repository}"
SHARED=${SHARED:-}

PACK=$FOLIO_BIN/folio-pack
UNPACK=$FOLIO_BIN/folio-unpack

# Scratch space for captured output, beside (not inside) the test's folder.
if [ -n "${FOLIO_TEST_SCRATCH:-}" ]; then
	SCRATCH=$FOLIO_TEST_SCRATCH
	mkdir -p "$SCRATCH"
else
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/folio-cli-scratch.XXXXXX")
	trap 'rm -rf "$SCRATCH"' EXIT
fi
OUT=$SCRATCH/stdout
ERR=$SCRATCH/stderr
: >"$OUT"
: >"$ERR"
LAST_CMD=

# python3, resolved once: a version manager's shim costs ~0.1 s a call.
# -S: the standard library is all the tests use.
if [ -z "${FOLIO_TEST_PYTHON:-}" ]; then
	FOLIO_TEST_PYTHON=$(command python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
		FOLIO_TEST_PYTHON=python3
	export FOLIO_TEST_PYTHON
fi
python3() {
	"$FOLIO_TEST_PYTHON" -S "$@"
}

# The test folder gets a sane, fixed environment: no inherited creation time,
# a known umask, and no terminal on standard input.
unset SOURCE_DATE_EPOCH
umask 022
export LC_ALL=C.UTF-8 TZ=UTC

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf '%s\n' "$*"
	exit 77
}

# Shows the last command, its stdout and its stderr (for failure messages).
show_last() {
	printf '  command: %s\n' "$LAST_CMD" >&2
	printf '  --- stdout (%s bytes) ---\n' "$(wc -c <"$OUT")" >&2
	head -c 4000 "$OUT" | cat -v | sed 's/^/  | /' >&2
	printf '  --- stderr ---\n' >&2
	head -c 4000 "$ERR" | cat -v | sed 's/^/  | /' >&2
}

# expect_status N cmd...: runs cmd (stdin inherited), stdout to "$OUT", stderr to
# "$ERR"; fails showing both unless its exit status is N.
expect_status() {
	local want=$1 got
	shift
	LAST_CMD=$*
	"$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" != "$want" ]; then
		printf 'FAIL: expected exit status %s, got %s\n' "$want" "$got" >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

# expect_status_in "N M..." cmd...: like expect_status, any of the statuses.
expect_status_in() {
	local want=$1 got w
	shift
	LAST_CMD=$*
	"$@" >"$OUT" 2>"$ERR"
	got=$?
	for w in $want; do
		[ "$got" = "$w" ] && return 0
	done
	printf 'FAIL: expected exit status in {%s}, got %s\n' "$want" "$got" >&2
	show_last
	caller 0 | sed 's/^/  at line /' >&2
	exit 1
}

# expect_stderr_match REGEX: the last command's stderr has a line matching the
# extended regular expression.
expect_stderr_match() {
	if ! grep -Eq -- "$1" "$ERR"; then
		printf 'FAIL: stderr does not match /%s/\n' "$1" >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

expect_stdout_match() {
	if ! grep -Eq -- "$1" "$OUT"; then
		printf 'FAIL: stdout does not match /%s/\n' "$1" >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

# expect_stderr_lines N: the last command printed exactly N lines on stderr
# (an error is one line).
expect_stderr_lines() {
	local n
	n=$(wc -l <"$ERR")
	if [ "$n" != "$1" ]; then
		printf 'FAIL: expected %s line(s) on stderr, got %s\n' "$1" "$n" >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

expect_stdout_empty() {
	if [ -s "$OUT" ]; then
		printf 'FAIL: expected nothing on stdout\n' >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

expect_stderr_empty() {
	if [ -s "$ERR" ]; then
		printf 'FAIL: expected nothing on stderr\n' >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

# expect_stderr_clean: no control characters on stderr but the line ends (a
# hostile name must not reach the terminal raw).
expect_stderr_clean() {
	if tr -d '\n' <"$ERR" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		printf 'FAIL: control characters on stderr\n' >&2
		show_last
		caller 0 | sed 's/^/  at line /' >&2
		exit 1
	fi
}

# expect_reject N REGEX cmd...: status N, one line on stderr matching REGEX,
# without control characters, nothing on stdout.  The usual shape of a refusal.
expect_reject() {
	local want=$1 re=$2
	shift 2
	expect_status "$want" "$@"
	expect_stderr_match "$re"
	expect_stderr_lines 1
	expect_stderr_clean
	expect_stdout_empty
}

# re_quote TEXT: TEXT with the extended-regex metacharacters escaped.
re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# err_re PROG FILE PROBLEM: a regex for "PROG: ... 'FILE' ...: ... PROBLEM".
err_re() {
	printf "^%s: .*'%s'.*%s" "$1" "$(re_quote "$2")" "$3"
}

# tree_digest DIR: one line summing up DIR: every path (names, types, modes,
# symlink targets, sizes) and every regular file's content.  "absent" if DIR
# does not exist.  Stable across runs; mtimes are left out on purpose.
tree_digest() {
	if [ ! -e "$1" ] && [ ! -L "$1" ]; then
		echo absent
		return
	fi
	(
		cd "$1" || exit 1
		find . -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	) | sha256sum | cut -d' ' -f1
}

# tree_listing DIR: the same facts, readable, for failure messages.
tree_listing() {
	(cd "$1" && find . -printf '%y %m %s %p\n' | LC_ALL=C sort)
}

# assert_no_staging DIR: no staging folder (.NAME.folio-XXXXXX) left in DIR.
assert_no_staging() {
	local left
	left=$(find "$1" -mindepth 1 -maxdepth 1 -name '.*.folio-*' -print)
	[ -z "$left" ] || fail "staging left behind in $1: $left"
}

# assert_same_digest BEFORE DIR WHAT: DIR's digest is still BEFORE.
assert_same_digest() {
	local now
	now=$(tree_digest "$2")
	if [ "$now" != "$1" ]; then
		printf 'FAIL: %s changed (%s)\n' "$2" "$3" >&2
		[ -d "$2" ] && tree_listing "$2" | sed 's/^/  | /' >&2
		show_last
		exit 1
	fi
}

# need TOOL...: skip the test unless every tool is on PATH.
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			skip "$t is not installed (tools/install-deps installs it)"
	done
}

# sha FILE: the SHA-256 of FILE.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# Test keys: copies of fixtures/keys/ in the current folder (key.key 0600,
# key.pub, other.pub), so no test depends on the checked-out file modes.
use_test_keys() {
	cp "$FIXTURES/keys/test.key" key.key
	chmod 0600 key.key
	cp "$FIXTURES/keys/test.pub" key.pub
	cp "$FIXTURES/keys/other.pub" other.pub
}

TEST_KEY_ID=6100CC97C9C90BEA
OTHER_KEY_ID=2F11F59ED5985007

# A fixed creation time (2025-11-28T14:00:00Z) and a validity that covers
# "now" for a century: bundles made with these are the same bytes every run.
FIXED_EPOCH=1764338400
FIXED_VALIDITY="--valid-days 36500"

# A creation time that verifies now: an hour ago.
recent_epoch() {
	echo $(($(date +%s) - 3600))
}

# make_small_src DIR: a folder with two tiny files.
make_small_src() {
	mkdir -p "$1/news"
	printf 'hello, world\n' >"$1/a.txt"
	printf '<p>tiny</p>\n' >"$1/news/b.html"
}

# Python helper for byte-level work (flip, truncate, rebuild).
TOOL=$(dirname "${TESTLIB:-${BASH_SOURCE[0]}}")/bundle-tool.py

# pub_keyid FILE: the key id of a minisign public key file, as minisign prints it.
pub_keyid() {
	python3 - "$1" <<'PY'
import base64, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
raw = base64.b64decode(lines[1].strip(), validate=True)
if len(raw) != 42 or raw[:2] != b"Ed":
    sys.exit("not a minisign public key")
print(raw[2:10][::-1].hex().upper())
PY
}

# ---- rebuilding bundles with stock tools (for tampering tests) -------------

# bundle_entries BUNDLE: the entry names, in order (needs zstd and tar).
bundle_entries() {
	zstd -dcq -- "$1" | tar -tf -
}

# bundle_extract BUNDLE DIR: every entry into DIR.
bundle_extract() {
	mkdir -p "$2" && zstd -dcq -- "$1" | tar -xf - -C "$2"
}

# bundle_build DIR OUT ENTRY...: a pax tar of DIR's ENTRYs, in that order, with
# fixed metadata, no padding past the two end blocks, in one zstd frame.
# BUILD_TAR_OPTS (split on blanks) adds tar options, e.g. -P --transform=...
bundle_build() {
	local dir=$1 out=$2
	shift 2
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	# shellcheck disable=SC2086
	(set -o pipefail; cd "$dir" && tar --format=pax -b 1 --owner=0 --group=0 --numeric-owner \
		--mtime=@0 --no-recursion --pax-option=delete=atime,delete=ctime \
		${BUILD_TAR_OPTS:-} -cf - -- "$@" | zstd -qc --check >"$out") ||
		fail "bundle_build $out"
}

# edit_manifest DIR PYTHON: runs PYTHON with m = DIR/.folio/manifest.json as
# a dict (key order kept) and F = its files by path, writes it back compact
# (strings may carry lone surrogates "\udcXX" for invalid UTF-8 bytes).
edit_manifest() {
	python3 - "$1/.folio/manifest.json" "$2" <<'PY' || fail "edit_manifest: $2"
import json, sys
path, code = sys.argv[1], sys.argv[2]
m = json.loads(open(path, "rb").read().decode("utf-8"))
F = {f["path"]: f for f in m["files"]}
exec(code)
out = json.dumps(m, ensure_ascii=False, separators=(",", ":"))
open(path, "wb").write(out.encode("utf-8", "surrogateescape"))
PY
}

# sign_manifest DIR KEY: re-signs DIR/.folio/manifest.json with stock minisign
# and the trusted comment folio builds from the manifest.
sign_manifest() {
	local tc uc
	tc=$(python3 - "$1/.folio/manifest.json" <<'PY'
import json, sys, time
m = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "surrogateescape"))
iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
print("folio-1 channel:%s edition:%d created:%s expires:%s"
      % (m["channel"], m["edition"], iso(m["created"]), iso(m["expires"])))
PY
) || fail "sign_manifest: cannot read the manifest"
	uc=$(printf '%s' "$tc" | sed 's/^folio-1 channel:\([^ ]*\) edition:\([0-9]*\).*/folio edition \2 of \1/')
	rm -f "$1/.folio/manifest.json.minisig"
	minisign -S -s "$2" -m "$1/.folio/manifest.json" -x "$1/.folio/manifest.json.minisig" \
		-t "$tc" -c "$uc" </dev/null >/dev/null || fail "sign_manifest: minisign -S failed"
}

# private_mounts "$@" (first thing after sourcing this file, in a test that
# mounts): re-runs the test in a private mount namespace where unshare can
# make one, so that its mounts vanish with it however it ends, and unmounts
# whatever mount_fs mounted when the test exits.
MOUNTS=()
private_mounts() {
	if [ -z "${FOLIO_TEST_UNSHARED:-}" ] && command -v unshare >/dev/null 2>&1 &&
		unshare -m --propagation private true 2>/dev/null; then
		FOLIO_TEST_UNSHARED=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
	local lib_exit
	lib_exit=$(trap -p EXIT)
	eval "set -- $lib_exit"
	MOUNTS_LIB_EXIT=${3:-}
	trap 'unmount_all; eval "$MOUNTS_LIB_EXIT"' EXIT
	trap 'exit 143' TERM INT
}
unmount_all() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -l "${MOUNTS[i]}" 2>/dev/null
	done
}

# mount_fs DIR WHAT MOUNT-ARGS...: mounts on DIR.  If the test's very first
# mount fails, mounting is impossible here: skip, saying that WHAT is not run.
mount_fs() {
	local dir=$1 what=$2
	shift 2
	mkdir -p "$dir" || fail "mkdir $dir"
	if ! mount "$@" "$dir" 2>"$SCRATCH/mount.err"; then
		[ ${#MOUNTS[@]} -eq 0 ] &&
			skip "cannot mount here ($(head -n 1 "$SCRATCH/mount.err")): $what need root (CAP_SYS_ADMIN)"
		fail "mount $* $dir: $(cat "$SCRATCH/mount.err")"
	fi
	MOUNTS+=("$PWD/$dir")
}

# ---- killing a command before each file-changing call (strace) -------------

FS_CALLS='/^(openat|open|creat|mkdirat|mkdir|fchmod|fchmodat|chmod|write|pwrite64|writev|rename|renameat|renameat2|unlink|unlinkat|rmdir|syncfs|fsync|fdatasync|ftruncate|linkat|link)$'
# mutation_points CMD...: runs CMD once under strace and prints, one per line,
# "SYSCALL N" for each call that changes a file (the Nth call of SYSCALL).
# An open counts when its flags match MUTATION_OPENS (a regex; O_CREAT unless
# set).
mutation_points() {
	strace -qq -o "$SCRATCH/trace" -e trace="$FS_CALLS" "$@" >/dev/null 2>&1 ||
		fail "strace $*: status $?"
	awk -v opens="${MUTATION_OPENS:-O_CREAT}" -F'(' '/^[a-z0-9_]+\(/ {
		n[$1]++
		if ($1 ~ /^open/ && $0 !~ opens) next                # opens that change nothing
		if ($1 ~ /^write/ && $0 ~ /^write(v)?\([12],/) next  # stdout, stderr
		print $1, n[$1]
	}' "$SCRATCH/trace"
}

# kill_at SYSCALL N CMD...: runs CMD, SIGKILLed as it enters its Nth SYSCALL.
kill_at() {
	local sc=$1 n=$2 st
	shift 2
	LAST_CMD="$* (killed at $sc #$n)"
	(strace -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=KILL:when=$n" "$@" >"$OUT" 2>"$ERR"
		exit $?) 2>/dev/null
	st=$?
	[ $st = 137 ] || { show_last; fail "strace did not kill at $sc #$n (status $st)"; }
}

# browser_edition: for the browser tests (95, 96).  Packs fixtures/edition
# (no index.html of its own, so folio-pack makes the edition page) with the
# test key into src/ -> news.folio -> dest/, writes the expectations both
# browsers are held to into expect.json (tests/browser/edition_expect.py:
# every article of the signed manifest, and facts pinned by hand), and sets
# CASES to the options naming the fold and token case files.
browser_edition() {
	local repo f
	repo=$(cd "$FIXTURES/.." && pwd)
	cp -R "$FIXTURES/edition" src
	rm -f src/index.html
	use_test_keys
	expect_status 0 "$PACK" pack src -k key.key -c test-news -t 'Cairo News Digest' -o news.folio
	expect_status 0 "$UNPACK" unpack news.folio -p key.pub -C dest
	for f in index.html _folio/search.js _folio/search-index.js; do
		[ -f "dest/$f" ] || fail "pack generated no $f (dest has: $(find dest -mindepth 1 -maxdepth 1 -printf '%f '))"
	done
	python3 "$repo/tests/browser/edition_expect.py" dest/.folio/manifest.json expect.json --source src ||
		fail "the expectations do not hold for the fixture (see above)"
	CASES=()
	for f in fold token; do
		if [ -f "$repo/tests/reader/$f-cases.txt" ]; then
			CASES+=("--$f-cases" "$repo/tests/reader/$f-cases.txt")
		else
			echo "note: $repo/tests/reader/$f-cases.txt missing, JS $f parity not checked"
		fi
	done
}
