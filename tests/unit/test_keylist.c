/* SPDX-License-Identifier: ISC */
/* Key lists (FORMAT.md section 15): a good list parses; every strictness
 * rule refuses; folio_keylist_allows applies ranges and revocation; the
 * trusted comment and the root are checked; delegate and revoke write the
 * next version. */
#include "unit.h"

#define NAME "list-under-test.keys"
#define CREATED 1795800000
#define SAFE_MAX 9007199254740991ull

/* A fresh key pair: the secret in guarded memory, the public half plain. */
struct pair {
	folio_seckey *sk;
	folio_pubkey pk;
	char line[57]; /* line 2 of its .pub file */
};

static void make_pair(struct pair *p)
{
	p->sk = sodium_malloc(sizeof(*p->sk));
	assert_non_null(p->sk);
	randombytes_buf(p->sk->keyid, 8);
	uint8_t pk[32];
	crypto_sign_keypair(pk, p->sk->sk);
	folio_keyid_format(p->sk->id, p->sk->keyid);
	memcpy(p->pk.keyid, p->sk->keyid, 8);
	memcpy(p->pk.pk, pk, 32);
	memcpy(p->pk.id, p->sk->id, 17);
	uint8_t bin[42];
	memcpy(bin, "Ed", 2);
	memcpy(bin + 2, p->sk->keyid, 8);
	memcpy(bin + 10, pk, 32);
	char *b64 = unit_base64(bin, sizeof(bin));
	assert_int_equal(strlen(b64), 56);
	memcpy(p->line, b64, 57);
	free(b64);
}

static void free_pair(struct pair *p)
{
	sodium_free(p->sk);
}

/* The signature of json by key with the given trusted comment (malloc'd). */
static char *sign(folio_ctx *ctx, const folio_seckey *key, const char *json, const char *comment,
		  size_t *len)
{
	char *sig = NULL;
	UNIT_OK(ctx, folio_sig_create(ctx, key, json, strlen(json), comment, &sig, len));
	return sig;
}

static char *comment_for(const char *channel, unsigned long long version)
{
	char when[32], *c = NULL;
	folio_time_format(when, CREATED);
	assert_true(asprintf(&c, "folio-keys-1 channel:%s version:%llu created:%s", channel, version,
			     when) > 0);
	return c;
}

/* Parses json as signed by root with the comment for cairo-news version 3. */
static int parse_signed(folio_ctx *ctx, const struct pair *root, const char *json,
			struct folio_keylist **out)
{
	char *comment = comment_for("cairo-news", 3);
	size_t siglen;
	char *sig = sign(ctx, root->sk, json, comment, &siglen);
	folio_clear_error(ctx);
	int rc = folio_keylist_parse(ctx, NAME, json, strlen(json), sig, siglen, &root->pk, out);
	free(sig);
	free(comment);
	return rc;
}

/* A list of cairo-news, version 3, with the given keys array. */
static char *list_json(const char *keys)
{
	char *j = NULL;
	assert_true(asprintf(&j, "{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":3,"
				 "\"created\":%d,\"keys\":%s}\n", CREATED, keys) > 0);
	return j;
}

static char *key_json(const struct pair *p, const char *range)
{
	char *j = NULL;
	assert_true(asprintf(&j, "{\"id\":\"%s\",\"key\":\"%s\",%s}", p->pk.id, p->line, range) > 0);
	return j;
}

static void good_list_parses(void **state)
{
	struct unit_state *s = *state;
	struct pair root, day1, day2;
	make_pair(&root);
	make_pair(&day1);
	make_pair(&day2);
	char *k1 = key_json(&day1, "\"first\":1,\"last\":9007199254740991");
	char *k2 = key_json(&day2, "\"first\":1,\"last\":599,\"revoked\":1795900000,\"note\":\"x\"");
	char *keys = NULL;
	assert_true(asprintf(&keys, "[%s,%s]", k1, k2) > 0);
	char *json = list_json(keys);
	struct folio_keylist *kl = NULL;
	UNIT_OK(s->ctx, parse_signed(s->ctx, &root, json, &kl));
	assert_string_equal(folio_keylist_channel(kl), "cairo-news");
	assert_int_equal(folio_keylist_version(kl), 3);
	assert_int_equal(folio_keylist_created(kl), CREATED);
	assert_string_equal(folio_keylist_signer_id(kl), root.pk.id);
	assert_int_equal(folio_keylist_count(kl), 2);
	size_t len;
	assert_string_equal(folio_keylist_json(kl, &len), json);
	assert_int_equal(len, strlen(json));

	uint64_t first, last;
	bool revoked;
	const folio_pubkey *k = folio_keylist_find(kl, day1.pk.id, &first, &last, &revoked);
	assert_non_null(k);
	assert_memory_equal(k->pk, day1.pk.pk, 32);
	assert_int_equal(first, 1);
	assert_int_equal(last, SAFE_MAX);
	assert_false(revoked);
	k = folio_keylist_find(kl, day2.pk.id, &first, &last, &revoked);
	assert_non_null(k);
	assert_int_equal(last, 599);
	assert_true(revoked);
	assert_null(folio_keylist_find(kl, root.pk.id, NULL, NULL, NULL));
	int64_t when;
	const char *id;
	assert_int_equal(folio_keylist_key(kl, 1, &id, NULL, NULL, &when), 0);
	assert_string_equal(id, day2.pk.id);
	assert_int_equal(when, 1795900000);
	assert_int_equal(folio_keylist_key(kl, 2, NULL, NULL, NULL, NULL), FOLIO_EUSAGE);

	/* allows: ranges, revocation, keys not named */
	UNIT_OK(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day1.pk.id, 1));
	UNIT_OK(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day1.pk.id, SAFE_MAX));
	UNIT_OK(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day2.pk.id, 599));
	UNIT_REJECTS(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day1.pk.id, 0), "b.folio");
	UNIT_REJECTS(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day2.pk.id, 600), "b.folio");
	assert_non_null(strstr(folio_errmsg(s->ctx), "revoked (key list version 3)"));
	UNIT_REJECTS(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, root.pk.id, 5), "b.folio");
	assert_non_null(strstr(folio_errmsg(s->ctx), "does not name"));
	folio_keylist_free(kl);

	/* a range that is not revoked says which editions the key may sign */
	free(k2);
	free(keys);
	free(json);
	k2 = key_json(&day2, "\"first\":10,\"last\":20");
	assert_true(asprintf(&keys, "[%s]", k2) > 0);
	json = list_json(keys);
	UNIT_OK(s->ctx, parse_signed(s->ctx, &root, json, &kl));
	UNIT_REJECTS(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day2.pk.id, 21), "b.folio");
	assert_non_null(strstr(folio_errmsg(s->ctx), "edition 21 is outside the editions key"));
	assert_non_null(strstr(folio_errmsg(s->ctx), "(10 to 20)"));
	UNIT_REJECTS(s->ctx, folio_keylist_allows(s->ctx, "b.folio", kl, day2.pk.id, 9), "b.folio");
	folio_keylist_free(kl);

	free(k1);
	free(k2);
	free(keys);
	free(json);
	free_pair(&root);
	free_pair(&day1);
	free_pair(&day2);
}

static void strictness(void **state)
{
	struct unit_state *s = *state;
	struct pair root, day;
	make_pair(&root);
	make_pair(&day);
	char *good = key_json(&day, "\"first\":1,\"last\":5");
	char lower[17];
	for (int i = 0; i < 17; i++)
		lower[i] = (char)(day.pk.id[i] >= 'A' && day.pk.id[i] <= 'F' ? day.pk.id[i] + 32 : day.pk.id[i]);
	char *cases[64];
	size_t n = 0;
	const char *head = "\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":3,\"created\":1795800000";
#define CASE(...) assert_true(asprintf(&cases[n++], __VA_ARGS__) > 0)
	CASE("not json");
	CASE("[1,2]");
	CASE("{\"format\":\"folio-keys-2\",\"channel\":\"cairo-news\",\"version\":3,\"created\":1795800000,\"keys\":[%s]}", good);
	CASE("{%s,\"keys\":[%s],\"version\":3}", head, good);                 /* duplicate key */
	CASE("{%s,\"keys\":[%s,%s]}", head, good, good);                      /* duplicate id */
	CASE("{%s,\"keys\":[]}", head);                                      /* no keys */
	CASE("{%s,\"keys\":{}}", head);
	CASE("{%s}", head);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":\"3\",\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":0,\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":9007199254740992,\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":3,\"created\":-1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo-news\",\"version\":3.0,\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"Cairo\",\"version\":3,\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo\\u0007\",\"version\":3,\"created\":1,\"keys\":[%s]}", good);
	CASE("{\"format\":\"folio-keys-1\",\"channel\":\"cairo\\u0000\",\"version\":3,\"created\":1,\"keys\":[%s]}", good);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":0,\"last\":5}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":9007199254740992}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":5,\"revoked\":\"yes\"}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":5,\"first\":2}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":5}]}", head, lower, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":5}]}", head, root.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%.55s=\",\"first\":1,\"last\":5}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s \",\"first\":1,\"last\":5}]}", head, day.pk.id, day.line);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"RUTqC8nJl8wAYQy81OOXlYU/L1ItlVaHV3Ev8PB5A64b9eZz2DVQKWq6\",\"first\":1,\"last\":5}]}", head, day.pk.id);
	CASE("{%s,\"keys\":[{\"id\":\"%s\",\"key\":\"%s\",\"first\":1,\"last\":5}]}", head, day.pk.id, "");
	CASE("{%s,\"keys\":[7]}", head);
	/* 65 keys */
	{
		char *many = strdup("[");
		for (int i = 0; i < 65; i++) {
			struct pair p;
			make_pair(&p);
			char *k = key_json(&p, "\"first\":1,\"last\":5"), *joined = NULL;
			assert_true(asprintf(&joined, "%s%s%s", many, i ? "," : "", k) > 0);
			free(many);
			free(k);
			many = joined;
			free_pair(&p);
		}
		CASE("{%s,\"keys\":%s]}", head, many);
		free(many);
	}
#undef CASE
	for (size_t i = 0; i < n; i++) {
		struct folio_keylist *kl = (void *)1;
		int rc = parse_signed(s->ctx, &root, cases[i], &kl);
		if (rc != FOLIO_EREJECT)
			fail_msg("case %zu accepted: %s", i, cases[i]);
		UNIT_CHECK_FAILED(s->ctx, rc, FOLIO_EREJECT, NAME, cases[i]);
		assert_null(kl);
		free(cases[i]);
	}

	/* larger than 64 KiB, even if well signed */
	size_t big = FOLIO_KEYS_MAX + 1;
	char *json = malloc(big + 1);
	assert_non_null(json);
	memset(json, ' ', big);
	json[big] = '\0';
	struct folio_keylist *kl;
	UNIT_REJECTS(s->ctx, parse_signed(s->ctx, &root, json, &kl), NAME);
	free(json);
	free(good);
	free_pair(&root);
	free_pair(&day);
}

static void signature_and_comment(void **state)
{
	struct unit_state *s = *state;
	struct pair root, other, day;
	make_pair(&root);
	make_pair(&other);
	make_pair(&day);
	char *k = key_json(&day, "\"first\":1,\"last\":5");
	char *keys = NULL;
	assert_true(asprintf(&keys, "[%s]", k) > 0);
	char *json = list_json(keys);
	struct folio_keylist *kl;

	/* trusted comment that does not match the list */
	const char *bad_comments[] = {
		"folio-keys-1 channel:cairo-news version:4 created:2026-11-27T17:20:00Z",
		"folio-keys-1 channel:other version:3 created:2026-11-27T17:20:00Z",
		"folio-keys-1 channel:cairo-news version:3 created:2026-11-27T17:20:01Z",
		"folio-1 channel:cairo-news version:3 created:2026-11-27T17:20:00Z",
	};
	char *good_comment = comment_for("cairo-news", 3);
	assert_string_equal(good_comment, "folio-keys-1 channel:cairo-news version:3 created:2026-11-27T17:20:00Z");
	for (size_t i = 0; i < sizeof(bad_comments) / sizeof(bad_comments[0]); i++) {
		size_t siglen;
		char *sig = sign(s->ctx, root.sk, json, bad_comments[i], &siglen);
		UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen,
							 &root.pk, &kl), NAME);
		assert_non_null(strstr(folio_errmsg(s->ctx), "trusted comment"));
		free(sig);
	}

	/* the wrong root: signed by another key, or verified with another */
	size_t siglen;
	char *sig = sign(s->ctx, other.sk, json, good_comment, &siglen);
	UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen,
						 &root.pk, &kl), NAME);
	assert_non_null(strstr(folio_errmsg(s->ctx), "key list: signed by key"));
	free(sig);
	sig = sign(s->ctx, root.sk, json, good_comment, &siglen);
	UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen,
						 &day.pk, &kl), NAME);
	/* no root at all */
	UNIT_FAILS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen, NULL, &kl),
		   FOLIO_EUSAGE, NAME);
	/* a key id patched to the root's over another key's signature */
	struct pair forger = other;
	memcpy(forger.sk->keyid, root.sk->keyid, 8);
	char *forged = sign(s->ctx, forger.sk, json, good_comment, &siglen);
	UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), forged, siglen,
						 &root.pk, &kl), NAME);
	assert_non_null(strstr(folio_errmsg(s->ctx), "signature does not match"));
	free(forged);
	/* one flipped bit of the list */
	json[40] ^= 1;
	UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen,
						 &root.pk, &kl), NAME);
	json[40] ^= 1;
	/* the good one */
	UNIT_OK(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen, &root.pk, &kl));
	folio_keylist_free(kl);
	/* a malformed signature file */
	UNIT_REJECTS(s->ctx, folio_keylist_parse(s->ctx, NAME, json, strlen(json), sig, siglen - 1,
						 &root.pk, &kl), NAME);
	char id[17];
	UNIT_OK(s->ctx, folio_keylist_sig_keyid(s->ctx, NAME, sig, siglen, id));
	assert_string_equal(id, root.pk.id);
	free(sig);
	free(good_comment);
	free(json);
	free(keys);
	free(k);
	free_pair(&root);
	free_pair(&other);
	free_pair(&day);
}

static void delegate_and_revoke(void **state)
{
	struct unit_state *s = *state;
	struct pair root, other, day1, day2;
	make_pair(&root);
	make_pair(&other);
	make_pair(&day1);
	make_pair(&day2);
	char *path = unit_path(s->dir, "news.keys");
	setenv("SOURCE_DATE_EPOCH", "1795800000", 1);
	folio_keylist *kl;

	/* revoke before there is a list */
	UNIT_FAILS(s->ctx, folio_keys_revoke(s->ctx, path, root.sk, day1.pk.id, "news", -1),
		   FOLIO_EUSAGE, path);
	UNIT_OK(s->ctx, folio_keys_delegate(s->ctx, path, root.sk, &day1.pk, "news", 1, 100));
	UNIT_OK(s->ctx, folio_keylist_load(s->ctx, path, &root.pk, &kl));
	assert_int_equal(folio_keylist_version(kl), 1);
	assert_int_equal(folio_keylist_count(kl), 1);
	folio_keylist_free(kl);

	/* a second key, then day1's range replaced */
	UNIT_OK(s->ctx, folio_keys_delegate(s->ctx, path, root.sk, &day2.pk, "news", 50, SAFE_MAX));
	UNIT_OK(s->ctx, folio_keys_delegate(s->ctx, path, root.sk, &day1.pk, "news", 1, 80));
	UNIT_OK(s->ctx, folio_keylist_load(s->ctx, path, &root.pk, &kl));
	assert_int_equal(folio_keylist_version(kl), 3);
	assert_int_equal(folio_keylist_count(kl), 2);
	uint64_t first, last;
	int64_t revoked;
	const char *id;
	assert_int_equal(folio_keylist_key(kl, 0, &id, &first, &last, &revoked), 0);
	assert_string_equal(id, day1.pk.id);
	assert_int_equal(first, 1);
	assert_int_equal(last, 80);
	assert_int_equal(revoked, -1);
	folio_keylist_free(kl);

	/* revoke with --after, then without; a key not named; wrong root or channel */
	UNIT_OK(s->ctx, folio_keys_revoke(s->ctx, path, root.sk, day1.pk.id, "news", 40));
	UNIT_OK(s->ctx, folio_keylist_load(s->ctx, path, &root.pk, &kl));
	assert_int_equal(folio_keylist_key(kl, 0, NULL, NULL, &last, &revoked), 0);
	assert_int_equal(last, 40);
	assert_int_equal(revoked, 1795800000);
	folio_keylist_free(kl);
	UNIT_OK(s->ctx, folio_keys_revoke(s->ctx, path, root.sk, day2.pk.id, "news", -1));
	UNIT_FAILS(s->ctx, folio_keys_revoke(s->ctx, path, root.sk, other.pk.id, "news", -1),
		   FOLIO_EUSAGE, path);
	UNIT_REJECTS(s->ctx, folio_keys_delegate(s->ctx, path, other.sk, &day1.pk, "news", 1, 5), path);
	UNIT_FAILS(s->ctx, folio_keys_delegate(s->ctx, path, root.sk, &day1.pk, "sport", 1, 5),
		   FOLIO_EUSAGE, path);
	UNIT_OK(s->ctx, folio_keylist_load(s->ctx, path, NULL, &kl));
	assert_int_equal(folio_keylist_version(kl), 5);
	assert_int_equal(folio_keylist_key(kl, 1, NULL, NULL, &last, &revoked), 0);
	assert_int_equal(last, 0);
	assert_int_equal(revoked, 1795800000);
	folio_keylist_free(kl);
	/* re-delegating clears the revocation */
	UNIT_OK(s->ctx, folio_keys_delegate(s->ctx, path, root.sk, &day2.pk, "news", 60, 70));
	UNIT_OK(s->ctx, folio_keylist_load(s->ctx, path, &root.pk, &kl));
	assert_int_equal(folio_keylist_key(kl, 1, NULL, &first, &last, &revoked), 0);
	assert_int_equal(revoked, -1);
	assert_int_equal(first, 60);
	folio_keylist_free(kl);
	/* the other key cannot load it as root */
	UNIT_REJECTS(s->ctx, folio_keylist_load(s->ctx, path, &other.pk, &kl), path);
	unsetenv("SOURCE_DATE_EPOCH");
	free(path);
	free_pair(&root);
	free_pair(&other);
	free_pair(&day1);
	free_pair(&day2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(good_list_parses),
		UNIT_TEST(strictness),
		UNIT_TEST(signature_and_comment),
		UNIT_TEST(delegate_and_revoke),
	};

	return cmocka_run_group_tests_name("keylist", tests, NULL, NULL);
}
