# SPDX-License-Identifier: ISC
# folio: `make` builds, `make check` installs what is missing and runs every
# test (plain build, then ASan+UBSan), `make demo` runs the main job.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
O          ?= build
SHARED     ?= ../shared

DEPS       := libzstd libarchive libsodium jansson libxml-2.0 md4c-html vips libexif libjpeg libpng libwebpmux zlib
WARN       := -Wall -Wextra -Wshadow -Wcast-qual -Wstrict-prototypes \
              -Wmissing-prototypes -Wvla -Wformat=2 -Wundef -Wpointer-arith
WERROR     ?= -Werror
OPT        ?= -O2 -g
SAN        ?=
CFLAGS     ?=
LDFLAGS    ?=
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) $(WARN) $(WERROR) $(SAN) -Iinclude -Isrc \
              $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)) $(CFLAGS)
LIBS       := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null) -lunistring -lpthread
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

LIB_SRC    := $(wildcard src/*.c)
LIB_OBJ    := $(LIB_SRC:src/%.c=$(O)/obj/%.o) $(O)/obj/gen/search-js.o
CLI_COMMON := $(O)/obj/cli/cli.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
PROGS      := $(O)/folio-pack $(O)/folio-unpack

# Keep every object (make would delete the CLI objects as intermediates).
.SECONDARY:

.PHONY: all deps check check-unit check-cli asan demo install uninstall clean bench

all: $(PROGS) $(O)/libfolio.a $(O)/folio.pc

deps:
	@tools/install-deps

$(O)/obj/%.o: src/%.c include/folio.h src/folio-internal.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/obj/cli/%.o: src/cli/%.c src/cli/cli.h include/folio.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# src/reader/search.js becomes folio_reader_search_js[] (a string of \x
# escapes, NUL-terminated) and folio_reader_search_js_len (without the NUL).
$(O)/gen/search-js.c: src/reader/search.js
	@mkdir -p $(dir $@)
	{ echo '/* generated from $< by the Makefile */'; \
	  echo '#include "folio-internal.h"'; \
	  echo 'const char folio_reader_search_js[] ='; \
	  od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/\\x\1/g' -e 's/^/"/' -e 's/$$/"/'; \
	  echo ';'; \
	  echo 'const size_t folio_reader_search_js_len = sizeof folio_reader_search_js - 1;'; \
	} > $@.tmp && mv $@.tmp $@

$(O)/obj/gen/%.o: $(O)/gen/%.c src/folio-internal.h include/folio.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libfolio.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/folio-%: $(O)/obj/cli/folio-%.o $(CLI_COMMON) $(O)/libfolio.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(LIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/unit.h $(O)/libfolio.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libfolio.a $(LIBS) $(TEST_LIBS)

$(O)/folio.pc: folio.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(shell sed -n 's/^#define FOLIO_VERSION "\(.*\)"/\1/p' include/folio.h)|' \
	    -e 's|@REQUIRES@|$(DEPS)|' $< > $@

# Unit tests (cmocka) then the programs end to end, against build O.
check-unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

check-cli: $(PROGS)
	@FOLIO_BIN=$(abspath $(O)) SHARED=$(abspath $(SHARED)) tests/run-cli

# Everything: dependencies, the plain build, then ASan+UBSan.
check: deps
	$(MAKE) all
	$(MAKE) check-unit check-cli check-fuzz
	$(MAKE) asan

asan:
	$(MAKE) O=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    all check-unit check-cli check-fuzz

demo: deps
	$(MAKE) all
	@FOLIO_BIN=$(abspath $(O)) tools/demo

bench:
	@tools/install-deps bench
	$(MAKE) all
	@FOLIO_BIN=$(abspath $(O)) tools/bench
	@FOLIO_BIN=$(abspath $(O)) tools/delta-bench

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(O)/libfolio.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(O)/folio.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 include/folio.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 docs/folio-pack.1 docs/folio-unpack.1 $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/folio-pack $(DESTDIR)$(BINDIR)/folio-unpack \
	    $(DESTDIR)$(LIBDIR)/libfolio.a $(DESTDIR)$(LIBDIR)/pkgconfig/folio.pc \
	    $(DESTDIR)$(INCLUDEDIR)/folio.h \
	    $(DESTDIR)$(MANDIR)/man1/folio-pack.1 $(DESTDIR)$(MANDIR)/man1/folio-unpack.1

clean:
	rm -rf build build-asan build-replay build-asan-replay build-fuzz \
	    build-aarch64 build-armhf

# ---- fuzzing (tests/fuzz/) ------------------------------------------------------
# Each harness tests/fuzz/fuzz_NAME.c (with common.c) builds two ways, both
# with libfolio compiled -DFOLIO_FUZZING.  That switch lets fuzzed input past
# the Ed25519 signature, the BLAKE2b content hashes and the zstd checksums,
# so no normal build ever defines it; its objects live apart, in obj-fuzzing/.
#   make fuzz        libFuzzer with clang-14 and ASan+UBSan in $(FUZZ_O)/,
#                    then FUZZ_SECONDS of fuzzing per harness (tools/fuzz)
#   make check-fuzz  plain replay programs (tests/fuzz/replay.c, $(CC), -Werror)
#                    in $(O)-replay/, replaying the saved tests/fuzz/corpus/NAME/

FUZZ_NAMES     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC        ?= clang-14
FUZZ_O         ?= build-fuzz
FUZZ_SECONDS   ?= 60
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS    := $(filter-out $(OPT) $(WERROR) $(SAN),$(ALL_CFLAGS)) \
                  -DFOLIO_FUZZING -g -O1 -fno-omit-frame-pointer
FUZZ_LIB_OBJ   := $(LIB_SRC:src/%.c=$(FUZZ_O)/obj-fuzzing/%.o) $(FUZZ_O)/obj-fuzzing/gen/search-js.o
FUZZ_HARNESS   := tests/fuzz/common.c tests/fuzz/fuzz.h include/folio.h src/folio-internal.h
REPLAY_O       := $(O)-replay
REPLAY_LIB_OBJ := $(LIB_SRC:src/%.c=$(REPLAY_O)/obj-fuzzing/%.o) $(REPLAY_O)/obj-fuzzing/gen/search-js.o

.PHONY: fuzz fuzz-build check-fuzz clean-fuzz

fuzz:
	@tools/install-deps fuzz
	$(MAKE) fuzz-build
	@FUZZ_O=$(FUZZ_O) tools/fuzz all $(FUZZ_SECONDS)

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz-%)

$(FUZZ_O)/obj-fuzzing/%.o: src/%.c include/folio.h src/folio-internal.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

# The embedded script is data: plain flags for both.
$(FUZZ_O)/obj-fuzzing/gen/%.o: $(O)/gen/%.c src/folio-internal.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(REPLAY_O)/obj-fuzzing/gen/%.o: $(O)/gen/%.c src/folio-internal.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(FUZZ_O)/fuzz-%: tests/fuzz/fuzz_%.c $(FUZZ_HARNESS) $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ \
	    $(filter %.c %.o,$^) $(LIBS)

check-fuzz: $(FUZZ_NAMES:%=$(REPLAY_O)/replay-%)
	@st=0; for n in $(FUZZ_NAMES); do \
	    $(REPLAY_O)/replay-$$n tests/fuzz/corpus/$$n || st=1; done; exit $$st

$(REPLAY_O)/obj-fuzzing/%.o: src/%.c include/folio.h src/folio-internal.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFOLIO_FUZZING -c -o $@ $<

$(REPLAY_O)/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HARNESS) $(REPLAY_LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -DFOLIO_FUZZING $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LIBS)

clean-fuzz:
	rm -rf $(FUZZ_O) build-replay build-asan-replay

# --- Cross build (issue 3, part 7) -------------------------------------------
# Builds folio for aarch64 and armhf with Debian's cross compilers into
# build-aarch64/ and build-armhf/, and runs the CLI tests on the ARM programs
# under qemu-user.  Not part of check: it takes about 20 minutes.
# CROSS_TESTS="10 44 ..." runs only those tests; see tools/check-cross.
.PHONY: check-cross
check-cross:
	@SHARED=$(abspath $(SHARED)) CROSS_TESTS="$(CROSS_TESTS)" \
	    CROSS_CFLAGS="$(CROSS_CFLAGS)" tools/check-cross
