/* SPDX-License-Identifier: ISC */
/* The key list parser (folio_keylist_parse) with the test key as the root:
 * the input is the list's JSON, a NUL, then its .minisig text.  The fuzzing
 * build ignores Ed25519 results, so the key id check, the trusted comment
 * and the strict JSON rules behind them are what runs.  A list that parses
 * must keep its promises: sizes and ranges in bounds, unique ids, each key
 * found by its id, and folio_keylist_allows agreeing with the ranges. */
#include <string.h>

#include "fuzz.h"

#define SAFE_MAX ((1ull << 53) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int reject_only[] = {FOLIO_EREJECT, 0};
	folio_ctx *ctx = fuzz_ctx();
	const uint8_t *nul = memchr(data, 0, size);
	size_t json_len = nul != NULL ? (size_t)(nul - data) : size;
	const char *json = (const char *)data;
	const char *sig = nul != NULL ? (const char *)nul + 1 : "";
	size_t sig_len = nul != NULL ? size - json_len - 1 : 0;
	struct folio_keylist *kl = (void *)&ctx; /* must be set to NULL on failure */
	int rc = folio_keylist_parse(ctx, "fuzz.keys", json, json_len, sig, sig_len,
				     fuzz_test_key(), &kl);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, reject_only);
		FUZZ_ASSERT(kl == NULL);
		return 0;
	}
	fuzz_note("key list parsed: version %llu, %zu keys",
		  (unsigned long long)folio_keylist_version(kl), folio_keylist_count(kl));
	size_t len;
	FUZZ_ASSERT(json_len <= FOLIO_KEYS_MAX);
	FUZZ_ASSERT(folio_keylist_json(kl, &len) != NULL && len == json_len);
	FUZZ_ASSERT(memcmp(folio_keylist_json(kl, NULL), json, len) == 0);
	FUZZ_ASSERT(strcmp(folio_keylist_signer_id(kl), fuzz_test_key()->id) == 0);
	FUZZ_ASSERT(folio_channel_valid(folio_keylist_channel(kl)));
	uint64_t version = folio_keylist_version(kl);
	FUZZ_ASSERT(version >= 1 && version <= SAFE_MAX);
	FUZZ_ASSERT(folio_keylist_created(kl) >= 0 && (uint64_t)folio_keylist_created(kl) <= SAFE_MAX);
	size_t n = folio_keylist_count(kl);
	FUZZ_ASSERT(n >= 1 && n <= 64);
	for (size_t i = 0; i < n; i++) {
		const char *id;
		uint64_t first, last, f2, l2;
		int64_t revoked;
		bool is_revoked;
		FUZZ_ASSERT(folio_keylist_key(kl, i, &id, &first, &last, &revoked) == FOLIO_OK);
		FUZZ_ASSERT(strlen(id) == 16 && strspn(id, "0123456789ABCDEF") == 16);
		FUZZ_ASSERT(first >= 1 && first <= SAFE_MAX && last <= SAFE_MAX);
		for (size_t j = 0; j < i; j++) {
			const char *other;
			FUZZ_ASSERT(folio_keylist_key(kl, j, &other, NULL, NULL, NULL) == FOLIO_OK);
			FUZZ_ASSERT(strcmp(id, other) != 0);
		}
		const folio_pubkey *k = folio_keylist_find(kl, id, &f2, &l2, &is_revoked);
		FUZZ_ASSERT(k != NULL && strcmp(k->id, id) == 0);
		FUZZ_ASSERT(f2 == first && l2 == last && is_revoked == (revoked >= 0));
		folio_clear_error(ctx);
		rc = folio_keylist_allows(ctx, "fuzz.folio", kl, id, first);
		FUZZ_ASSERT((rc == FOLIO_OK) == (first <= last));
		if (rc != FOLIO_OK)
			fuzz_check_failure(ctx, rc, reject_only);
		folio_clear_error(ctx);
		rc = folio_keylist_allows(ctx, "fuzz.folio", kl, id, last + 1);
		FUZZ_ASSERT(rc == FOLIO_EREJECT);
		fuzz_check_failure(ctx, rc, reject_only);
		FUZZ_ASSERT(strncmp(folio_errmsg(ctx), "cannot verify 'fuzz.folio': ", 28) == 0);
	}
	FUZZ_ASSERT(folio_keylist_key(kl, n, NULL, NULL, NULL, NULL) == FOLIO_EUSAGE);
	folio_clear_error(ctx);
	FUZZ_ASSERT(folio_keylist_allows(ctx, "fuzz.folio", kl, "0000000000000000", 1) == FOLIO_EREJECT ||
		    folio_keylist_find(kl, "0000000000000000", NULL, NULL, NULL) != NULL);
	folio_keylist_free(kl);
	return 0;
}
