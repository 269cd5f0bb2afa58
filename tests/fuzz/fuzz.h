/* SPDX-License-Identifier: ISC */
/* Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c).  Each harness is one
 * LLVMFuzzerTestOneInput; linked with libFuzzer it fuzzes, linked with
 * replay.c it replays saved inputs in `make check`.  Both builds compile
 * libfolio with -DFOLIO_FUZZING, which skips the Ed25519, BLAKE2b and zstd
 * checksum checks that random bytes can never pass. */
#ifndef FOLIO_FUZZ_H
#define FOLIO_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "folio-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness found a bug that is not a crash: print where and abort, so that
 * libFuzzer keeps the input and the replay counts it as failed. */
#define FUZZ_ASSERT(cond) \
	((cond) ? (void)0 : fuzz_abort(__FILE__, __LINE__, #cond))
_Noreturn void fuzz_abort(const char *file, int line, const char *what);

/* With FUZZ_DEBUG=1 in the environment, prints one line to stderr: how an
 * input ended (for a look at what the saved corpus reaches). */
void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fixtures/keys/test.pub, key id 6100CC97C9C90BEA, as text. */
extern const char fuzz_test_pub[];

/* The process's context (made on first use; the error is cleared on each
 * call) and the test public key parsed from fuzz_test_pub. */
folio_ctx *fuzz_ctx(void);
const folio_pubkey *fuzz_test_key(void);

/* After a call failed with rc: rc is one of the allowed codes (a list ending
 * in 0), the context holds the same code and one non-empty printable line. */
void fuzz_check_failure(folio_ctx *ctx, int rc, const int *allowed);

/* The whole reader on bundle bytes, with the test key and small limits:
 * folio_bundle_open() and folio_bundle_verify(); then, in a scratch
 * directory, folio_bundle_unpack() into a new folder, which must give the
 * same verdict and, on failure, leave the directory empty; after a success,
 * every file the manifest lists is there with its size and mode, nothing
 * else is, and unpacking again with FOLIO_FORCE over it succeeds. */
void fuzz_unpack(const uint8_t *bundle, size_t size);

#endif
