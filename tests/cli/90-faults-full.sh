# SPDX-License-Identifier: ISC
# A filesystem that fills up, on small tmpfs mounts made here: unpack of a
# bundle bigger than the filesystem, into a fresh DEST and with --force over an
# edition; the same unpack once space is freed; unpack and pack with the free
# space (and the free inodes) stepped up a page (an inode) at a time, so that
# the disk fills at every file in turn; pack -o into a full filesystem.  A
# failure is exit 3 and one line saying "No space left on device" that names
# DEST (or the output), and nothing is written: DEST and everything beside
# it as before, no staging folder, no partial bundle, no temporary file.
# Skipped, saying why, only where no tmpfs can be mounted.

# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
private_mounts "$@"

# mount_tmpfs DIR OPTIONS: a new tmpfs on DIR (skip if mounting is impossible).
mount_tmpfs() {
	mount_fs "$1" "the full-filesystem cases" -t tmpfs -o "$2" folio-test
}
remount() { # DIR OPTIONS
	mount -o "remount,$2" "$1" 2>"$SCRATCH/mount.err" || fail "remount $1 $2: $(cat "$SCRATCH/mount.err")"
}
# fs_digest DIR: tree_digest without folder sizes, which differ from one
# filesystem to another (tmpfs here, the test folder's there).
fs_digest() {
	[ -d "$1" ] || { echo absent; return; }
	(
		cd "$1" || exit 1
		find . -type d -printf '%y %m %p\n' -o -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	) | sha256sum | cut -d' ' -f1
}
used_bytes() { df -B1 --output=used "$1" | tail -n 1 | tr -d ' '; }
used_inodes() { df --output=iused "$1" | tail -n 1 | tr -d ' '; }

# expect_enospc PROG NAME: the last command printed one clean line saying
# "No space left on device".  That it names NAME (DEST, or pack's output) is
# collected and checked at the end, so that every other property is checked
# first.
MISNAMED=
expect_enospc() {
	expect_stderr_lines 1
	expect_stderr_clean
	expect_stdout_empty
	expect_stderr_match "^$1: .*No space left on device\$"
	grep -qF -- "'$2'" "$ERR" ||
		MISNAMED="$MISNAMED  | $(cat "$ERR")   (does not name '$2')
"
}

# run CMD...: like expect_status, any status; it is left in ST.
run() {
	LAST_CMD=$*
	"$@" >"$OUT" 2>"$ERR"
	ST=$?
	case $ST in 0 | 3) ;; *) show_last; fail "expected status 0 or 3, got $ST" ;; esac
}

use_test_keys
bundle() { # SRC EDITION OUT [pack options]: a reproducible bundle
	local src=$1 ed=$2 out=$3
	shift 3
	SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack "$src" -k key.key -c chan \
		-e "$ed" -l 1 $FIXED_VALIDITY -q -o "$out" "$@"
}
make_small_src old_src
make_small_src big_src
head -c 3M /dev/urandom >big_src/big.bin || fail "random data"
bundle old_src 1 old.folio
bundle big_src 2 big.folio
bundle "$FIXTURES/edition" 2 ed.folio
[ "$(stat -c %s big.folio)" -gt 3000000 ] || fail "big.folio is smaller than expected"
for b in old big ed; do
	expect_status 0 "$UNPACK" unpack $b.folio -p key.pub -C ref_$b -q
done
D_BIG=$(fs_digest ref_big)
D_ED=$(fs_digest ref_ed)

# ---- unpack: a bundle bigger than the filesystem ------------------------------
mount_tmpfs full size=2m
before=$(tree_digest .)
expect_status 3 "$UNPACK" unpack big.folio -p key.pub -C full/dest
expect_enospc folio-unpack full/dest
assert_same_digest "$before" . "unpack into a full filesystem"
assert_no_staging full
[ -z "$(ls -A full)" ] || fail "unpack into a full filesystem left: $(ls -A full)"

# --force over an edition already there: that edition stays, byte for byte.
expect_status 0 "$UNPACK" unpack old.folio -p key.pub -C full/dest -q
before=$(tree_digest .)
expect_status 3 "$UNPACK" unpack big.folio -p key.pub -C full/dest --force
expect_enospc folio-unpack full/dest
assert_same_digest "$before" . "unpack --force into a full filesystem"
assert_no_staging full
diff -r ref_old full/dest >/dev/null || fail "the previous edition changed"

# A bigger filesystem, filled up: the same; then, space freed, it succeeds.
remount full size=8m
head -c 6M /dev/zero >full/filler || fail "cannot write the filler"
before=$(tree_digest .)
expect_status 3 "$UNPACK" unpack big.folio -p key.pub -C full/dest --force
expect_enospc folio-unpack full/dest
assert_same_digest "$before" . "unpack --force into a filled-up filesystem"
assert_no_staging full
rm full/filler
expect_status 0 "$UNPACK" unpack big.folio -p key.pub -C full/dest --force
[ "$(fs_digest full/dest)" = "$D_BIG" ] || fail "unpack after freeing space: DEST is not the edition"
[ "$(ls -A full)" = dest ] || fail "unpack after freeing space left: $(ls -A full)"

# ---- unpack: free space stepped up a page at a time ---------------------------
# --force over an edition, so the disk fills while the staging copy is
# written beside it: at each file of the edition in turn.  (Nothing outside
# the mount is written: the digests look at the mount only, for speed.)
# step_up DIR UNIT MIN WHAT OPTION-PREFIX BASE STEP UNPACK-ARGS...: remounts
# DIR with OPTION-PREFIX(BASE + k * STEP) for k = 0, 1, ... and unpacks
# ed.folio into DIR/dest each time: exit 3 with nothing changed in DIR until
# the edition fits, then exactly the edition.  At least MIN failures.
step_up() {
	local dir=$1 unit=$2 min=$3 what=$4 opt=$5 base=$6 step=$7 k fails=0 before
	shift 7
	for k in $(seq 0 64); do
		remount "$dir" "$opt$((base + k * step))"
		before=$(tree_digest "$dir")
		run "$UNPACK" unpack ed.folio -p key.pub -C "$dir/dest" -q "$@"
		if [ $ST = 3 ]; then
			expect_enospc folio-unpack "$dir/dest"
			assert_same_digest "$before" "$dir" "unpack $* with $k free $unit"
			fails=$((fails + 1))
		else
			[ "$(fs_digest "$dir/dest")" = "$D_ED" ] || fail "unpack $* with $k free $unit: DEST is not the edition"
			[ "$(ls -A "$dir")" = dest ] || fail "unpack $* with $k free $unit left: $(ls -A "$dir")"
			break
		fi
	done
	[ $ST = 3 ] && fail "unpack $* never succeeded, even with 64 free $unit"
	echo "unpack${*:+ $*}: ran out of $what $fails times, one more each time, then succeeded"
	[ $fails -ge "$min" ] || fail "only $fails out-of-$what failures for an edition of 12 files in 9 folders"
}
mount_tmpfs step size=1m
expect_status 0 "$UNPACK" unpack old.folio -p key.pub -C step/dest -q
step_up step pages 10 space size= "$(used_bytes step)" 4096 --force

# Into a fresh DEST, free inodes stepped up one at a time: mkdir and create
# fail in turn.
mount_tmpfs inodes size=1m
step_up inodes inodes 20 inodes nr_inodes= "$(used_inodes inodes)" 1

# ---- pack -o into a full filesystem ------------------------------------------
mount_tmpfs pfull size=1m
before=$(tree_digest .)
expect_status 3 "$PACK" pack big_src -k key.key -c chan -l 1 -o pfull/out.folio
expect_enospc folio-pack pfull/out.folio
assert_same_digest "$before" . "pack into a full filesystem"
[ -z "$(ls -A pfull)" ] || fail "pack into a full filesystem left: $(ls -A pfull)"

# -f over a bundle: that bundle stays as it was.
cp old.folio pfull/out.folio
before=$(tree_digest .)
expect_status 3 "$PACK" pack big_src -k key.key -c chan -l 1 -o pfull/out.folio -f
expect_enospc folio-pack pfull/out.folio
assert_same_digest "$before" . "pack -f into a full filesystem"
[ "$(ls -A pfull)" = out.folio ] || fail "pack -f into a full filesystem left: $(ls -A pfull)"
cmp -s old.folio pfull/out.folio || fail "pack -f into a full filesystem changed the old bundle"

# Free space stepped up a page at a time: fails, then the whole bundle.
base=$(used_bytes pfull)
fails=0
for k in $(seq 0 64); do
	remount pfull "size=$((base + k * 4096))"
	before=$(tree_digest pfull)
	SOURCE_DATE_EPOCH=$FIXED_EPOCH run "$PACK" pack "$FIXTURES/edition" \
		-k key.key -c chan -e 2 -l 1 $FIXED_VALIDITY -q -o pfull/out.folio -f
	if [ $ST = 3 ]; then
		expect_enospc folio-pack pfull/out.folio
		assert_same_digest "$before" pfull "pack -f with $k free pages"
		[ "$(ls -A pfull)" = out.folio ] || fail "pack -f with $k free pages left: $(ls -A pfull)"
		fails=$((fails + 1))
	else
		cmp -s ed.folio pfull/out.folio || fail "pack -f with $k free pages: not the whole bundle"
		[ "$(ls -A pfull)" = out.folio ] || fail "pack -f with $k free pages left: $(ls -A pfull)"
		break
	fi
done
[ $ST = 3 ] && fail "pack -f never succeeded, even with 64 free pages"
echo "pack -f: ran out of space $fails times, one page more each time, then succeeded"
[ $fails -ge 2 ] || fail "only $fails out-of-space failures for pack"

if [ -n "$MISNAMED" ]; then
	n=$(printf '%s' "$MISNAMED" | sort -u | wc -l)
	echo "FAIL: $n out-of-space messages do not name the destination, e.g.:" >&2
	printf '%s' "$MISNAMED" | sort -u | awk 'NR % 9 == 1' | head -n 4 >&2
	exit 1
fi
exit 0
