# SPDX-License-Identifier: ISC
# Two runs at once: installs into different channels and into the same
# channel are serialised by the library's lock (the second says it waits);
# the state holds both, status is consistent.  Also a status (shared lock)
# waits for an install (exclusive).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

need flock mkfifo
use_test_keys
for e in 1 2 3 4 5 6; do
	lib_src "s$e" "$e"
	lib_pack "s$e" key.key news "$e" "n$e.folio"
	lib_pack "s$e" key.key sport "$e" "p$e.folio"
done
expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" trust add sport key.pub --library lib

# Held lock: an install says it waits, then goes on once the lock is free.
mkfifo go
flock lib/.folio-library/lock -c 'read -r _ <go' &
holder=$!
while flock -n lib/.folio-library/lock true; do :; done
"$UNPACK" install n1.folio --library lib >"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
waiter=$!
until grep -q 'waiting' "$SCRATCH/w.err"; do
	kill -0 "$waiter" 2>/dev/null || fail "install did not wait for the lock: $(cat "$SCRATCH/w.err")"
done
[ ! -e lib/news/1 ] || fail "install went on while the lock was held"
echo >go
wait "$holder"
wait "$waiter" || fail "the waiting install failed: $(cat "$SCRATCH/w.err")"
grep -q "^folio-unpack: the library 'lib' is busy (another folio-unpack is using it): waiting$" "$SCRATCH/w.err" ||
	fail "no waiting line: $(cat "$SCRATCH/w.err")"
[ -d lib/news/1 ] || fail "the waiting install installed nothing"

# Different channels at once, several rounds: both always land.
for e in 2 3 4; do
	"$UNPACK" install "n$e.folio" --library lib -q 2>"$SCRATCH/a.err" &
	a=$!
	"$UNPACK" install "p$e.folio" --library lib -q 2>"$SCRATCH/b.err" &
	b=$!
	wait $a || fail "install n$e.folio beside p$e.folio: $(cat "$SCRATCH/a.err")"
	wait $b || fail "install p$e.folio beside n$e.folio: $(cat "$SCRATCH/b.err")"
done
[ "$(lib_json channels.0.edition)" = 4 ] && [ "$(lib_json channels.1.edition)" = 4 ] ||
	fail "state lost an install: news $(lib_json channels.0.edition), sport $(lib_json channels.1.edition)"
lib_consistent

# The same channel at once: one after the other; the older may come second
# and is then refused as older, never half-installed.
"$UNPACK" install n5.folio --library lib -q 2>"$SCRATCH/a.err" &
a=$!
"$UNPACK" install n6.folio --library lib -q 2>"$SCRATCH/b.err" &
b=$!
wait $a
sa=$?
wait $b || fail "install n6.folio beside n5.folio: $(cat "$SCRATCH/b.err")"
case $sa in
0) ;;
1) grep -q "edition 5 of channel 'news' is older than edition 6" "$SCRATCH/a.err" ||
	fail "n5.folio refused for another reason: $(cat "$SCRATCH/a.err")" ;;
*) fail "install n5.folio: status $sa: $(cat "$SCRATCH/a.err")" ;;
esac
[ "$(lib_json channels.0.edition)" = 6 ] || fail "state: news edition $(lib_json channels.0.edition)"
[ -d lib/news/6 ] || fail "edition 6 missing"
lib_consistent
# many statuses and checks beside installs of the other channel
"$UNPACK" install p5.folio --library lib -q &
a=$!
for _ in 1 2 3; do
	expect_status 0 "$UNPACK" status --library lib --json
done
wait $a || fail "install p5.folio beside statuses"
lib_consistent
exit 0
