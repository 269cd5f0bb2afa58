# SPDX-License-Identifier: ISC
# Crash safety: install, install --force and prune are killed (SIGKILL,
# strace's syscall fault injection) as they enter a call that changes a
# file, one call after the other (every other one, then each of the last
# 20 or 30: the sharing, renames, state and page), and a few more times after
# random delays.  After every
# kill: status exits 0 and says consistent, every edition present before is
# still there and complete (check passes on the whole library), the edition
# being installed is absent or complete, and a rerun of the same command
# succeeds and leaves no leftovers.
#   FOLIO_FAULTS_SEED=N replays the random delays.
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"
. "$(dirname "$TESTLIB")/library-lib.sh"

need strace
strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (no ptrace)"
# LeakSanitizer cannot run under ptrace
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
seed=${FOLIO_FAULTS_SEED:-$(($$ % 32768))}
RANDOM=$seed
echo "random delays: FOLIO_FAULTS_SEED=$seed"

use_test_keys
small() { # small DIR TAG: three files, one shared by every edition
	mkdir -p "$1/news" "$1/media"
	printf 'edition %s\n' "$2" >"$1/tag.txt"
	printf '<p>page of %s</p>\n' "$2" >"$1/news/b.html"
	python3 -c 'import random, sys; r = random.Random(3); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(20000)))' >"$1/media/same.bin"
}
for e in 1 2 3; do
	small "s$e" "$e"
	lib_pack "s$e" key.key news "$e" "n$e.folio"
done
lib_pack s1 key.key sport 1 p1.folio

# (an open for writing counts as a change too)
MUTATION_OPENS='O_CREAT|O_WRONLY|O_RDWR'

# after_kill WHAT MUST MAY: the library is consistent; the editions in MUST
# are present; any other edition present is in MAY; check passes.
after_kill() {
	local e
	expect_status 0 "$UNPACK" status --library lib
	expect_stdout_match '^consistent: yes' || fail "$1: not consistent"
	for e in $2; do
		[ -d "lib/$e" ] || fail "$1: edition $e is gone"
	done
	for e in $(lib_editions); do
		case " $2 $3 " in *" $e "*) ;; *) fail "$1: unexpected edition $e" ;; esac
	done
	LAST_CMD="check after $1"
	"$UNPACK" check --library lib >"$OUT" 2>"$ERR" || { show_last; fail "$1: check found problems"; }
}
# rerun WHAT EXPECTED CMD...: the command succeeds; exactly EXPECTED
# editions; no leftovers.
rerun() {
	local what=$1 want=$2
	shift 2
	expect_status 0 "$@"
	[ "$(lib_editions)" = "$want" ] || fail "$what, rerun: editions $(lib_editions), not $want"
	LAST_CMD="status after the rerun of $what"
	"$UNPACK" status --library lib --json >"$OUT" 2>"$ERR" || { show_last; fail "$what, rerun: not consistent"; }
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j["consistent"] and j["leftovers"]["count"] == 0 else 1)' "$OUT" ||
		{ show_last; fail "$what, rerun: leftovers or not consistent"; }
}

# ---- install ------------------------------------------------------------------
expect_status 0 "$UNPACK" trust add news key.pub --library base
expect_status 0 "$UNPACK" trust add sport key.pub --library base
for b in n1 n2 p1; do
	expect_status 0 "$UNPACK" install $b.folio --library base -q
done
set_base() { rm -rf lib && cp -a "${BASE:-base}" lib || fail "copy ${BASE:-base}"; }
# kill_points WHAT EVERY LAST PRESENT MAYBE WANT CMD...: from the base
# library, CMD is killed before every EVERY-th of its file-changing calls
# and before each of the last LAST; after each kill, after_kill WHAT PRESENT
# MAYBE, then a rerun must leave the editions WANT.  Sets CALLS (all
# file-changing calls) and KILLS (points tried); when MARK is set, MARKED
# counts the kills after which the folder MARK exists.
kill_points() {
	local what=$1 every=$2 last=$3 present=$4 maybe=$5 want=$6 sc k
	shift 6
	set_base
	mutation_points "$@" >all-points
	CALLS=$(wc -l <all-points)
	awk -v n="$CALLS" -v e="$every" -v l="$last" 'NR % e == 1 % e || NR > n - l' all-points >points
	KILLS=0 MARKED=0
	while read -r sc k; do
		set_base
		kill_at "$sc" "$k" "$@"
		after_kill "$what killed at $sc #$k" "$present" "$maybe"
		[ -n "${MARK:-}" ] && [ -d "$MARK" ] && MARKED=$((MARKED + 1))
		rerun "$what killed at $sc #$k" "$want" "$@"
		KILLS=$((KILLS + 1))
	done <points
}

# (every other call while the files are written, each of the last 30: the
# sharing, the rename, the state, the page)
MARK=lib/news/3 kill_points install 2 30 "news/1 news/2 sport/1" "news/3" \
	"news/1 news/2 news/3 sport/1 " "$UNPACK" install n3.folio --library lib -q
echo "install killed before $KILLS of its $CALLS file-changing calls: edition in place after $MARKED kills"
[ "$KILLS" -ge 30 ] || fail "only $KILLS file-changing calls seen in install"
[ "$MARKED" -ge 1 ] || fail "no kill point after install's rename"
[ "$MARKED" -lt "$KILLS" ] || fail "no kill point before install's rename"

# ---- install --force over the edition (the exchange) ------------------------------
# (every third call, each of the last 20: the exchange and the removal)
kill_points "install --force" 3 20 "news/1 news/2 sport/1" "" "news/1 news/2 sport/1 " \
	"$UNPACK" install n2.folio --library lib -q --force
echo "install --force killed before $KILLS of its $CALLS file-changing calls"

# ---- install --partial of a damaged bundle, then the install that completes it -------
# Edition 3 one entry a frame, one byte flipped in the first frame after the
# head that holds a file (its own: no kept edition has it).  Killed: the
# editions kept are intact, edition 3 absent or incomplete and consistent
# (check skips what .folio/missing lists), a rerun installs it incomplete.
# Then, from a library holding that incomplete edition 3, the whole bundle
# completes it (the old copy a source, replaced in one exchange): killed,
# edition 3 stays, incomplete or complete, and the rerun completes it.
SOURCE_DATE_EPOCH=$(($(date +%s) - 3600 + 3)) expect_status 0 "$PACK" pack s3 -k key.key -c news -e 3 \
	--valid-days 30 -l 1 --frame-size 1 -o n3f.folio -q
FRAMES_PY=$(dirname "$TESTLIB")/frames.py
tar --zstd -xOf n3f.folio .folio/manifest.json >n3f.json || fail "no manifest in n3f.folio"
python3 "$FRAMES_PY" plan n3f.folio n3f.json n3f.plan >n3f.frames || fail "frames.py plan"
# (tag.txt and news/b.html are edition 3's own; media/same.bin is in every edition)
pos=$(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
print(next(int((f["start"] + f["end"]) / 2) for f in p["frames"][1:]
           if {"tag.txt", "news/b.html"} & set(f["lost"])))' n3f.plan)
[ -n "$pos" ] || fail "no frame of n3f.folio holds a file of edition 3's own"
python3 "$FRAMES_PY" make n3f.folio "n3dmg.folio:flip:$pos" || fail "frames.py make"
kill_points "install --partial" 3 20 "news/1 news/2 sport/1" "news/3" "news/1 news/2 news/3 sport/1 " \
	"$UNPACK" install n3dmg.folio --library lib -q --partial
[ -s lib/news/3/.folio/missing ] || fail "install --partial of the damaged bundle left nothing missing"
echo "install --partial killed before $KILLS of its $CALLS file-changing calls"
rm -rf base-partial && cp -a lib base-partial || fail "copy lib"
BASE=base-partial kill_points "the completing install" 3 20 "news/1 news/2 news/3 sport/1" "" \
	"news/1 news/2 news/3 sport/1 " "$UNPACK" install n3f.folio --library lib -q
[ ! -e lib/news/3/.folio/missing ] || fail "the completing install left lib/news/3/.folio/missing"
echo "the completing install killed before $KILLS of its $CALLS file-changing calls"
# edition 3 complete now: the damaged bundle again is nothing to do with
# --partial (the damage told), and refused without it
expect_status 0 "$UNPACK" install n3dmg.folio --library lib --partial
expect_stderr_match "warning: damage skipped: cannot verify 'n3dmg.folio'"
expect_stderr_match "edition 3 of channel 'news' is already installed: nothing to do"
expect_status 1 "$UNPACK" install n3dmg.folio --library lib
expect_stderr_match "^folio-unpack: cannot verify 'n3dmg.folio'"

# ---- prune --------------------------------------------------------------------------
expect_status 0 "$UNPACK" install n3.folio --library base -q
# (every other call, each of the last 20)
kill_points prune 2 20 "news/3 sport/1" "news/1 news/2" "news/3 sport/1 " \
	"$UNPACK" prune --library lib --keep 1 -q
echo "prune killed before $KILLS of its $CALLS file-changing calls"
[ "$KILLS" -ge 10 ] || fail "only $KILLS file-changing calls seen in prune"

# ---- random delays ----------------------------------------------------------------------
# a larger edition (the fixture edition and 256 KiB shared), so that a run
# lasts long enough to be hit
lib_src big 4
for f in $(seq 40); do head -c 20000 /dev/urandom >"big/media/r$f.bin"; done
lib_pack big key.key news 4 n4.folio
BIG=("$UNPACK" install n4.folio --library lib -q)
now_us() { date +%s%6N; }
set_base
t=$(now_us); "${BIG[@]}"; t=$(($(now_us) - t))
killed=0
for r in 1 2 3 4 5 6 7 8 9 10; do
	set_base
	"${BIG[@]}" 2>/dev/null &
	pid=$!
	d=$((RANDOM * RANDOM % (t + 1)))
	sleep "$((d / 1000000)).$(printf %06d $((d % 1000000)))"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))
	after_kill "install killed after ${d} us (round $r)" "news/1 news/2 news/3 sport/1" "news/4"
	rerun "install killed after ${d} us" "news/1 news/2 news/3 news/4 sport/1 " "${BIG[@]}"
done
echo "install ($((t / 1000)) ms a run) killed after random delays: $killed of 10 landed"
exit 0
