# SPDX-License-Identifier: ISC
# A library folder that is not what it should be: install into a folder that
# is no library (or none) is refused and makes nothing; a symbolic link
# planted as DIR/CHANNEL, DIR/.folio-library/objects or an edition folder is
# never followed to write outside DIR, and the refusal leaves the library as
# it was; a reader on a library without its lock file still excludes
# writers, and a FIFO as the lock file hangs nothing; prune --max-size that has to remove several editions removes
# them all (its disk use is measured again after each one).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
t0=$(($(date +%s) - 7200))
lib_edition news 1 $((t0 + 10)); lib_edition news 2 $((t0 + 20)); lib_edition news 3 $((t0 + 30)); lib_edition news 4 $((t0 + 40))
lib_edition evil 1 $((t0 + 10))

# Not a library: install says so (exit 2) and plants nothing, neither in a
# folder that exists nor by making one.
mkdir notlib
echo mine >notlib/file
before=$(tree_digest notlib)
expect_reject 2 "^folio-unpack: 'notlib' is not a folio library \(it has no \.folio-library/\); folio-unpack trust add makes one$" \
	"$UNPACK" install news-1.folio --library notlib
assert_same_digest "$before" notlib "install into a folder that is no library"
expect_reject 2 "^folio-unpack: 'nosuch' is not a folio library \(no such folder\)" \
	"$UNPACK" install news-1.folio --library nosuch
[ ! -e nosuch ] || fail "a refused install made the library 'nosuch'"

expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" trust add evil key.pub --library lib
expect_status 0 "$UNPACK" install news-1.folio --library lib -q

# DIR/CHANNEL a symbolic link to a folder outside: refused, nothing written
# there nor in the library.
mkdir outside
ln -s ../outside lib/evil
before=$(tree_digest lib)
expect_reject 2 "^folio-unpack: cannot install 'evil-1\.folio': 'lib/evil' is not a folder \(a symbolic link or a file\?\); the library writes only inside 'lib': move it away$" \
	"$UNPACK" install evil-1.folio --library lib
[ -z "$(ls -A outside)" ] || fail "install wrote through the symbolic link lib/evil: $(ls -A outside)"
assert_same_digest "$before" lib "install refused for a symbolic link as the channel folder"
rm lib/evil

# DIR/.folio-library/objects a symbolic link: refused before anything is
# shared; the channel folder it made for the edition is gone again.
mkdir outobj
mv lib/.folio-library/objects objects.saved
ln -s ../../outobj lib/.folio-library/objects
before=$(tree_digest lib)
expect_reject 2 "^folio-unpack: cannot install 'evil-1\.folio': 'lib/\.folio-library/objects' is not a folder \(a symbolic link or a file\?\)" \
	"$UNPACK" install evil-1.folio --library lib
[ -z "$(ls -A outobj)" ] || fail "install wrote through the symbolic link objects: $(ls -A outobj)"
assert_same_digest "$before" lib "install refused for a symbolic link as objects/"
rm lib/.folio-library/objects
mv objects.saved lib/.folio-library/objects

# An edition folder that is a symbolic link: not replaced, not followed.
mkdir -p outside/2
echo keep >outside/2/keep
ln -s ../../outside/2 lib/news/2
before=$(tree_digest lib)
for force in "" --force; do
	expect_reject 2 "^folio-unpack: cannot unpack into 'lib/news/2': it exists and is not a folder$" \
		"$UNPACK" install news-2.folio --library lib $force
	[ "$(ls -A outside/2)" = keep ] || fail "install $force wrote through lib/news/2: $(ls -A outside/2)"
	assert_same_digest "$before" lib "install $force refused for a symbolic link as the edition folder"
done
rm lib/news/2
lib_consistent

# No lock file: a status locks .folio-library itself; an install waits for it.
if command -v flock >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1; then
	rm lib/.folio-library/lock
	mkfifo go
	flock -s lib/.folio-library -c 'read -r _ <go' &
	holder=$!
	while flock -n -x lib/.folio-library true; do :; done
	"$UNPACK" install news-2.folio --library lib >"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
	waiter=$!
	until grep -q 'waiting' "$SCRATCH/w.err"; do
		kill -0 "$waiter" 2>/dev/null ||
			fail "install did not wait for a reader without a lock file: $(cat "$SCRATCH/w.err")"
	done
	[ ! -e lib/news/2 ] || fail "install went on while a reader held the library"
	echo >go
	wait "$holder"
	wait "$waiter" || fail "the waiting install failed: $(cat "$SCRATCH/w.err")"
	[ "$(grep -c waiting "$SCRATCH/w.err")" = 1 ] || fail "not one waiting line: $(cat "$SCRATCH/w.err")"
	[ -d lib/news/2 ] || fail "the waiting install installed nothing"
fi

# A FIFO planted as the lock file does not hang a reader.
if command -v mkfifo >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
	rm lib/.folio-library/lock
	mkfifo lib/.folio-library/lock
	expect_status 0 timeout 20 "$UNPACK" status --library lib
	rm lib/.folio-library/lock
fi

# prune --max-size that must remove two editions removes two, and says
# the disk use status measures.
expect_status 0 "$UNPACK" install news-3.folio --library lib -q
expect_status 0 "$UNPACK" install news-4.folio --library lib -q
[ "$(lib_editions)" = "news/1 news/2 news/3 news/4 " ] || fail "editions: $(lib_editions)"
# the use with the oldest two gone, measured on a copy (hard links kept)
cp -a lib copy
expect_status 0 "$UNPACK" prune --library copy --keep 2
two=$(LIBDIR=copy lib_json bytes)
expect_status 0 "$UNPACK" prune --library lib --max-size "$two"
[ "$(lib_editions)" = "news/3 news/4 " ] || fail "prune --max-size removed too little: $(lib_editions)"
expect_stderr_match "^folio-unpack: pruned 2 editions; the library 'lib' uses $(lib_json bytes) bytes$"
lib_consistent
exit 0
