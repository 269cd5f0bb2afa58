/* SPDX-License-Identifier: ISC */
/* The key file parsers: every input is read as a public key and as a secret
 * key.  The secret key is parsed without a passphrase, so an encrypted key
 * stops at FOLIO_ENEEDPASS and scrypt never runs (its cost would drown the
 * fuzzer); the unencrypted path runs whole.  A secret key that loads must
 * sign a message whose signature then parses and verifies. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static bool is_key_id(const char *id)
{
	return strlen(id) == 16 && strspn(id, "0123456789ABCDEF") == 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int pub_codes[] = {FOLIO_EREJECT, 0};
	static const int sec_codes[] = {FOLIO_EREJECT, FOLIO_ENEEDPASS, 0};
	folio_ctx *ctx = fuzz_ctx();
	const char *text = (const char *)data;

	folio_pubkey *pub = NULL;
	int rc = folio_pubkey_parse(ctx, "fuzz.pub", text, size, &pub);
	if (rc != FOLIO_OK) {
		FUZZ_ASSERT(pub == NULL);
		fuzz_check_failure(ctx, rc, pub_codes);
	} else {
		FUZZ_ASSERT(is_key_id(folio_pubkey_id(pub)));
		fuzz_note("public key %s", folio_pubkey_id(pub));
		folio_pubkey_free(pub);
	}

	folio_clear_error(ctx);
	folio_seckey *sec = NULL;
	rc = folio_seckey_parse(ctx, "fuzz.key", text, size, NULL, &sec);
	if (rc != FOLIO_OK) {
		FUZZ_ASSERT(sec == NULL);
		fuzz_check_failure(ctx, rc, sec_codes);
		return 0;
	}
	FUZZ_ASSERT(is_key_id(folio_seckey_id(sec)));
	fuzz_note("secret key %s", folio_seckey_id(sec));
	static const char msg[] = "{\"format\":\"folio-1\"}\n";
	char *sig_text = NULL;
	size_t sig_len = 0;
	rc = folio_sig_create(ctx, sec, msg, sizeof(msg) - 1, "folio-1 fuzz", &sig_text, &sig_len);
	FUZZ_ASSERT(rc == FOLIO_OK);
	struct folio_sig sig;
	rc = folio_sig_parse(ctx, "fuzz.minisig", sig_text, sig_len, &sig);
	FUZZ_ASSERT(rc == FOLIO_OK);
	FUZZ_ASSERT(strcmp(sig.comment, "folio-1 fuzz") == 0);
	/* its own public half verifies it */
	folio_pubkey own;
	memcpy(own.keyid, sec->keyid, sizeof(own.keyid));
	memcpy(own.pk, sec->sk + 32, sizeof(own.pk));
	folio_keyid_format(own.id, own.keyid);
	rc = folio_sig_verify(ctx, "fuzz.minisig", &sig, &own, msg, sizeof(msg) - 1);
	FUZZ_ASSERT(rc == FOLIO_OK);
	free(sig_text);
	folio_seckey_free(sec);
	return 0;
}
