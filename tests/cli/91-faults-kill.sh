# SPDX-License-Identifier: ISC
# kill -9 at any moment.  Unpack --force over an older edition, unpack into a
# fresh DEST and pack -f over an existing bundle are killed after random
# delays spread over a run (a ~20 MB bundle of incompressible data, so that
# a run lasts some 100s of ms); unpack is also stopped (SIGSTOP) at chosen
# points (staging just made, half and all of the big files being
# written) and killed there; and, where strace is installed, each of the
# three is killed as it enters each call that changes a file, one call after
# the other, on small bundles.  After every kill: DEST is exactly the old
# state or exactly the new edition, the output path holds the old bundle or
# the whole new one, nothing but a stale `.dest.folio-XXXXXXXX` (or pack's
# temporary file) is left, and the next unpack (pack) removes it.  A live
# run's staging is left alone by a concurrent run, also in the moment
# between its mkdir and its flock (held there with strace).
#   FOLIO_FAULTS_SEED=N replays a run's random delays;
#   FOLIO_FAULTS_ROUNDS=N kill rounds for unpack --force (default 30; two
#   thirds as many for the other two cases).
# shellcheck source=tests/cli/lib.sh
. "$TESTLIB"

seed=${FOLIO_FAULTS_SEED:-$(($$ % 32768))}
RANDOM=$seed
rounds=${FOLIO_FAULTS_ROUNDS:-30}
# the fresh-DEST and pack cases: two thirds as many
rounds2=$((rounds * 2 / 3))
echo "random delays: FOLIO_FAULTS_SEED=$seed, $rounds rounds for unpack --force, $rounds2 for the others"

# ---- inputs ----------------------------------------------------------------
# in/ holds everything the runs read; it must come out byte-for-byte intact.
mkdir in
cd in || fail "cd in"
use_test_keys
make_small_src old_src
# an old edition of many small files: removing it takes a while
make_small_src many_src
for d in $(seq 40); do
	mkdir many_src/d$d
	for f in $(seq 50); do
		printf '%s\n' "$d.$f" >many_src/d$d/f$f.txt
	done
done
mkdir new_src
cp -R "$FIXTURES/edition/." new_src/ || fail "copy the fixture edition"
mkdir new_src/data
for i in 1 2 3 4; do
	head -c 5M /dev/urandom >new_src/data/part$i.bin || fail "random data"
done
cd .. || fail "cd .."
K=in/key.key P=in/key.pub
# bundle SRC EDITION OUT: the command that packs SRC reproducibly (one
# process, so that a kill reaches pack itself).
read -ra validity <<<"$FIXED_VALIDITY"
bundle() {
	CMD=(env SOURCE_DATE_EPOCH="$FIXED_EPOCH" "$PACK" pack --verbatim "$1" -k "$K" -c chan -e "$2" -l 1
		"${validity[@]}" -q -o "$3")
}
bundle in/old_src 1 in/old.folio
expect_status 0 "${CMD[@]}"
bundle in/many_src 1 in/many.folio
expect_status 0 "${CMD[@]}"
bundle in/new_src 2 in/new.folio
expect_status 0 "${CMD[@]}"
bundle "$FIXTURES/edition" 2 in/small-new.folio
expect_status 0 "${CMD[@]}"
size=$(stat -c %s in/new.folio)
[ "$size" -gt 20000000 ] || fail "the big bundle is only $size bytes (incompressible data expected)"
expect_status 0 "$UNPACK" unpack in/old.folio -p "$P" -C old_tree -q
expect_status 0 "$UNPACK" unpack in/many.folio -p "$P" -C many_tree -q
expect_status 0 "$UNPACK" unpack in/new.folio -p "$P" -C new_tree -q
expect_status 0 "$UNPACK" unpack in/small-new.folio -p "$P" -C small_new_tree -q
D_OLD=$(tree_digest old_tree)
D_MANY=$(tree_digest many_tree)
D_BIG=$(tree_digest new_tree)
D_SMALL=$(tree_digest small_new_tree)
rm -rf new_tree small_new_tree
inputs=$(tree_digest in)
mkdir lib out

# ---- helpers ---------------------------------------------------------------

# defer_fail KIND DETAIL: a failure that leaves the state checkable (stale
# staging not removed, a live run disturbed); counted, and reported at the
# end, so that the other properties are still checked.
DEFERRED=
defer_fail() {
	DEFERRED="$DEFERRED$1	$2
"
}
report_deferred() {
	[ -n "$DEFERRED" ] || return 0
	printf '%s' "$DEFERRED" | awk -F'\t' '
		!($1 in n) { order[++k] = $1; first[$1] = $2 }
		{ n[$1]++ }
		END { for (i = 1; i <= k; i++) printf "FAIL: %s (%d times; first: %s)\n", order[i], n[order[i]], first[order[i]] }' >&2
	exit 1
}

# entries DIR: the names in DIR, one a line, dot names too.
entries() {
	(cd "$1" && for e in .[!.]* ..?* *; do
		{ [ -e "$e" ] || [ -L "$e" ]; } && printf '%s\n' "$e"
	done)
}

now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$t"
}

# random_delay MAX_US: seconds (decimal) in [0, MAX_US) microseconds.  (A
# round whose run ended before its kill shortens the next rounds' range by a
# tenth, so that the kills follow a run that got faster.)
random_delay() {
	local r=$((((RANDOM << 15) | RANDOM) % $1))
	printf '%d.%06d' $((r / 1000000)) $((r % 1000000))
}

# kill_after DELAY CMD...: runs CMD in the background, SIGKILLs it after DELAY
# seconds; KILLED=1 if the kill landed (status 137), 0 if CMD had finished
# (then with status 0, or the test fails).
kill_after() {
	local delay=$1 pid st
	shift
	LAST_CMD="$* (killed after $delay s)"
	"$@" >"$OUT" 2>"$ERR" &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	case $st in
	137) KILLED=1 ;;
	0) KILLED=0 ;;
	*) show_last; fail "expected the run to finish (0) or be killed (137), got status $st" ;;
	esac
}

# check_lib WHAT OLD NEW: lib/dest is exactly OLD or NEW (digests), and lib
# holds nothing else but stale staging named after dest.  Sets STATE to
# old/new and STALE to the number of staging folders.
check_lib() {
	local now e
	now=$(tree_digest lib/dest)
	if [ "$now" = "$2" ]; then
		STATE=old
	elif [ "$now" = "$3" ]; then
		STATE=new
	else
		printf 'FAIL: %s: lib/dest is neither the old state nor the new edition\n' "$1" >&2
		[ -d lib/dest ] && tree_listing lib/dest | sed 's/^/  | /' >&2
		show_last
		exit 1
	fi
	STALE=0
	for e in lib/.[!.]* lib/..?* lib/*; do
		case ${e#lib/} in
		dest) ;;
		.dest.folio-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
			STALE=$((STALE + 1)) ;;
		*) [ -e "$e" ] || [ -L "$e" ] && fail "$1: unexpected entry beside DEST: $e" ;;
		esac
	done
}

# next_run WHAT BUNDLE DIGEST: the next run (unpack --force of BUNDLE into
# lib/dest) succeeds, installs the edition and removes every stale staging.
next_run() {
	expect_status 0 "$UNPACK" unpack "$2" -p "$P" -C lib/dest --force -q
	[ "$(tree_digest lib/dest)" = "$3" ] || fail "$1: the next run did not install its edition"
	local left
	left=$(entries lib | grep -v -x dest)
	if [ -n "$left" ]; then
		defer_fail "the next run did not remove stale staging${NEXT_RUN_NOTE:-}" "$1: left $left"
		rm -rf lib/.dest.folio-*
	fi
}

# check_stale_removed WHAT [DIR REGEX]: the staging folders (names in DIR
# matching REGEX) seen after the previous round are gone if this round's run
# made its own or finished (it removes stale ones before it makes its own).
# Counts in cleaned.
PREV_STALE=
check_stale_removed() {
	local now name dir=${2:-lib}
	now=$(entries "$dir" | grep "${3:-^\.dest\.folio-}")
	if [ -n "$PREV_STALE" ]; then
		local fresh=0
		[ "$KILLED" = 0 ] && fresh=1
		for name in $now; do
			printf '%s\n' "$PREV_STALE" | grep -qxF "$name" || fresh=1
		done
		if [ $fresh = 1 ]; then
			for name in $PREV_STALE; do
				[ -e "$dir/$name" ] && defer_fail "a run did not remove stale staging" "$1: $dir/$name"
			done
			cleaned=$((cleaned + 1))
		fi
	fi
	PREV_STALE=$now
}

set_old_dest() {
	rm -rf lib/dest && cp -a old_tree lib/dest || fail "cannot restore lib/dest"
}

# check_out WHAT OLD NEW: out/b.folio is exactly OLD or exactly NEW; out holds
# nothing else but pack's temporary files, which are counted.
check_out() {
	local stray
	if cmp -s out/b.folio "$2"; then
		STATE=old
	elif cmp -s out/b.folio "$3"; then
		STATE=new
	else
		fail "$1: out/b.folio is neither the old bundle nor the whole new one ($(stat -c %s out/b.folio 2>&1))"
	fi
	stray=$(entries out | grep -v -x -e b.folio -e 'b\.folio\.tmp-......')
	[ -z "$stray" ] || fail "$1: unexpected entries beside the output: $stray"
	STALE=$(entries out | grep -c '^b\.folio\.tmp-')
	pack_temps=$((pack_temps + STALE))
}
pack_temps=0

# duration_us CMD...: how long CMD takes (it must succeed).
duration_us() {
	local t0 t1
	t0=$(now_us)
	expect_status 0 "$@"
	t1=$(now_us)
	echo $((t1 - t0))
}

# ---- random kills ------------------------------------------------------------

# unpack --force over an older edition.  A killed run's staging is left for
# the next round, whose run must remove it (once that run has got as far as
# making its own staging folder, or has finished).
set_old_dest
t_unpack=$(duration_us "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q)
measured=$t_unpack
[ "$(tree_digest lib/dest)" = "$D_BIG" ] || fail "unpack --force did not install the edition"
killed=0 olds=0 news=0 stale=0 cleaned=0
for r in $(seq "$rounds"); do
	set_old_dest
	kill_after "$(random_delay "$t_unpack")" \
		"$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q
	[ $KILLED = 1 ] || t_unpack=$((t_unpack * 9 / 10))
	check_lib "unpack --force, round $r" "$D_OLD" "$D_BIG"
	check_stale_removed "unpack --force, round $r"
	killed=$((killed + KILLED))
	[ $KILLED = 1 ] && [ $STATE = old ] && olds=$((olds + 1))
	[ $KILLED = 1 ] && [ $STATE = new ] && news=$((news + 1))
	stale=$((stale + STALE))
done
next_run "unpack --force, after the last round" in/new.folio "$D_BIG"
PREV_STALE=
echo "unpack --force ($((measured / 1000)) ms a run): $killed of $rounds killed; after a kill DEST was old $olds times, new $news times; $stale stale staging folders, $cleaned seen removed by the next run"
[ $killed -ge $((rounds / 3)) ] || fail "too few kills landed inside unpack --force ($killed of $rounds)"
[ $olds -ge 1 ] || fail "no kill landed before unpack --force's rename"
[ $cleaned -ge 1 ] || fail "no stale staging was seen removed by a next run"

# unpack into a fresh DEST
rm -rf lib/dest
t_fresh=$(duration_us "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest -q)
measured=$t_fresh
killed=0 olds=0 stale=0 cleaned=0
for r in $(seq "$rounds2"); do
	rm -rf lib/dest
	kill_after "$(random_delay "$t_fresh")" \
		"$UNPACK" unpack in/new.folio -p "$P" -C lib/dest -q
	[ $KILLED = 1 ] || t_fresh=$((t_fresh * 9 / 10))
	check_lib "unpack into a fresh DEST, round $r" absent "$D_BIG"
	check_stale_removed "unpack into a fresh DEST, round $r"
	killed=$((killed + KILLED))
	[ $KILLED = 1 ] && [ $STATE = old ] && olds=$((olds + 1))
	stale=$((stale + STALE))
done
next_run "unpack into a fresh DEST, after the last round" in/new.folio "$D_BIG"
PREV_STALE=
echo "unpack into a fresh DEST ($((measured / 1000)) ms a run): $killed of $rounds2 killed; DEST absent after $olds kills; $stale stale staging folders, $cleaned seen removed by the next run"
[ $killed -ge $((rounds2 / 3)) ] || fail "too few kills landed inside unpack ($killed of $rounds2)"

# pack -f over an existing bundle: the next pack removes a killed one's
# temporary file.
cp in/old.folio out/b.folio
bundle in/new_src 2 out/b.folio
t_pack=$(duration_us "${CMD[@]}" -f)
measured=$t_pack
cmp -s out/b.folio in/new.folio || fail "pack is not reproducible: out/b.folio differs from in/new.folio"
killed=0 olds=0 cleaned=0
for r in $(seq "$rounds2"); do
	cp in/old.folio out/b.folio
	kill_after "$(random_delay "$t_pack")" "${CMD[@]}" -f
	[ $KILLED = 1 ] || t_pack=$((t_pack * 9 / 10))
	check_out "pack -f, round $r" in/old.folio in/new.folio
	check_stale_removed "pack -f, round $r" out '^b\.folio\.tmp-'
	killed=$((killed + KILLED))
	[ $KILLED = 1 ] && [ $STATE = old ] && olds=$((olds + 1))
done
expect_status 0 "${CMD[@]}" -f
cmp -s out/b.folio in/new.folio || fail "pack -f after the last round: not the new bundle"
left=$(entries out | grep -v -x b.folio)
if [ -n "$left" ]; then
	defer_fail "the next pack did not remove stale temporary files" "after the last round: $left"
	rm -f out/b.folio.tmp-*
fi
PREV_STALE=
echo "pack -f ($((measured / 1000)) ms a run): $killed of $rounds2 killed; the old bundle intact after $olds kills; $pack_temps temporary files left by killed runs, $cleaned seen removed by the next run"
[ $killed -ge $((rounds2 / 3)) ] || fail "too few kills landed inside pack ($killed of $rounds2)"

# ---- stopped at chosen points, then killed -----------------------------------
# SIGSTOP when the staging folder shows a given file (or none: as soon as it
# appears), look, then SIGKILL: until the rename, DEST is the old state.
# stop_when PATTERN CMD...: starts CMD; stops it once lib/PATTERN exists (or
# it has ended: then STAGING is empty).
stop_when() {
	local pattern=$1 m state=R
	shift
	LAST_CMD="$* (stopped at lib/$pattern)"
	"$@" >"$OUT" 2>"$ERR" &
	PID=$!
	while [ "$state" != Z ]; do
		for m in lib/$pattern; do
			[ -e "$m" ] && break 2
		done
		read -r _ _ state _ <"/proc/$PID/stat" 2>/dev/null || state=Z
	done
	kill -STOP "$PID" 2>/dev/null
	STAGING=$(ls -d lib/.dest.folio-* 2>/dev/null | head -n 1)
}
# kill_stopped: SIGKILLs the stopped run and reaps it, quietly.
kill_stopped() {
	{ kill -KILL "$PID"; wait "$PID"; } 2>/dev/null
}
for point in '.dest.folio-*' '.dest.folio-*/data/part2.bin' '.dest.folio-*/data/part4.bin'; do
	set_old_dest
	stop_when "$point" "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q
	[ -n "$STAGING" ] || fail "unpack --force ended before its staging folder was seen ($point)"
	# Live staging is locked (once its files are being written; between
	# mkdir and flock, see below): a concurrent run must leave it alone.
	if [ "$point" != '.dest.folio-*' ] && flock -n "$STAGING" true; then
		fail "the staging folder of a live run is not locked ($point)"
	fi
	kill_stopped
	check_lib "unpack --force stopped at $point, killed" "$D_OLD" "$D_BIG"
	[ "$STALE" = 1 ] || fail "expected one stale staging folder after a kill at $point"
	flock -n "$STAGING" true || fail "the staging folder of a killed run is still locked ($point)"
	next_run "unpack --force killed at $point" in/new.folio "$D_BIG"
done
# A run that finds another run's live staging leaves it alone: both finish.
set_old_dest
stop_when '.dest.folio-*/data/part2.bin' "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q
first=$PID
[ -n "$STAGING" ] || fail "unpack --force ended before its staging folder was seen"
expect_status 0 "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q
[ -d "$STAGING" ] || fail "a second run removed the staging folder of a live (stopped) run"
kill -CONT "$first"
wait "$first"
st=$?
[ $st = 0 ] || fail "the stopped run, resumed after another run, ended with status $st"
check_lib "two overlapping runs" "$D_OLD" "$D_BIG"
[ $STATE = new ] && [ "$STALE" = 0 ] || fail "two overlapping runs: DEST $STATE, $STALE staging folders left"

# Behind the rename: the new edition is in place and the old one, 2000
# files, is being removed from under the staging name.  Killed there, the
# next run (the same edition: nothing to install) must still remove it.
caught=0
for _ in 1 2 3; do
	rm -rf lib/dest && cp -a many_tree lib/dest || fail "cannot set lib/dest"
	stop_when 'dest/index.html' "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest --force -q
	kill_stopped
	check_lib "unpack --force stopped behind the rename, killed" "$D_MANY" "$D_SMALL"
	[ $STATE = new ] || fail "unpack --force stopped behind the rename: DEST is not the new edition"
	[ "$STALE" -le 1 ] || fail "unpack --force stopped behind the rename: $STALE staging folders"
	if [ "$STALE" = 1 ]; then
		caught=1
		NEXT_RUN_NOTE=" when DEST already holds its edition (killed behind the rename)"
		next_run "unpack --force killed behind the rename" in/small-new.folio "$D_SMALL"
		NEXT_RUN_NOTE=
		break
	fi
done
[ $caught = 1 ] || echo "note: three runs removed 2000 files faster than they could be stopped"

# ---- killed before each file-changing call (strace) --------------------------
# LeakSanitizer cannot run under ptrace: in the sanitizer build the runs
# below check memory errors only (every other test checks leaks too).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

if ! command -v strace >/dev/null 2>&1; then
	echo "note: strace is not installed: the kill before each file-changing call is not run"
elif ! strace -qq -o /dev/null true 2>/dev/null; then
	echo "note: strace cannot trace here: the kill before each file-changing call is not run"
else
	# unpack --force over an older edition
	set_old_dest
	# (every other call while the files are written, each of the last 25:
	# the rename and the removal of the old edition)
	mutation_points "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest --force -q >all-points
	awk -v n="$(wc -l <all-points)" 'NR % 2 == 1 || NR > n - 25' all-points >points
	n=0 olds=0 news=0
	while read -r sc k; do
		set_old_dest
		kill_at "$sc" "$k" "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest --force -q
		check_lib "unpack --force killed at $sc #$k" "$D_OLD" "$D_SMALL"
		n=$((n + 1))
		# The next run after a kill behind the rename finds the edition in
		# place (same edition: nothing to do) and the old one in staging.
		if [ $STATE = old ]; then
			olds=$((olds + 1))
			rm -rf lib/.dest.folio-*
		else
			news=$((news + 1))
			NEXT_RUN_NOTE=" when DEST already holds its edition (killed behind the rename)"
			next_run "unpack --force killed at $sc #$k" in/small-new.folio "$D_SMALL"
			NEXT_RUN_NOTE=
		fi
	done <points
	echo "unpack --force killed before $n of its $(wc -l <all-points) file-changing calls: DEST old $olds times, new $news times"
	[ "$n" -ge 20 ] || fail "only $n file-changing calls tried in unpack --force"
	[ "$news" -ge 1 ] || fail "no kill point after unpack --force's rename"

	# unpack into a fresh DEST
	rm -rf lib/dest
	# (the same calls as with --force up to the rename: every third one, and
	# each of the last ten)
	mutation_points "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest -q >all-points
	awk -v n="$(wc -l <all-points)" 'NR % 3 == 1 || NR > n - 10' all-points >points
	n=0
	while read -r sc k; do
		rm -rf lib/dest
		kill_at "$sc" "$k" "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest -q
		check_lib "unpack killed at $sc #$k" absent "$D_SMALL"
		n=$((n + 1))
		rm -rf lib/.dest.folio-*
	done <points
	echo "unpack into a fresh DEST killed before $n of its $(wc -l <all-points) file-changing calls"
	[ "$n" -ge 20 ] || fail "only $n file-changing calls tried in unpack"

	# pack -f over an existing bundle
	cp in/old.folio out/b.folio
	bundle "$FIXTURES/edition" 2 out/b.folio
	mutation_points "${CMD[@]}" -f >points
	cmp -s out/b.folio in/small-new.folio || fail "pack is not reproducible"
	n=0
	while read -r sc k; do
		cp in/old.folio out/b.folio
		kill_at "$sc" "$k" "${CMD[@]}" -f
		check_out "pack -f killed at $sc #$k" in/old.folio in/small-new.folio
		rm -f out/b.folio.tmp-*
		n=$((n + 1))
	done <points
	echo "pack -f killed before each of its $n file-changing calls"
	[ "$n" -ge 4 ] || fail "only $n file-changing calls seen in pack"
fi

# ---- a live run's staging, between mkdir and flock ----------------------------
# Run A is held for a second right after mkdir(2) made its staging folder
# (before it can flock it); run B, into the same DEST, must take that
# folder for a live one, not a stale one: both runs succeed.
if command -v strace >/dev/null 2>&1 && strace -qq -o /dev/null true 2>/dev/null; then
	set_old_dest
	LAST_CMD="unpack --force held 1 s after mkdir"
	strace -qq -o /dev/null -e trace=mkdirat -e inject=mkdirat:delay_exit=1000000:when=1 \
		"$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest --force -q >"$OUT" 2>"$SCRATCH/a.err" &
	first=$!
	t0=$(now_us)
	while ! entries lib | grep -q '^\.dest\.folio-' && [ $(($(now_us) - t0)) -lt 900000 ]; do
		:
	done
	expect_status 0 "$UNPACK" unpack in/small-new.folio -p "$P" -C lib/dest --force -q
	wait "$first"
	st=$?
	if [ $st != 0 ]; then
		defer_fail "a run removed the staging folder of a live run (made, not yet locked)" \
			"the live run ended with status $st: $(head -n 1 "$SCRATCH/a.err")"
	fi
	check_lib "two runs, one held after mkdir" "$D_OLD" "$D_SMALL"
	rm -rf lib/.dest.folio-*
fi

# ---- the end ---------------------------------------------------------------
# The inputs are byte-for-byte as they were; a last kill in the middle of
# unpack --force leaves the previous edition byte-for-byte (diff, not only
# the digest), and the next run cleans up.
assert_same_digest "$inputs" in "the inputs of the killed runs"
set_old_dest
stop_when '.dest.folio-*/data/part1.bin' "$UNPACK" unpack in/new.folio -p "$P" -C lib/dest --force -q
[ -n "$STAGING" ] || fail "unpack --force ended before its staging folder was seen"
kill_stopped
diff -r old_tree lib/dest >/dev/null || fail "after a kill, lib/dest differs from the previous edition"
check_lib "a last kill" "$D_OLD" "$D_BIG"
next_run "the last run" in/new.folio "$D_BIG"
report_deferred
exit 0
