# SPDX-License-Identifier: ISC
# A library on a FAT-family stick through FUSE: no hard links (link(2) says
# EPERM or ENOSYS) and no renameat2 flags (EINVAL).  Installs work with plain
# copies, status says sharing is unavailable, prune and check work, a killed
# install leaves a consistent library.  fusefat is tried first; fusefat
# 0.1.x loses a folder's contents when it renames it (a bug of fusefat: every
# staged edition would arrive empty), and then exFAT through exfat-fuse on a
# loop device is used.  Names are ASCII: fusefat refuses others (EPERM).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

[ -c /dev/fuse ] || skip "/dev/fuse is missing: FUSE file systems cannot be mounted here"
need fusermount
lib_exit=$(trap -p EXIT)
eval "set -- $lib_exit"
LIB_EXIT=${3:-}
MNT=$PWD/stick LOOP=
cleanup() {
	fusermount -u "$MNT" 2>/dev/null
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	eval "$LIB_EXIT"
}
trap cleanup EXIT
mkdir stick
fs=
if command -v fusefat >/dev/null 2>&1 && command -v mkfs.vfat >/dev/null 2>&1; then
	mkfs.vfat -C fat.img 16384 >/dev/null || fail "mkfs.vfat"
	if fusefat -o rw+ fat.img "$MNT" >/dev/null 2>&1; then
		mkdir -p stick/probe/a && echo x >stick/probe/a/f && mv stick/probe/a stick/probe/b
		if [ -f stick/probe/b/f ]; then
			fs=fusefat
			rm -rf stick/probe
		else
			echo "note: fusefat loses the contents of a folder it renames: using exFAT (exfat-fuse) instead"
			fusermount -u "$MNT"
		fi
	else
		echo "note: fusefat cannot mount here"
	fi
fi
if [ -z "$fs" ]; then
	command -v mount.exfat-fuse >/dev/null 2>&1 && command -v mkfs.exfat >/dev/null 2>&1 ||
		skip "neither a working fusefat nor exfat-fuse and exfatprogs are installed (tools/install-deps)"
	truncate -s 32M exfat.img && mkfs.exfat exfat.img >/dev/null 2>&1 || fail "mkfs.exfat"
	LOOP=$(losetup -f --show exfat.img 2>/dev/null) || skip "no loop device for the exFAT image (needs root)"
	mount.exfat-fuse "$LOOP" "$MNT" >/dev/null 2>&1 || skip "exfat-fuse cannot mount here"
	fs=exfat-fuse
fi
echo "file system: $fs"
ln stick/x stick/y 2>/dev/null && fail "$fs makes hard links: this test needs one that does not"

use_test_keys
ascii() { # ascii DIR TAG
	mkdir -p "$1/news" "$1/media"
	printf 'edition %s\n' "$2" >"$1/tag.txt"
	printf '<p>page %s</p>\n' "$2" >"$1/news/b.html"
	printf 'same in every edition\n' >"$1/media/same.txt"
	cp "$1/media/same.txt" "$1/media/copy.txt"
}
for e in 1 2 3; do
	ascii "s$e" "$e"
	lib_pack "s$e" key.key news "$e" "n$e.folio"
done
LIBDIR=stick/lib
expect_status 0 "$UNPACK" trust add news key.pub --library "$LIBDIR"
for e in 1 2 3; do
	expect_status 0 "$UNPACK" install "n$e.folio" --library "$LIBDIR"
	expect_stderr_match "installed edition $e of channel 'news' .*0 of them shared.*plain copies"
done
expect_status 0 "$UNPACK" unpack n3.folio -p key.pub -C plain3
diff -r stick/lib/news/3 plain3 >/dev/null || fail "edition 3 on $fs differs from a plain unpack (modes aside)"
expect_status 0 "$UNPACK" status --library "$LIBDIR"
expect_stdout_match '^sharing: unavailable on this file system'
[ "$(lib_json sharing)" = false ] || fail "status --json: sharing is not false"
lib_consistent
# same edition: nothing to do; --force re-installs over it (rename fallback)
expect_status 0 "$UNPACK" install n3.folio --library "$LIBDIR"
expect_stderr_match "already installed: nothing to do"
expect_status 0 "$UNPACK" install n3.folio --library "$LIBDIR" --force
lib_consistent
expect_reject 1 "older than edition 3" "$UNPACK" install n2.folio --library "$LIBDIR"
# prune
expect_status 0 "$UNPACK" prune --library "$LIBDIR" --keep 1
[ "$(lib_editions)" = "news/3 " ] || fail "after prune on $fs: $(lib_editions)"
lib_consistent
# a killed install (strace, before each rename) leaves a consistent library
if command -v strace >/dev/null 2>&1 && strace -qq -o /dev/null true 2>/dev/null; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	ascii s4 4
	lib_pack s4 key.key news 4 n4.folio
	for k in 1 2 3 4; do
		(exec 2>/dev/null; strace -qq -o /dev/null -e trace=rename,renameat,renameat2 \
			-e inject="rename,renameat,renameat2:signal=KILL:when=$k" \
			"$UNPACK" install n4.folio --library "$LIBDIR" -q >/dev/null 2>&1)
		expect_status 0 "$UNPACK" status --library "$LIBDIR"
		expect_stdout_match '^consistent: yes'
		[ -d stick/lib/news/3 ] || fail "killed at rename #$k: edition 3 is gone"
		expect_status 0 "$UNPACK" install n4.folio --library "$LIBDIR" -q
		lib_consistent
		rm -rf stick/lib/news/4
		python3 - stick/lib/.folio-library/state.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["channels"]["news"]["edition"] = 3
open(sys.argv[1], "w").write(json.dumps(s, separators=(",", ":")) + "\n")
PY
	done
fi
exit 0
