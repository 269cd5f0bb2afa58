/* SPDX-License-Identifier: ISC */
/* The minisign signature parser (folio_sig_parse) on a whole .minisig file,
 * then folio_sig_verify against the test key (whose Ed25519 results the
 * fuzzing build ignores: the key id check and the plumbing still run). */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int reject_only[] = {FOLIO_EREJECT, 0};
	folio_ctx *ctx = fuzz_ctx();
	const folio_pubkey *key = fuzz_test_key();
	struct folio_sig sig;
	memset(&sig, 0xa5, sizeof(sig)); /* a field the parser forgets shows */
	int rc = folio_sig_parse(ctx, "fuzz.minisig", (const char *)data, size, &sig);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, reject_only);
		return 0;
	}
	/* what a parsed signature promises its users */
	FUZZ_ASSERT(size <= FOLIO_SIGNATURE_MAX);
	FUZZ_ASSERT(sig.comment_len <= FOLIO_COMMENT_MAX);
	FUZZ_ASSERT(sig.comment[sig.comment_len] == '\0');
	FUZZ_ASSERT(strlen(sig.comment) == sig.comment_len);
	FUZZ_ASSERT(strpbrk(sig.comment, "\r\n") == NULL);

	folio_clear_error(ctx);
	rc = folio_sig_verify(ctx, "fuzz.minisig", &sig, key, data, size);
	if (rc != FOLIO_OK)
		fuzz_check_failure(ctx, rc, reject_only);
	else
		fuzz_note("signature parsed and verified");
	if (rc == FOLIO_OK)
		FUZZ_ASSERT(memcmp(sig.keyid, key->keyid, sizeof(sig.keyid)) == 0);
	return 0;
}
