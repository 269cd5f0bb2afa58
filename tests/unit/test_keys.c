/* SPDX-License-Identifier: ISC */
/* Key files: minisign's public and secret key formats, and folio_keygen().
 * The encrypted key's scrypt derivations are in test_enckey.c. */
#include "unit.h"

#include <signal.h>
#include <time.h>

#define TEST_ID "6100CC97C9C90BEA"
#define OTHER_ID "2F11F59ED5985007"
#define ENC_ID "63F41420AFF8FF53"

/* The raw bytes of test.pub's key line: "Ed" | key id | public key. */
static void test_pub_raw(uint8_t raw[42])
{
	size_t len, n;
	char *pub = unit_read_conf("test.pub", &len);
	const char *line = unit_line(pub, len, 1, &n);

	assert_int_equal(unit_unbase64(raw, 42, line, n), 42);
	free(pub);
}

static folio_pubkey *load_pub(folio_ctx *ctx, const char *name)
{
	char *path = unit_conf_path(name);
	folio_pubkey *k = NULL;

	UNIT_OK(ctx, folio_pubkey_load(ctx, path, &k));
	assert_non_null(k);
	free(path);
	return k;
}

static void fresh_context_has_no_error(void **state)
{
	struct unit_state *s = *state;

	assert_string_equal(folio_errmsg(s->ctx), "");
	assert_int_equal(folio_errcode(s->ctx), FOLIO_OK);
	assert_non_null(folio_version_string());
	assert_non_null(strstr(folio_version_string(), FOLIO_VERSION));
	folio_free(NULL);
	folio_pubkey_free(NULL);
	folio_seckey_free(NULL);
	folio_bundle_free(NULL);
}

static void loads_conformance_public_keys(void **state)
{
	struct unit_state *s = *state;
	static const uint8_t test_keyid[8] = { 0xea, 0x0b, 0xc9, 0xc9,
					       0x97, 0xcc, 0x00, 0x61 };
	uint8_t raw[42];
	folio_pubkey *k;

	k = load_pub(s->ctx, "test.pub");
	assert_string_equal(folio_pubkey_id(k), TEST_ID);
	assert_memory_equal(k->keyid, test_keyid, 8);
	test_pub_raw(raw);
	assert_memory_equal(k->pk, raw + 10, 32);
	folio_pubkey_free(k);

	k = load_pub(s->ctx, "other.pub");
	assert_string_equal(folio_pubkey_id(k), OTHER_ID);
	folio_pubkey_free(k);

	k = load_pub(s->ctx, "enc.pub");
	assert_string_equal(folio_pubkey_id(k), ENC_ID);
	folio_pubkey_free(k);
}

static void keyid_format_is_minisigns(void **state)
{
	(void)state;
	static const uint8_t id[8] = { 0xea, 0x0b, 0xc9, 0xc9,
				       0x97, 0xcc, 0x00, 0x61 };
	static const uint8_t small[8] = { 0x01, 0, 0, 0, 0, 0, 0, 0 };
	char out[17];

	folio_keyid_format(out, id);
	assert_string_equal(out, TEST_ID);
	folio_keyid_format(out, small);
	assert_string_equal(out, "0000000000000001");
}

/* The public key parser on a file written with the given bytes. */
static void pub_file(struct unit_state *s, const char *name, const char *data,
		     size_t len, int expect)
{
	char *path = unit_path(s->dir, name);
	folio_pubkey *k = NULL;

	unit_write_file(path, data, len);
	if (expect == FOLIO_OK) {
		UNIT_OK(s->ctx, folio_pubkey_load(s->ctx, path, &k));
		assert_string_equal(folio_pubkey_id(k), TEST_ID);
	} else {
		UNIT_REJECTS(s->ctx, folio_pubkey_load(s->ctx, path, &k), path);
		assert_null(k);
	}
	folio_pubkey_free(k);
	free(path);

	/* The in-memory parser agrees and names what it is given. */
	k = NULL;
	if (expect == FOLIO_OK) {
		UNIT_OK(s->ctx, folio_pubkey_parse(s->ctx, name, data, len, &k));
	} else {
		UNIT_REJECTS(s->ctx,
			     folio_pubkey_parse(s->ctx, name, data, len, &k),
			     name);
		assert_null(k);
	}
	folio_pubkey_free(k);
}

/* A public key file whose key line encodes raw (n bytes). */
static void pub_with_raw(struct unit_state *s, const char *name,
			 const uint8_t *raw, size_t n, int expect)
{
	char *b64 = unit_base64(raw, n);
	char *text = unit_join("untrusted comment: minisign public key "
			       TEST_ID "\n", b64, "\n");

	pub_file(s, name, text, strlen(text), expect);
	free(text);
	free(b64);
}

static void public_key_variants(void **state)
{
	struct unit_state *s = *state;
	size_t len;
	char *good = unit_read_conf("test.pub", &len);
	uint8_t raw[43];
	char buf[512];

	/* The file as minisign writes it, rewritten byte for byte. */
	pub_file(s, "same.pub", good, len, FOLIO_OK);

	/* minisign reads lines with fgets and trims them: CRLF line ends and
	 * a missing final newline load as well. */
	snprintf(buf, sizeof buf,
		 "untrusted comment: minisign public key " TEST_ID "\r\n"
		 "RWTqC8nJl8wAYQy81OOXlYU/L1ItlVaHV3Ev8PB5A64b9eZz2DVQKWq6\r\n");
	pub_file(s, "crlf.pub", buf, strlen(buf), FOLIO_OK);
	pub_file(s, "no-final-newline.pub", good, len - 1, FOLIO_OK);

	test_pub_raw(raw);
	pub_with_raw(s, "rebuilt.pub", raw, 42, FOLIO_OK);
	free(good);
}

static void malformed_public_keys(void **state)
{
	struct unit_state *s = *state;
	size_t len;
	char *good = unit_read_conf("test.pub", &len);
	uint8_t raw[43];
	char *bad;

	pub_file(s, "empty.pub", "", 0, FOLIO_EREJECT);
	pub_file(s, "comment-only.pub", good, strchr(good, '\n') + 1 - good,
		 FOLIO_EREJECT);
	/* The key line alone: minisign reads it as the comment line. */
	bad = strchr(good, '\n') + 1;
	pub_file(s, "key-line-only.pub", bad, strlen(bad), FOLIO_EREJECT);

	test_pub_raw(raw);
	pub_with_raw(s, "short.pub", raw, 41, FOLIO_EREJECT);
	raw[42] = 0x55;
	pub_with_raw(s, "long.pub", raw, 43, FOLIO_EREJECT);
	pub_with_raw(s, "empty-key.pub", raw, 0, FOLIO_EREJECT);

	/* The algorithm must be "Ed" for a public key. */
	raw[0] = 'E';
	raw[1] = 'D';
	pub_with_raw(s, "alg-ED.pub", raw, 42, FOLIO_EREJECT);
	raw[0] = 'e';
	raw[1] = 'd';
	pub_with_raw(s, "alg-ed.pub", raw, 42, FOLIO_EREJECT);
	raw[0] = 0;
	raw[1] = 0;
	pub_with_raw(s, "alg-zero.pub", raw, 42, FOLIO_EREJECT);

	/* Not base64: a character outside the alphabet, broken padding. */
	bad = unit_join(good, "", NULL);
	bad[len - 10] = '!';
	pub_file(s, "bad-char.pub", bad, len, FOLIO_EREJECT);
	memcpy(bad, good, len);
	bad[len - 10] = '-'; /* URL-safe alphabet */
	pub_file(s, "urlsafe.pub", bad, len, FOLIO_EREJECT);
	memcpy(bad, good, len);
	bad[len - 10] = ' ';
	pub_file(s, "space.pub", bad, len, FOLIO_EREJECT);
	/* Bytes above 0x7f are not base64 (libsodium 1.0.18's decoder
	 * reads them as '/'). */
	memcpy(bad, good, len);
	bad[len - 10] = (char)0xc3;
	pub_file(s, "high-byte.pub", bad, len, FOLIO_EREJECT);
	memcpy(bad, good, len);
	bad[len - 10] = (char)0x80;
	pub_file(s, "0x80.pub", bad, len, FOLIO_EREJECT);

	/* A NUL in the key line. */
	memcpy(bad, good, len);
	bad[len - 20] = '\0';
	pub_file(s, "nul.pub", bad, len, FOLIO_EREJECT);
	free(bad);

	/* Key line cut short, and with extra characters after it. */
	pub_file(s, "cut.pub", good, len - 5, FOLIO_EREJECT);
	bad = unit_join("untrusted comment: x\n",
			"RWTqC8nJl8wAYQy81OOXlYU/L1ItlVaHV3Ev8PB5A64b9eZz2DVQKWq6AAAA",
			"\n");
	pub_file(s, "extra-b64.pub", bad, strlen(bad), FOLIO_EREJECT);
	free(bad);
	free(good);
}

static void missing_public_key_file(void **state)
{
	struct unit_state *s = *state;
	char *path = unit_path(s->dir, "absent.pub");
	folio_pubkey *k = NULL;
	int rc = folio_pubkey_load(s->ctx, path, &k);

	/* Not there: an I/O failure of the caller's making, not a bad key. */
	assert_true(rc == FOLIO_ESYSTEM || rc == FOLIO_EUSAGE);
	assert_int_equal(folio_errcode(s->ctx), rc);
	assert_true(unit_message_ok(s->ctx, path));
	assert_null(k);
	free(path);

	/* A folder is not a key file. */
	rc = folio_pubkey_load(s->ctx, s->dir, &k);
	assert_true(rc < 0);
	assert_true(unit_message_ok(s->ctx, s->dir));
	assert_null(k);
}

static volatile sig_atomic_t alarm_rang;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_rang = 1;
}

/* A FIFO, a device or a folder given as a key file is refused, and at once:
 * opening a FIFO for reading must not wait for a writer. */
static void special_files_are_refused(void **state)
{
	struct unit_state *s = *state;
	char *fifo = unit_path(s->dir, "fifo.pub");
	struct sigaction sa, old;
	folio_pubkey *k = NULL;
	folio_seckey *sk = NULL;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: a blocked open() returns */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);

	alarm_rang = 0;
	folio_clear_error(s->ctx);
	alarm(2);
	int rc = folio_pubkey_load(s->ctx, fifo, &k);
	alarm(0);
	if (alarm_rang)
		fail_msg("folio_pubkey_load blocked on FIFO '%s' until "
			 "interrupted (rc %d, \"%s\")",
			 fifo, rc, folio_errmsg(s->ctx));
	UNIT_CHECK_FAILED(s->ctx, rc, FOLIO_EREJECT, fifo, "FIFO key file");
	assert_null(k);

	alarm_rang = 0;
	folio_clear_error(s->ctx);
	alarm(2);
	rc = folio_seckey_load(s->ctx, fifo, NULL, &sk);
	alarm(0);
	if (alarm_rang)
		fail_msg("folio_seckey_load blocked on FIFO '%s' until "
			 "interrupted (rc %d, \"%s\")",
			 fifo, rc, folio_errmsg(s->ctx));
	UNIT_CHECK_FAILED(s->ctx, rc, FOLIO_EREJECT, fifo, "FIFO key file");
	assert_null(sk);
	sigaction(SIGALRM, &old, NULL);

	UNIT_REJECTS(s->ctx, folio_pubkey_load(s->ctx, "/dev/null", &k),
		     "/dev/null");
	UNIT_REJECTS(s->ctx, folio_pubkey_load(s->ctx, s->dir, &k), s->dir);
	assert_null(k);
	free(fifo);
}

static void loads_unencrypted_secret_key(void **state)
{
	struct unit_state *s = *state;
	char *path = unit_conf_path("test.key");
	folio_seckey *sk = NULL;
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	uint8_t seed_pk[32], seed_sk[64];

	UNIT_OK(s->ctx, folio_seckey_load(s->ctx, path, NULL, &sk));
	assert_non_null(sk);
	assert_string_equal(folio_seckey_id(sk), TEST_ID);
	assert_memory_equal(sk->keyid, pk->keyid, 8);
	/* Its public half is test.pub's key, and the seed really gives it. */
	assert_memory_equal(sk->sk + 32, pk->pk, 32);
	crypto_sign_seed_keypair(seed_pk, seed_sk, sk->sk);
	assert_memory_equal(seed_pk, pk->pk, 32);
	folio_seckey_free(sk);
	folio_pubkey_free(pk);
	free(path);
}

static void encrypted_key_needs_passphrase(void **state)
{
	struct unit_state *s = *state;
	char *path = unit_conf_path("enc.key");
	folio_seckey *sk = NULL;

	UNIT_FAILS(s->ctx, folio_seckey_load(s->ctx, path, NULL, &sk),
		   FOLIO_ENEEDPASS, path);
	assert_null(sk);
	free(path);
}

/* The raw 158 bytes of test.key's key line. */
static void test_key_raw(uint8_t raw[159])
{
	size_t len, n;
	char *key = unit_read_conf("test.key", &len);
	const char *line = unit_line(key, len, 1, &n);

	assert_int_equal(unit_unbase64(raw, 159, line, n), 158);
	free(key);
}

static void sec_with_raw(struct unit_state *s, const char *name,
			 const uint8_t *raw, size_t n)
{
	char *b64 = unit_base64(raw, n);
	char *text = unit_join("untrusted comment: minisign secret key\n", b64,
			       "\n");
	char *path = unit_path(s->dir, name);
	folio_seckey *sk = NULL;

	unit_write_file(path, text, strlen(text));
	UNIT_REJECTS(s->ctx, folio_seckey_load(s->ctx, path, NULL, &sk), path);
	assert_null(sk);
	sk = NULL;
	UNIT_REJECTS(s->ctx,
		     folio_seckey_parse(s->ctx, name, text, strlen(text), NULL,
					&sk),
		     name);
	assert_null(sk);
	free(path);
	free(text);
	free(b64);
}

static void malformed_secret_keys(void **state)
{
	struct unit_state *s = *state;
	uint8_t raw[159], tmp[159];
	char *path = unit_path(s->dir, "empty.key");
	folio_seckey *sk = NULL;

	unit_write_file(path, "", 0);
	UNIT_REJECTS(s->ctx, folio_seckey_load(s->ctx, path, NULL, &sk), path);
	assert_null(sk);
	free(path);

	test_key_raw(raw);
	sec_with_raw(s, "short.key", raw, 157);
	raw[158] = 0;
	sec_with_raw(s, "long.key", raw, 159);

	memcpy(tmp, raw, 158);
	tmp[1] = 'D'; /* "ED" is a signature algorithm, not a key's */
	sec_with_raw(s, "alg.key", tmp, 158);
	memcpy(tmp, raw, 158);
	tmp[2] = 'X';
	tmp[3] = 'x'; /* unknown key derivation */
	sec_with_raw(s, "kdf.key", tmp, 158);
	memcpy(tmp, raw, 158);
	tmp[5] = '3'; /* checksum algorithm "B3" */
	sec_with_raw(s, "chk.key", tmp, 158);

	/* The public half must belong to the seed (docs/FORMAT.md 7.2). */
	memcpy(tmp, raw, 158);
	tmp[62 + 32] ^= 0x01;
	sec_with_raw(s, "public-half.key", tmp, 158);
	memcpy(tmp, raw, 158);
	tmp[62] ^= 0x01;
	sec_with_raw(s, "seed.key", tmp, 158);
	/* Non-canonical base64: test.key's line ends "AAA=", whose third
	 * character has two bits that padding drops; set one. */
	{
		size_t len, n;
		char *text = unit_read_conf("test.key", &len);
		char *line = strchr(text, '\n') + 1;
		n = strlen(line);
		assert_memory_equal(line + n - 5, "AAA=\n", 5);
		line[n - 3] = 'B';
		char *kpath = unit_path(s->dir, "slack-bits.key");
		unit_write_file(kpath, text, len);
		UNIT_REJECTS(s->ctx, folio_seckey_load(s->ctx, kpath, NULL, &sk),
			     kpath);
		assert_null(sk);
		free(kpath);
		free(text);
	}
	/* A wrong non-zero checksum on an unencrypted key. */
	memcpy(tmp, raw, 158);
	tmp[126] = 0x01;
	sec_with_raw(s, "checksum.key", tmp, 158);
}

/* An encrypted key with absurd scrypt limits is refused before any
 * derivation: opslimit above 2^32 or memlimit above 2 GiB. */
static void refuses_costly_scrypt_limits(void **state)
{
	struct unit_state *s = *state;
	size_t len, n;
	char *enc = unit_read_conf("enc.key", &len);
	const char *line = unit_line(enc, len, 1, &n);
	uint8_t raw[159], tmp[158];
	static const struct {
		const char *name;
		uint64_t ops, mem;
	} cases[] = {
		{ "ops.key", ((uint64_t)1 << 32) + 1, (uint64_t)1 << 30 },
		{ "ops-max.key", UINT64_MAX, (uint64_t)1 << 30 },
		{ "mem.key", 33554432, ((uint64_t)2 << 30) + 1 },
		{ "mem-max.key", 33554432, UINT64_MAX },
	};

	assert_int_equal(unit_unbase64(raw, sizeof raw, line, n), 158);
	assert_memory_equal(raw, "EdScB2", 6);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		memcpy(tmp, raw, 158);
		for (int b = 0; b < 8; b++) {
			tmp[38 + b] = (uint8_t)(cases[i].ops >> (8 * b));
			tmp[46 + b] = (uint8_t)(cases[i].mem >> (8 * b));
		}
		char *b64 = unit_base64(tmp, 158);
		char *text = unit_join("untrusted comment: x\n", b64, "\n");
		char *path = unit_path(s->dir, cases[i].name);
		folio_seckey *sk = NULL;
		struct timespec t0, t1;

		unit_write_file(path, text, strlen(text));
		/* A loader that derived anyway would take minutes: stop it. */
		alarm(20);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		UNIT_REJECTS(s->ctx,
			     folio_seckey_load(s->ctx, path, "x", &sk), path);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		alarm(0);
		assert_null(sk);
		double secs = (double)(t1.tv_sec - t0.tv_sec) +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs > 0.5)
			fail_msg("%s: refused after %.1f s: limits checked "
				 "after the derivation", cases[i].name, secs);
		free(path);
		free(text);
		free(b64);
	}
	free(enc);
}

/* Checks that the key pair at base (.key and .pub) loads and matches. */
static void check_pair(struct unit_state *s, const char *base,
		       const char *keyid)
{
	char *kpath = unit_join(base, ".key", NULL);
	char *ppath = unit_join(base, ".pub", NULL);
	folio_seckey *sk = NULL;
	folio_pubkey *pk = NULL;
	struct stat st;
	size_t len, n;
	char *text;
	const char *line;
	uint8_t raw[159];

	assert_int_equal(stat(kpath, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(ppath, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	UNIT_OK(s->ctx, folio_pubkey_load(s->ctx, ppath, &pk));
	UNIT_OK(s->ctx, folio_seckey_load(s->ctx, kpath, NULL, &sk));
	assert_string_equal(folio_pubkey_id(pk), keyid);
	assert_string_equal(folio_seckey_id(sk), keyid);
	assert_memory_equal(sk->sk + 32, pk->pk, 32);

	/* minisign's formats: comment line, then the base64 key line. */
	text = unit_read_file(ppath, &len);
	assert_true(strncmp(text, "untrusted comment: ", 19) == 0);
	line = unit_line(text, len, 1, &n);
	assert_int_equal(unit_unbase64(raw, sizeof raw, line, n), 42);
	assert_memory_equal(raw, "Ed", 2);
	assert_int_equal(text[len - 1], '\n');
	free(text);
	text = unit_read_file(kpath, &len);
	assert_true(strncmp(text, "untrusted comment: ", 19) == 0);
	line = unit_line(text, len, 1, &n);
	assert_int_equal(unit_unbase64(raw, sizeof raw, line, n), 158);
	assert_memory_equal(raw, "Ed\0\0B2", 6); /* unencrypted */
	/* Salt and limits zero, checksum set (docs/FORMAT.md 7.2). */
	static const uint8_t zero[48];
	assert_memory_equal(raw + 6, zero, 48);
	assert_memory_equal(raw + 54, sk->keyid, 8);
	assert_memory_equal(raw + 62, sk->sk, 64);
	uint8_t chk_in[74], chk[32];
	memcpy(chk_in, "Ed", 2);
	memcpy(chk_in + 2, raw + 54, 8);
	memcpy(chk_in + 10, raw + 62, 64);
	crypto_generichash(chk, sizeof chk, chk_in, sizeof chk_in, NULL, 0);
	assert_memory_equal(raw + 126, chk, 32);
	char want_comment[64];
	snprintf(want_comment, sizeof want_comment,
		 "untrusted comment: folio secret key %s\n", keyid);
	assert_true(strncmp(text, want_comment, strlen(want_comment)) == 0);
	free(text);

	/* A signature made with the secret key verifies with the public. */
	char *sig = NULL;
	size_t siglen = 0;
	struct folio_sig parsed;
	UNIT_OK(s->ctx, folio_sig_create(s->ctx, sk, "hello", 5, "t", &sig,
					 &siglen));
	UNIT_OK(s->ctx, folio_sig_parse(s->ctx, "gen.minisig", sig, siglen,
					&parsed));
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, "gen.minisig", &parsed, pk,
					 "hello", 5));
	free(sig);

	folio_seckey_free(sk);
	folio_pubkey_free(pk);
	free(kpath);
	free(ppath);
}

static bool is_keyid(const char *id)
{
	if (strlen(id) != 16)
		return false;
	for (; *id != '\0'; id++)
		if (strchr("0123456789ABCDEF", *id) == NULL)
			return false;
	return true;
}

static void keygen_unencrypted(void **state)
{
	struct unit_state *s = *state;
	char *base = unit_path(s->dir, "publisher");
	char *kpath = unit_join(base, ".key", NULL);
	char *ppath = unit_join(base, ".pub", NULL);
	char id1[17], id2[17], id3[17];
	char *key1, *pub1, *key2, *pub2;
	size_t klen1, plen1, klen2, plen2;
	mode_t old = umask(0);

	/* Mode 0600 whatever the umask. */
	memset(id1, 'x', sizeof id1);
	UNIT_OK(s->ctx, folio_keygen(s->ctx, base, NULL, 0, id1));
	umask(old);
	assert_true(is_keyid(id1));
	check_pair(s, base, id1);
	key1 = unit_read_file(kpath, &klen1);
	pub1 = unit_read_file(ppath, &plen1);

	/* No overwrite without force; both files untouched. */
	UNIT_FAILS(s->ctx, folio_keygen(s->ctx, base, NULL, 0, id2),
		   FOLIO_EUSAGE, base);
	key2 = unit_read_file(kpath, &klen2);
	pub2 = unit_read_file(ppath, &plen2);
	assert_int_equal(klen1, klen2);
	assert_memory_equal(key1, key2, klen1);
	assert_int_equal(plen1, plen2);
	assert_memory_equal(pub1, pub2, plen1);
	free(key2);
	free(pub2);

	/* With force: a new pair replaces both. */
	UNIT_OK(s->ctx, folio_keygen(s->ctx, base, NULL, 1, id3));
	assert_true(is_keyid(id3));
	assert_string_not_equal(id1, id3);
	check_pair(s, base, id3);
	key2 = unit_read_file(kpath, &klen2);
	assert_true(klen1 != klen2 || memcmp(key1, key2, klen1) != 0);
	free(key2);

	/* keyid_out may be NULL. */
	UNIT_OK(s->ctx, folio_keygen(s->ctx, base, NULL, 1, NULL));

	free(key1);
	free(pub1);
	free(kpath);
	free(ppath);
	free(base);
}

static void keygen_refuses_either_file(void **state)
{
	struct unit_state *s = *state;
	char *base = unit_path(s->dir, "k");
	char *kpath = unit_join(base, ".key", NULL);
	char *ppath = unit_join(base, ".pub", NULL);
	struct stat st;
	size_t len;
	char *text;

	/* Only the .pub exists: still refused, and no .key appears. */
	unit_write_file(ppath, "keep\n", 5);
	UNIT_FAILS(s->ctx, folio_keygen(s->ctx, base, NULL, 0, NULL),
		   FOLIO_EUSAGE, base);
	assert_int_equal(stat(kpath, &st), -1);
	text = unit_read_file(ppath, &len);
	assert_string_equal(text, "keep\n");
	free(text);
	unlink(ppath);

	/* Only the .key exists: refused, no .pub appears. */
	unit_write_file(kpath, "keep\n", 5);
	UNIT_FAILS(s->ctx, folio_keygen(s->ctx, base, NULL, 0, NULL),
		   FOLIO_EUSAGE, base);
	assert_int_equal(stat(ppath, &st), -1);
	text = unit_read_file(kpath, &len);
	assert_string_equal(text, "keep\n");
	free(text);

	/* Forced over the leftover. */
	UNIT_OK(s->ctx, folio_keygen(s->ctx, base, NULL, 1, NULL));
	assert_int_equal(stat(ppath, &st), 0);

	/* A folder that does not exist: a system failure, nothing written. */
	char *deep = unit_path(s->dir, "no/such/dir/k");
	int rc = folio_keygen(s->ctx, deep, NULL, 0, NULL);
	assert_int_equal(rc, FOLIO_ESYSTEM);
	assert_true(unit_message_ok(s->ctx, NULL));
	free(deep);

	free(kpath);
	free(ppath);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(fresh_context_has_no_error),
		UNIT_TEST(loads_conformance_public_keys),
		UNIT_TEST(keyid_format_is_minisigns),
		UNIT_TEST(public_key_variants),
		UNIT_TEST(malformed_public_keys),
		UNIT_TEST(missing_public_key_file),
		UNIT_TEST(special_files_are_refused),
		UNIT_TEST(loads_unencrypted_secret_key),
		UNIT_TEST(encrypted_key_needs_passphrase),
		UNIT_TEST(malformed_secret_keys),
		UNIT_TEST(refuses_costly_scrypt_limits),
		UNIT_TEST(keygen_unencrypted),
		UNIT_TEST(keygen_refuses_either_file),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
