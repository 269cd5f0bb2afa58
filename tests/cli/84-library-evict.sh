# SPDX-License-Identifier: ISC
# Eviction: prune --keep N keeps the newest N editions of each channel;
# prune --max-size removes the oldest editions (by creation time) across
# channels, never the newest of a channel; install --max-size never removes
# the edition it installs nor a file another edition still links; shared
# objects go only with their last edition; floors are untouched; check
# passes after each step.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

use_test_keys
t0=$(($(date +%s) - 7200))
lib_edition news 1 $((t0 + 10)); lib_edition news 2 $((t0 + 40)); lib_edition news 3 $((t0 + 50)); lib_edition news 4 $((t0 + 60))
lib_edition news 5 $((t0 + 70))
lib_edition sport 1 $((t0 + 20)); lib_edition sport 2 $((t0 + 30))
expect_status 0 "$UNPACK" trust add news key.pub --library lib
expect_status 0 "$UNPACK" trust add sport key.pub --library lib
for b in news-1 news-2 news-3 news-4 sport-1 sport-2; do
	expect_status 0 "$UNPACK" install "$b.folio" --library lib -q
done
[ "$(lib_editions)" = "news/1 news/2 news/3 news/4 sport/1 sport/2 " ] || fail "editions: $(lib_editions)"
same=$(find lib/.folio-library/objects -type f -size 256k)
[ "$(stat -c %h "$same")" = 7 ] || fail "shared object: $(stat -c %h "$same") links, not 7"

# no object without an edition (links 1), none missing for an edition
objects_ok() {
	local n
	n=$(find lib/.folio-library/objects -type f -links 1 | wc -l)
	[ "$n" = 0 ] || fail "$1: $n objects no edition links"
}

expect_status 0 "$UNPACK" prune --library lib --keep 2
expect_stderr_match "^folio-unpack: pruned 2 editions; the library 'lib' uses [0-9]+ bytes$"
[ "$(lib_editions)" = "news/3 news/4 sport/1 sport/2 " ] || fail "after --keep 2: $(lib_editions)"
[ "$(stat -c %h "$same")" = 5 ] || fail "shared object: $(stat -c %h "$same") links after --keep 2"
objects_ok "prune --keep 2"
[ "$(lib_json channels.0.edition)" = 4 ] || fail "prune changed the floor"
lib_consistent
[ -z "$(find lib -name '.*.removing-*')" ] || fail "removing folders left"
grep -q 'news/1/' lib/index.html && fail "the page still links a pruned edition"

# --max-size one byte under the use: the oldest edition that is not its
# channel's newest goes: sport/1 (made before news/3)
bytes=$(lib_json bytes)
expect_status 0 "$UNPACK" prune --library lib --max-size $((bytes - 1))
[ "$(lib_editions)" = "news/3 news/4 sport/2 " ] || fail "after --max-size: $(lib_editions)"
objects_ok "prune --max-size"
[ "$(lib_json bytes)" -lt "$bytes" ] || fail "prune --max-size freed nothing"
# far too small: only the newest of each channel stays, with a warning, exit 0
expect_status 0 "$UNPACK" prune --library lib --max-size 1K
expect_stderr_match "warning: the library 'lib' is still larger than --max-size"
[ "$(lib_editions)" = "news/4 sport/2 " ] || fail "after --max-size 1K: $(lib_editions)"
lib_consistent

# install --max-size: the new edition stays, the older one of its channel
# goes, the shared object stays for the editions that link it
expect_status 0 "$UNPACK" install news-5.folio --library lib --max-size 1K
expect_stderr_match "installed edition 5 of channel 'news'"
expect_stderr_match "pruned 1 older edition to fit --max-size"
expect_stderr_match "warning: the library 'lib' is still larger"
[ "$(lib_editions)" = "news/5 sport/2 " ] || fail "after install --max-size: $(lib_editions)"
[ "$(stat -c %h "$same")" = 3 ] || fail "shared object: $(stat -c %h "$same") links after install --max-size"
objects_ok "install --max-size"
lib_consistent
# a pruned edition is older than the floor: refused
expect_reject 1 "edition 4 of channel 'news' is older than edition 5" "$UNPACK" install news-4.folio --library lib
# the newest one pruned by hand: "accepted before, pruned since"
rm -rf lib/news/5
expect_status 0 "$UNPACK" install news-5.folio --library lib
expect_stderr_match "edition 5 of channel 'news' was accepted before and has since been pruned: nothing to do"
[ ! -e lib/news/5 ] || fail "nothing to do wrote the edition"
expect_status 0 "$UNPACK" install news-5.folio --library lib --force
[ -d lib/news/5 ] || fail "--force did not re-install a pruned edition"
lib_consistent
exit 0
