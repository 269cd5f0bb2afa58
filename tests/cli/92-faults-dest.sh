# SPDX-License-Identifier: ISC
# Destinations: DEST already holding the same edition (without --force:
# exit 2; with --force: exit 0, "already holds edition N", nothing written,
# not even rewritten alike), an older edition (--force replaces it), a newer
# edition (exit 1), a file or a symlink (exit 2); a read-only destination, on
# a read-only tmpfs and on a read-only bind mount (exit 3, one line, nothing
# written), for unpack and for pack -o.  The read-only cases are skipped,
# saying why, only where nothing can be mounted.

# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
private_mounts "$@"


# snapshot DIR: every entry's inode, change time and modification time, with
# the tree digest: a folder rewritten with the same bytes differs.
snapshot() {
	[ -e "$1" ] || [ -L "$1" ] || { echo absent; return; }
	{
		find "$1" -printf '%i %C@ %T@ %m %s %p\n' | LC_ALL=C sort
		if [ -d "$1" ]; then
			tree_digest "$1"
		elif [ -f "$1" ]; then
			sha "$1"
		fi
	} | sha256sum | cut -d' ' -f1
}

# assert_untouched BEFORE-DIGEST BEFORE-SNAPSHOT DEST WHAT: the test folder
# is byte-for-byte as before, DEST not even touched, and no staging left.
assert_untouched() {
	assert_same_digest "$1" . "$4"
	[ "$(snapshot "$3")" = "$2" ] || fail "$4: '$3' was rewritten (inodes or times changed)"
	assert_no_staging "$(dirname "$3")"
}

use_test_keys
bundle() { # SRC EDITION OUT: a reproducible bundle of channel chan
	SOURCE_DATE_EPOCH=$FIXED_EPOCH expect_status 0 "$PACK" pack "$1" -k key.key -c chan -e "$2" \
		-l 1 $FIXED_VALIDITY -q -o "$3"
}
make_small_src src1
make_small_src src3
printf 'edition three\n' >src3/three.txt
make_small_src src5
printf 'edition five\n' >src5/five.txt
bundle src1 1 e1.folio
bundle src3 3 e3.folio
bundle src5 5 e5.folio
expect_status 0 "$UNPACK" unpack e3.folio -p key.pub -C ref3 -q
D3=$(tree_digest ref3)

# ---- DEST already holds the same edition ------------------------------------
expect_status 0 "$UNPACK" unpack e3.folio -p key.pub -C dest -q
before=$(tree_digest .)
snap=$(snapshot dest)
expect_reject 2 "^folio-unpack: .*'dest'.*exists.*use --force" "$UNPACK" unpack e3.folio -p key.pub -C dest
assert_untouched "$before" "$snap" dest "same edition without --force"
# With --force there is nothing to do: exit 0, a note, nothing written.
expect_status 0 "$UNPACK" unpack e3.folio -p key.pub -C dest --force
expect_stderr_match "already holds edition 3"
expect_stderr_lines 1
expect_stdout_empty
assert_untouched "$before" "$snap" dest "same edition with --force"

# ---- an older edition: --force replaces it ----------------------------------
rm -rf dest
expect_status 0 "$UNPACK" unpack e1.folio -p key.pub -C dest -q
before=$(tree_digest .)
snap=$(snapshot dest)
expect_reject 2 "^folio-unpack: .*'dest'.*exists.*use --force" "$UNPACK" unpack e3.folio -p key.pub -C dest
assert_untouched "$before" "$snap" dest "older edition without --force"
expect_status 0 "$UNPACK" unpack e3.folio -p key.pub -C dest --force -q
[ "$(tree_digest dest)" = "$D3" ] || fail "--force over an older edition: DEST is not the new edition"
assert_no_staging .

# ---- a newer edition: refused, even with --force ------------------------------
rm -rf dest
expect_status 0 "$UNPACK" unpack e5.folio -p key.pub -C dest -q
before=$(tree_digest .)
snap=$(snapshot dest)
expect_reject 1 "^folio-unpack: cannot unpack 'e3\\.folio': edition 3 of channel 'chan' is older than edition 5 in 'dest'\$" \
	"$UNPACK" unpack e3.folio -p key.pub -C dest --force
assert_untouched "$before" "$snap" dest "newer edition with --force"
expect_status_in "1 2" "$UNPACK" unpack e3.folio -p key.pub -C dest
expect_stderr_lines 1
expect_stderr_match "^folio-unpack: .*'dest'"
assert_untouched "$before" "$snap" dest "newer edition without --force"

# ---- DEST is a file, a symlink to an edition, a dangling symlink --------------
printf 'not a folder\n' >afile
ln -s dest link
ln -s nowhere dangling
before=$(tree_digest .)
for d in afile link dangling; do
	snap=$(snapshot $d)
	target=$(snapshot dest)
	expect_reject 2 "^folio-unpack: .*'$d'" "$UNPACK" unpack e3.folio -p key.pub -C $d
	assert_untouched "$before" "$snap" $d "unpack onto $d"
	expect_reject 2 "^folio-unpack: .*'$d'" "$UNPACK" unpack e3.folio -p key.pub -C $d --force
	assert_untouched "$before" "$snap" $d "unpack --force onto $d"
	[ "$(snapshot dest)" = "$target" ] || fail "unpack --force onto $d changed what it points to"
done

# ---- read-only destination ----------------------------------------------------
# A tmpfs holding an edition and a bundle, remounted read-only.
mount_fs ro "the read-only destination cases" -t tmpfs -o size=1m folio-test
expect_status 0 "$UNPACK" unpack e1.folio -p key.pub -C ro/dest -q
cp e1.folio ro/old.folio
mount -o remount,ro ro || fail "cannot remount ro read-only"
# a folder in the test folder, bind-mounted read-only
mkdir rw
expect_status 0 "$UNPACK" unpack e1.folio -p key.pub -C rw/dest -q
cp e1.folio rw/old.folio
mount_fs robind "the read-only destination cases" --bind -o ro rw
touch robind/probe 2>/dev/null && fail "the read-only bind mount is writable"

before=$(tree_digest .)
for m in ro robind; do
	snap=$(snapshot $m/dest)
	expect_reject 3 "^folio-unpack: .*'$m/new'.*Read-only file system\$" \
		"$UNPACK" unpack e3.folio -p key.pub -C $m/new
	expect_reject 3 "^folio-unpack: .*'$m/new'.*Read-only file system\$" \
		"$UNPACK" unpack e3.folio -p key.pub -C $m/new --force
	expect_reject 3 "^folio-unpack: .*'$m/dest'.*Read-only file system\$" \
		"$UNPACK" unpack e3.folio -p key.pub -C $m/dest --force
	expect_reject 2 "^folio-unpack: .*'$m/dest'.*exists" \
		"$UNPACK" unpack e3.folio -p key.pub -C $m/dest
	expect_reject 3 "^folio-pack: .*'$m/out\\.folio'.*Read-only file system\$" \
		"$PACK" pack src3 -k key.key -c chan -l 1 -o $m/out.folio
	expect_reject 3 "^folio-pack: .*'$m/old\\.folio'.*Read-only file system\$" \
		"$PACK" pack src3 -k key.key -c chan -l 1 -o $m/old.folio -f
	assert_same_digest "$before" . "writing to the read-only $m"
	[ "$(snapshot $m/dest)" = "$snap" ] || fail "$m/dest was touched"
	# The same edition is already there: nothing to write, so a read-only
	# destination is no obstacle.
	expect_status 0 "$UNPACK" unpack e1.folio -p key.pub -C $m/dest --force
	expect_stderr_match "already holds edition 1"
	expect_stderr_lines 1
	[ "$(snapshot $m/dest)" = "$snap" ] || fail "$m/dest was touched by the same edition"
done
assert_same_digest "$before" . "read-only destinations"
exit 0
