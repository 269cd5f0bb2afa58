/* SPDX-License-Identifier: ISC */
/* The encrypted conformance key.  Each load runs scrypt at minisign's
 * default cost (about 1 GiB and a few seconds), so this binary makes exactly
 * two derivations: the right passphrase and a wrong one. */
#include "unit.h"

#define ENC_ID "63F41420AFF8FF53"

static void right_passphrase_decrypts(void **state)
{
	struct unit_state *s = *state;
	char *kpath = unit_conf_path("enc.key");
	char *ppath = unit_conf_path("enc.pub");
	folio_seckey *sk = NULL;
	folio_pubkey *pk = NULL;
	uint8_t seed_pk[32], seed_sk[64];
	char *sig = NULL;
	size_t siglen = 0;
	struct folio_sig parsed;

	UNIT_OK(s->ctx, folio_pubkey_load(s->ctx, ppath, &pk));
	UNIT_OK(s->ctx, folio_seckey_load(s->ctx, kpath, "fixture-pw", &sk));
	assert_non_null(sk);
	assert_string_equal(folio_seckey_id(sk), ENC_ID);
	assert_string_equal(folio_pubkey_id(pk), ENC_ID);
	assert_memory_equal(sk->keyid, pk->keyid, 8);
	assert_memory_equal(sk->sk + 32, pk->pk, 32);
	crypto_sign_seed_keypair(seed_pk, seed_sk, sk->sk);
	assert_memory_equal(seed_pk, pk->pk, 32);

	/* And it signs: enc.pub verifies what it signed. */
	UNIT_OK(s->ctx, folio_sig_create(s->ctx, sk, "news", 4, "enc", &sig,
					 &siglen));
	UNIT_OK(s->ctx, folio_sig_parse(s->ctx, "enc.minisig", sig, siglen,
					&parsed));
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, "enc.minisig", &parsed, pk,
					 "news", 4));
	free(sig);

	folio_seckey_free(sk);
	folio_pubkey_free(pk);
	free(kpath);
	free(ppath);
}

static void wrong_passphrase_is_rejected(void **state)
{
	struct unit_state *s = *state;
	char *kpath = unit_conf_path("enc.key");
	folio_seckey *sk = NULL;

	UNIT_REJECTS(s->ctx,
		     folio_seckey_load(s->ctx, kpath, "fixture-pW", &sk),
		     kpath);
	assert_null(sk);
	free(kpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(right_passphrase_decrypts),
		UNIT_TEST(wrong_passphrase_is_rejected),
	};

	return cmocka_run_group_tests_name("enckey", tests, NULL, NULL);
}
