# SPDX-License-Identifier: ISC
# Time: an expired edition and one created in the future are refused; the
# one-day allowance for wrong clocks is kept.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
use_test_keys
make_small_src src
now=$(date +%s)
mkdir lib
before=$(tree_digest lib)

# 2001, default validity of 30 days: long expired.
SOURCE_DATE_EPOCH=978307200 expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o old.folio -q
for cmd in verify list; do
	expect_reject 1 "$(err_re folio-unpack old.folio 'expired')" "$UNPACK" $cmd old.folio -p key.pub
done
expect_reject 1 "$(err_re folio-unpack old.folio 'expired')" "$UNPACK" unpack old.folio -p key.pub -C lib/dest
assert_same_digest "$before" lib "unpack of an expired bundle"
assert_no_staging lib

# Expired a minute ago (--valid-days 1, created a day and a minute ago).
SOURCE_DATE_EPOCH=$((now - 86400 - 60)) expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 --valid-days 1 -o just.folio -q
expect_reject 1 "$(err_re folio-unpack just.folio 'expired')" "$UNPACK" verify just.folio -p key.pub
# ... and a minute before expiry it is fine.
SOURCE_DATE_EPOCH=$((now - 86400 + 60)) expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 --valid-days 1 -o fine.folio -q
expect_status 0 "$UNPACK" verify fine.folio -p key.pub

# Created two days in the future: refused.
SOURCE_DATE_EPOCH=$((now + 2 * 86400)) expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o future.folio -q
for cmd in verify list; do
	expect_reject 1 "$(err_re folio-unpack future.folio 'future')" "$UNPACK" $cmd future.folio -p key.pub
done
expect_reject 1 "$(err_re folio-unpack future.folio 'future')" "$UNPACK" unpack future.folio -p key.pub -C lib/dest
assert_same_digest "$before" lib "unpack of a bundle from the future"
assert_no_staging lib

# Created twelve hours ahead (a clock a little wrong): accepted.
SOURCE_DATE_EPOCH=$((now + 12 * 3600)) expect_status 0 "$PACK" pack src -k key.key -c chan -l 1 -o ahead.folio -q
expect_status 0 "$UNPACK" verify ahead.folio -p key.pub
expect_status 0 "$UNPACK" unpack ahead.folio -p key.pub -C lib/dest
exit 0
