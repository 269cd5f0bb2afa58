# SPDX-License-Identifier: ISC
# Helpers for the library tests (tests/cli/84-library-*.sh), sourced after
# "$TESTLIB".  Not a test itself (run-cli runs only tests/cli/[0-9]*.sh).

LIBDIR=lib

# lib_src DIR TAG: a small edition source: the fixture edition, a file that
# differs per TAG, and a 256 KiB file that is the same in every edition (so
# sharing saves more than its folders cost).
lib_src() {
	rm -rf "$1"
	cp -R "$FIXTURES/edition" "$1" || fail "copy the fixture edition"
	printf 'edition %s\n' "$2" >"$1/tag.txt"
	mkdir -p "$1/media"
	python3 -c 'import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(262144)))' \
		>"$1/media/same.bin" || fail "make media/same.bin"
}

# lib_edition CHANNEL EDITION CREATED: CHANNEL-EDITION.folio, signed with
# key.key: the shared 256 KiB file, and 64 KiB of its own.
lib_edition() {
	lib_src "src-$1-$2" "$1-$2"
	head -c 65536 /dev/urandom >"src-$1-$2/media/own.bin"
	lib_pack "src-$1-$2" key.key "$1" "$2" "$1-$2.folio" "$3"
}

# lib_pack SRC KEY CHANNEL EDITION OUT [CREATED [VALID-DAYS]]: a bundle of
# SRC; CREATED defaults to an hour ago (plus EDITION seconds, so later
# editions are newer), the validity to 30 days.
lib_pack() {
	local created=${6:-$(($(date +%s) - 3600 + $4))}
	SOURCE_DATE_EPOCH=$created expect_status 0 "$PACK" pack "$1" -k "$2" -c "$3" -e "$4" \
		-t "$3 edition $4" --valid-days "${7:-30}" -l 1 -o "$5" -q
}

# lib_status_field FIELD: a top-level field of `status --json` (the library
# in $LIBDIR).
lib_json() {
	"$UNPACK" status --library "$LIBDIR" --json | python3 -c 'import json, sys
j = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    j = j[int(k)] if isinstance(j, list) else j[k]
print(json.dumps(j) if isinstance(j, (dict, list, bool)) else j)' "$1"
}

# lib_consistent: status exits 0 and says consistent, check passes.
lib_consistent() {
	expect_status 0 "$UNPACK" status --library "$LIBDIR"
	expect_stdout_match '^consistent: yes'
	expect_status 0 "$UNPACK" check --library "$LIBDIR"
	expect_stderr_match 'all good'
}

# lib_editions: "channel/edition" of every edition folder, sorted.
lib_editions() {
	(cd "$LIBDIR" && find . -mindepth 2 -maxdepth 2 -type d -regex '\./[a-z0-9._-]*/[1-9][0-9]*' |
		sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')
}
