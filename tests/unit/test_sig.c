/* SPDX-License-Identifier: ISC */
/* Signatures: every minisign conformance vector gives its stated outcome,
 * the strict parser refuses malformed files, and folio_sig_create()
 * reproduces minisign's signature. */
#include "unit.h"

#define COMMENT "bundle:2024-06-01 seq:1"
#define NAME "sig-under-test.minisig"

/* The four lines of article.txt.minisig, without their ends. */
struct lines {
	char *l[4];
};

static void vector_lines(struct lines *v)
{
	size_t len, n;
	char *text = unit_read_conf("article.txt.minisig", &len);

	for (int i = 0; i < 4; i++) {
		const char *p = unit_line(text, len, i, &n);
		v->l[i] = strndup(p, n);
		assert_non_null(v->l[i]);
	}
	free(text);
}

static void lines_free(struct lines *v)
{
	for (int i = 0; i < 4; i++)
		free(v->l[i]);
}

/* l1..l4 joined, each followed by eol; malloc'd, length in *len. */
static char *build(const char *l1, const char *l2, const char *l3,
		   const char *l4, const char *eol, size_t *len)
{
	const char *l[4] = { l1, l2, l3, l4 };
	size_t n = 0, e = strlen(eol);
	char *out;

	for (int i = 0; i < 4; i++)
		n += strlen(l[i]) + e;
	out = malloc(n + 1);
	assert_non_null(out);
	n = 0;
	for (int i = 0; i < 4; i++) {
		size_t k = strlen(l[i]);
		memcpy(out + n, l[i], k);
		memcpy(out + n + k, eol, e);
		n += k + e;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static folio_pubkey *load_pub(folio_ctx *ctx, const char *name)
{
	char *path = unit_conf_path(name);
	folio_pubkey *k = NULL;

	UNIT_OK(ctx, folio_pubkey_load(ctx, path, &k));
	free(path);
	return k;
}

/* Parses a conformance signature file under its own name. */
static int parse_conf(folio_ctx *ctx, const char *name, struct folio_sig *sig)
{
	size_t len;
	char *text = unit_read_conf(name, &len);
	int rc = folio_sig_parse(ctx, name, text, len, sig);

	free(text);
	return rc;
}

static void parse_rejects(folio_ctx *ctx, const char *what, const char *data,
			  size_t len)
{
	struct folio_sig sig;

	folio_clear_error(ctx);
	int rc = folio_sig_parse(ctx, NAME, data, len, &sig);

	if (rc != FOLIO_EREJECT || folio_errcode(ctx) != FOLIO_EREJECT ||
	    !unit_message_ok(ctx, NAME))
		fail_msg("%s: folio_sig_parse gave %d, message \"%s\"; want "
			 "%d and a message naming '%s'",
			 what, rc, folio_errmsg(ctx), FOLIO_EREJECT, NAME);
}

static void parse_accepts(folio_ctx *ctx, const char *what, const char *data,
			  size_t len, struct folio_sig *sig)
{
	int rc = folio_sig_parse(ctx, NAME, data, len, sig);

	if (rc != FOLIO_OK)
		fail_msg("%s: folio_sig_parse gave %d, message \"%s\"; want 0",
			 what, rc, folio_errmsg(ctx));
}

/* ---- the conformance vectors ---------------------------------------------- */

static void article_signature_is_valid(void **state)
{
	struct unit_state *s = *state;
	static const uint8_t keyid[8] = { 0xea, 0x0b, 0xc9, 0xc9,
					  0x97, 0xcc, 0x00, 0x61 };
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	struct folio_sig sig;

	assert_int_equal(alen, 23);
	UNIT_OK(s->ctx, parse_conf(s->ctx, "article.txt.minisig", &sig));
	assert_string_equal(sig.comment, COMMENT);
	assert_int_equal(sig.comment_len, strlen(COMMENT));
	assert_memory_equal(sig.keyid, keyid, 8);
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, "article.txt.minisig", &sig,
					 pk, article, alen));
	folio_pubkey_free(pk);
	free(article);
}

static void crlf_signature_is_valid(void **state)
{
	struct unit_state *s = *state;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	struct folio_sig sig;

	UNIT_OK(s->ctx, parse_conf(s->ctx, "crlf.minisig", &sig));
	assert_string_equal(sig.comment, COMMENT);
	assert_int_equal(sig.comment_len, strlen(COMMENT));
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, "crlf.minisig", &sig, pk,
					 article, alen));
	folio_pubkey_free(pk);
	free(article);
}

static void other_key_is_rejected(void **state)
{
	struct unit_state *s = *state;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "other.pub");
	struct folio_sig sig;

	UNIT_OK(s->ctx, parse_conf(s->ctx, "article.txt.minisig", &sig));
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, "article.txt.minisig", &sig, pk,
				      article, alen),
		     "article.txt.minisig");
	folio_pubkey_free(pk);
	free(article);
}

static void changed_trusted_comment_is_rejected(void **state)
{
	struct unit_state *s = *state;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	struct folio_sig sig;

	/* Well-formed; only the global signature tells. */
	UNIT_OK(s->ctx, parse_conf(s->ctx, "t2.minisig", &sig));
	assert_string_equal(sig.comment, "bundle:2024-06-01 seq:9");
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, "t2.minisig", &sig, pk, article,
				      alen),
		     "t2.minisig");
	folio_pubkey_free(pk);
	free(article);
}

static void changed_message_is_rejected(void **state)
{
	struct unit_state *s = *state;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	struct folio_sig sig;
	char *copy = malloc(alen + 1);

	assert_non_null(copy);
	UNIT_OK(s->ctx, parse_conf(s->ctx, "article.txt.minisig", &sig));
	/* One byte changed, at every position; one bit, at every bit. */
	for (size_t i = 0; i < alen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, article, alen);
			copy[i] = (char)(copy[i] ^ (1 << bit));
			UNIT_REJECTS(s->ctx,
				     folio_sig_verify(s->ctx, NAME, &sig, pk,
						      copy, alen),
				     NAME);
		}
	}
	/* Cut short, made longer, empty. */
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &sig, pk, article, alen - 1),
		     NAME);
	memcpy(copy, article, alen);
	copy[alen] = '\n';
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &sig, pk, copy, alen + 1),
		     NAME);
	UNIT_REJECTS(s->ctx, folio_sig_verify(s->ctx, NAME, &sig, pk, "", 0),
		     NAME);
	/* The untouched article still verifies with the same parsed sig. */
	UNIT_OK(s->ctx,
		folio_sig_verify(s->ctx, NAME, &sig, pk, article, alen));
	free(copy);
	folio_pubkey_free(pk);
	free(article);
}

static void tampered_signature_bytes_are_rejected(void **state)
{
	struct unit_state *s = *state;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *test = load_pub(s->ctx, "test.pub");
	folio_pubkey *other = load_pub(s->ctx, "other.pub");
	struct folio_sig sig, t;

	UNIT_OK(s->ctx, parse_conf(s->ctx, "article.txt.minisig", &sig));

	/* Key id patched to the other key's: the id matches, the signature
	 * does not. */
	t = sig;
	memcpy(t.keyid, other->keyid, 8);
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &t, other, article, alen),
		     NAME);
	/* Any flipped bit of either signature. */
	for (size_t i = 0; i < 64; i++) {
		t = sig;
		t.sig[i] ^= 0x01;
		UNIT_REJECTS(s->ctx,
			     folio_sig_verify(s->ctx, NAME, &t, test, article,
					      alen),
			     NAME);
		t = sig;
		t.global[i] ^= 0x80;
		UNIT_REJECTS(s->ctx,
			     folio_sig_verify(s->ctx, NAME, &t, test, article,
					      alen),
			     NAME);
	}
	/* The trusted comment edited after parsing (global signature). */
	t = sig;
	t.comment[t.comment_len - 1] = '2';
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &t, test, article, alen),
		     NAME);
	t = sig;
	t.comment_len--;
	t.comment[t.comment_len] = '\0';
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &t, test, article, alen),
		     NAME);
	folio_pubkey_free(test);
	folio_pubkey_free(other);
	free(article);
}

static void injected_cr_is_malformed(void **state)
{
	struct unit_state *s = *state;
	struct folio_sig sig;

	UNIT_REJECTS(s->ctx, parse_conf(s->ctx, "inject-cr.minisig", &sig),
		     "inject-cr.minisig");
}

static void legacy_signature_is_rejected(void **state)
{
	struct unit_state *s = *state;
	struct folio_sig sig;

	UNIT_REJECTS(s->ctx, parse_conf(s->ctx, "legacy.minisig", &sig),
		     "legacy.minisig");
}

/* ---- signing ----------------------------------------------------------------- */

static folio_seckey *load_test_key(folio_ctx *ctx)
{
	char *path = unit_conf_path("test.key");
	folio_seckey *sk = NULL;

	UNIT_OK(ctx, folio_seckey_load(ctx, path, NULL, &sk));
	free(path);
	return sk;
}

static void resigning_reproduces_vector(void **state)
{
	struct unit_state *s = *state;
	size_t alen, vlen;
	char *article = unit_read_conf("article.txt", &alen);
	char *vector = unit_read_conf("article.txt.minisig", &vlen);
	folio_seckey *sk = load_test_key(s->ctx);
	char *out = NULL;
	size_t outlen = 0, n1, n2;

	UNIT_OK(s->ctx, folio_sig_create(s->ctx, sk, article, alen, COMMENT,
					 &out, &outlen));
	assert_non_null(out);
	/* Text: four LF-terminated lines, no CR, no NUL. */
	assert_true(outlen > 0);
	assert_int_equal(out[outlen - 1], '\n');
	assert_null(memchr(out, '\r', outlen));
	assert_null(memchr(out, '\0', outlen));
	size_t lf = 0;
	for (size_t i = 0; i < outlen; i++)
		lf += out[i] == '\n';
	assert_int_equal(lf, 4);

	const char *o1 = unit_line(out, outlen, 0, &n1);
	assert_true(strncmp(o1, "untrusted comment: ", 19) == 0);
	for (int i = 1; i < 4; i++) {
		const char *a = unit_line(out, outlen, i, &n1);
		const char *b = unit_line(vector, vlen, i, &n2);
		if (n1 != n2 || memcmp(a, b, n1) != 0)
			fail_msg("line %d: got \"%.*s\", want \"%.*s\"", i + 1,
				 (int)n1, a, (int)n2, b);
	}
	const char *v1 = unit_line(vector, vlen, 0, &n2);
	unit_line(out, outlen, 0, &n1);
	if (n1 == n2 && memcmp(o1, v1, n1) == 0) {
		assert_int_equal(outlen, vlen);
		assert_memory_equal(out, vector, vlen);
	}

	/* And it parses and verifies with test.pub. */
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	struct folio_sig sig;
	UNIT_OK(s->ctx, folio_sig_parse(s->ctx, NAME, out, outlen, &sig));
	assert_string_equal(sig.comment, COMMENT);
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, NAME, &sig, pk, article, alen));

	folio_pubkey_free(pk);
	free(out);
	folio_seckey_free(sk);
	free(vector);
	free(article);
}

static void create_refuses_bad_comments(void **state)
{
	struct unit_state *s = *state;
	folio_seckey *sk = load_test_key(s->ctx);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");
	char long_comment[FOLIO_COMMENT_MAX + 2];
	char *out = NULL;
	size_t outlen = 0;
	struct folio_sig sig;
	static const char *const bad[] = { "two\nlines", "cr\rhere",
					   "crlf\r\n", "\n" };

	/* A comment that would break the file's lines is refused. */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		out = NULL;
		int rc = folio_sig_create(s->ctx, sk, "m", 1, bad[i], &out,
					  &outlen);
		if (rc >= 0)
			fail_msg("comment \"%s\" accepted", bad[i]);
		assert_int_equal(folio_errcode(s->ctx), rc);
		assert_true(unit_message_ok(s->ctx, NULL));
		assert_null(out);
	}

	/* 1024 bytes is the most; 1025 is refused. */
	memset(long_comment, 'c', sizeof long_comment);
	long_comment[FOLIO_COMMENT_MAX + 1] = '\0';
	out = NULL;
	assert_true(folio_sig_create(s->ctx, sk, "m", 1, long_comment, &out,
				     &outlen) < 0);
	assert_null(out);
	long_comment[FOLIO_COMMENT_MAX] = '\0';
	UNIT_OK(s->ctx, folio_sig_create(s->ctx, sk, "m", 1, long_comment,
					 &out, &outlen));
	UNIT_OK(s->ctx, folio_sig_parse(s->ctx, NAME, out, outlen, &sig));
	assert_int_equal(sig.comment_len, FOLIO_COMMENT_MAX);
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, NAME, &sig, pk, "m", 1));
	free(out);

	/* An empty comment and an empty message are fine. */
	UNIT_OK(s->ctx, folio_sig_create(s->ctx, sk, "", 0, "", &out, &outlen));
	UNIT_OK(s->ctx, folio_sig_parse(s->ctx, NAME, out, outlen, &sig));
	assert_int_equal(sig.comment_len, 0);
	UNIT_OK(s->ctx, folio_sig_verify(s->ctx, NAME, &sig, pk, "", 0));
	free(out);

	folio_pubkey_free(pk);
	folio_seckey_free(sk);
}

/* ---- malformed signature files ------------------------------------------- */

static void malformed_structure(void **state)
{
	struct unit_state *s = *state;
	size_t len, n;
	char *good = unit_read_conf("article.txt.minisig", &len);
	char *buf = malloc(len + 16);
	struct lines v;
	char *t;

	assert_non_null(buf);
	vector_lines(&v);
	parse_accepts(s->ctx, "the vector", good, len, &(struct folio_sig){ 0 });

	parse_rejects(s->ctx, "empty file", "", 0);
	parse_rejects(s->ctx, "a newline only", "\n", 1);
	parse_rejects(s->ctx, "short file", good, 100);
	parse_rejects(s->ctx, "one line", good, strlen(v.l[0]) + 1);
	t = build(v.l[0], v.l[1], v.l[2], v.l[3], "\n", &n);
	assert_int_equal(n, len);
	assert_memory_equal(t, good, len);
	/* Three lines: the last line missing. */
	parse_rejects(s->ctx, "three lines", good,
		      len - strlen(v.l[3]) - 1);
	free(t);

	/* An extra line, an extra empty line, an extra byte. */
	memcpy(buf, good, len);
	memcpy(buf + len, "extra\n", 6);
	parse_rejects(s->ctx, "extra line", buf, len + 6);
	buf[len] = '\n';
	parse_rejects(s->ctx, "extra empty line", buf, len + 1);
	buf[len] = 'x';
	parse_rejects(s->ctx, "extra byte", buf, len + 1);
	buf[len] = '\0';
	parse_rejects(s->ctx, "NUL after the end", buf, len + 1);
	memcpy(buf + len, "\r\n", 2);
	parse_rejects(s->ctx, "extra CRLF", buf, len + 2);

	/* No final newline. */
	parse_rejects(s->ctx, "missing final newline", good, len - 1);

	/* Lines swapped. */
	t = build(v.l[0], v.l[3], v.l[2], v.l[1], "\n", &n);
	parse_rejects(s->ctx, "lines 2 and 4 swapped", t, n);
	free(t);
	t = build(v.l[2], v.l[1], v.l[0], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "lines 1 and 3 swapped", t, n);
	free(t);

	/* Line prefixes. */
	t = build("Untrusted comment: x", v.l[1], v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "capital U", t, n);
	free(t);
	t = build("untrusted comment:x", v.l[1], v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "no space after untrusted comment:", t, n);
	free(t);
	t = build("", v.l[1], v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "empty line 1", t, n);
	free(t);
	t = build(v.l[0], v.l[1], "trusted comment:" COMMENT, v.l[3], "\n", &n);
	parse_rejects(s->ctx, "no space after trusted comment:", t, n);
	free(t);
	t = build(v.l[0], v.l[1], "untrusted comment: " COMMENT, v.l[3], "\n",
		  &n);
	parse_rejects(s->ctx, "line 3 untrusted", t, n);
	free(t);
	t = build(v.l[0], v.l[1], " trusted comment: " COMMENT, v.l[3], "\n",
		  &n);
	parse_rejects(s->ctx, "line 3 leading space", t, n);
	free(t);

	lines_free(&v);
	free(buf);
	free(good);
}

static void malformed_bytes(void **state)
{
	struct unit_state *s = *state;
	size_t len, n;
	char *good = unit_read_conf("article.txt.minisig", &len);
	char *buf = malloc(len + 1);
	struct lines v;
	char *t, *l;
	struct folio_sig sig;

	assert_non_null(buf);
	vector_lines(&v);

	/* A NUL byte in each line. */
	size_t at[4], off = 0;
	for (int i = 0; i < 4; i++) {
		at[i] = off + strlen(v.l[i]) / 2;
		off += strlen(v.l[i]) + 1;
	}
	for (int i = 0; i < 4; i++) {
		memcpy(buf, good, len);
		buf[at[i]] = '\0';
		parse_rejects(s->ctx, "NUL byte", buf, len);
	}
	/* A NUL replacing a line's newline. */
	memcpy(buf, good, len);
	buf[strlen(v.l[0])] = '\0';
	parse_rejects(s->ctx, "NUL for newline", buf, len);

	/* A CR in the middle of each line (the inject-cr case everywhere). */
	for (int i = 0; i < 4; i++) {
		memcpy(buf, good, len);
		buf[at[i]] = '\r';
		parse_rejects(s->ctx, "CR inside a line", buf, len);
	}
	/* CR CR LF, a lone CR as a line end, CR at the very end. */
	l = unit_join(v.l[0], "\r", NULL);
	t = build(l, v.l[1], v.l[2], v.l[3], "\r\n", &n);
	parse_rejects(s->ctx, "CR CR LF", t, n);
	free(t);
	free(l);
	t = build(v.l[0], v.l[1], v.l[2], v.l[3], "\r", &n);
	parse_rejects(s->ctx, "CR line ends", t, n);
	free(t);
	memcpy(buf, good, len);
	buf[len - 1] = '\r';
	parse_rejects(s->ctx, "CR as the final line end", buf, len);

	/* CRLF on some lines only is fine: each line ends in LF or CRLF. */
	l = unit_join(v.l[0], "\r", NULL);
	char *l3 = unit_join(v.l[2], "\r", NULL);
	t = build(l, v.l[1], l3, v.l[3], "\n", &n);
	parse_accepts(s->ctx, "mixed line ends", t, n, &sig);
	assert_string_equal(sig.comment, COMMENT);
	free(t);
	free(l3);
	free(l);

	/* An over-long line: line 1 of 5000 bytes. */
	l = malloc(5001);
	assert_non_null(l);
	memset(l, 'x', 5000);
	memcpy(l, "untrusted comment: ", 19);
	l[5000] = '\0';
	t = build(l, v.l[1], v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "5000-byte untrusted comment line", t, n);
	free(t);
	/* ... and line 2 of 5000 base64 characters. */
	memset(l, 'A', 5000);
	t = build(v.l[0], l, v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "5000-byte line 2", t, n);
	free(t);
	free(l);

	lines_free(&v);
	free(buf);
	free(good);
}

/* The vector with line i (1 or 3, 0-based) replaced by the base64 of raw. */
static char *with_b64(const struct lines *v, int i, const uint8_t *raw,
		      size_t n, size_t *len)
{
	char *b = unit_base64(raw, n);
	char *t = build(v->l[0], i == 1 ? b : v->l[1], v->l[2],
			i == 3 ? b : v->l[3], "\n", len);

	free(b);
	return t;
}

static void malformed_base64(void **state)
{
	struct unit_state *s = *state;
	struct lines v;
	uint8_t raw2[76], raw4[66];
	size_t n, k;
	char *t, *l;

	vector_lines(&v);
	assert_int_equal(unit_unbase64(raw2, sizeof raw2, v.l[1],
				       strlen(v.l[1])), 74);
	assert_int_equal(unit_unbase64(raw4, sizeof raw4, v.l[3],
				       strlen(v.l[3])), 64);

	/* Re-encoding the decoded bytes gives the vector back. */
	t = with_b64(&v, 1, raw2, 74, &n);
	parse_accepts(s->ctx, "re-encoded", t, n, &(struct folio_sig){ 0 });
	free(t);

	/* Wrong decoded lengths. */
	static const size_t len2[] = { 0, 1, 10, 72, 73, 75 };
	for (k = 0; k < sizeof len2 / sizeof *len2; k++) {
		raw2[74] = 0;
		t = with_b64(&v, 1, raw2, len2[k], &n);
		parse_rejects(s->ctx, "line 2 of wrong length", t, n);
		free(t);
	}
	static const size_t len4[] = { 0, 32, 63, 65 };
	for (k = 0; k < sizeof len4 / sizeof *len4; k++) {
		raw4[64] = 0;
		t = with_b64(&v, 3, raw4, len4[k], &n);
		parse_rejects(s->ctx, "line 4 of wrong length", t, n);
		free(t);
	}

	/* Other algorithms: legacy "Ed", unknown ones. */
	static const char *const algs[] = { "Ed", "EE", "ed", "\0\0" };
	for (k = 0; k < sizeof algs / sizeof *algs; k++) {
		uint8_t r[74];
		memcpy(r, raw2, 74);
		memcpy(r, algs[k], 2);
		t = with_b64(&v, 1, r, 74, &n);
		parse_rejects(s->ctx, "signature algorithm", t, n);
		free(t);
	}

	/* Characters outside the alphabet, in lines 2 and 4. */
	static const char bad[] = { '!', '-', '_', ' ', '\t', '.', '*', '\x80' };
	for (int line = 1; line <= 3; line += 2) {
		for (k = 0; k < sizeof bad; k++) {
			l = strdup(v.l[line]);
			assert_non_null(l);
			l[5] = bad[k];
			t = build(v.l[0], line == 1 ? l : v.l[1], v.l[2],
				  line == 3 ? l : v.l[3], "\n", &n);
			char what[64];
			snprintf(what, sizeof what,
				 "byte 0x%02x in line %d's base64",
				 (unsigned char)bad[k], line + 1);
			parse_rejects(s->ctx, what, t, n);
			free(t);
			free(l);
		}
	}
	/* Padding missing, padding doubled, a space before the end. */
	l = strndup(v.l[3], strlen(v.l[3]) - 2);
	t = build(v.l[0], v.l[1], v.l[2], l, "\n", &n);
	parse_rejects(s->ctx, "padding missing", t, n);
	free(t);
	free(l);
	l = unit_join(v.l[3], "==", NULL);
	t = build(v.l[0], v.l[1], v.l[2], l, "\n", &n);
	parse_rejects(s->ctx, "extra padding", t, n);
	free(t);
	free(l);
	l = unit_join(v.l[1], " ", NULL);
	t = build(v.l[0], l, v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "trailing space", t, n);
	free(t);
	free(l);
	l = unit_join(" ", v.l[1], NULL);
	t = build(v.l[0], l, v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "leading space", t, n);
	free(t);
	free(l);
	/* Split across two lines: five lines, line 2 no longer 74 bytes. */
	l = strdup(v.l[1]);
	assert_non_null(l);
	l[40] = '\n';
	t = build(v.l[0], l, v.l[2], v.l[3], "\n", &n);
	parse_rejects(s->ctx, "line 2 wrapped", t, n);
	free(t);
	free(l);

	/* Non-canonical: the last character before "==" with bits that
	 * padding drops ("BQ==" -> "BR==" decodes to the same bytes in a
	 * lax decoder).  Strict base64 refuses it at parse time. */
	l = strdup(v.l[3]);
	assert_non_null(l);
	size_t ll = strlen(l);
	assert_int_equal(l[ll - 3], 'Q');
	l[ll - 3] = 'R';
	t = build(v.l[0], v.l[1], v.l[2], l, "\n", &n);
	parse_rejects(s->ctx, "non-canonical base64", t, n);
	free(t);
	free(l);

	lines_free(&v);
}

static void trusted_comment_limit(void **state)
{
	struct unit_state *s = *state;
	struct lines v;
	char line[32 + FOLIO_COMMENT_MAX];
	size_t n;
	char *t;
	struct folio_sig sig;
	size_t alen;
	char *article = unit_read_conf("article.txt", &alen);
	folio_pubkey *pk = load_pub(s->ctx, "test.pub");

	vector_lines(&v);
	/* 1024 bytes parse (the global signature then fails) ... */
	memcpy(line, "trusted comment: ", 17);
	memset(line + 17, 'c', FOLIO_COMMENT_MAX + 1);
	line[17 + FOLIO_COMMENT_MAX] = '\0';
	t = build(v.l[0], v.l[1], line, v.l[3], "\n", &n);
	parse_accepts(s->ctx, "1024-byte trusted comment", t, n, &sig);
	assert_int_equal(sig.comment_len, FOLIO_COMMENT_MAX);
	assert_int_equal(strlen(sig.comment), FOLIO_COMMENT_MAX);
	UNIT_REJECTS(s->ctx,
		     folio_sig_verify(s->ctx, NAME, &sig, pk, article, alen),
		     NAME);
	free(t);
	/* ... 1025 do not. */
	line[17 + FOLIO_COMMENT_MAX] = 'c';
	line[18 + FOLIO_COMMENT_MAX] = '\0';
	t = build(v.l[0], v.l[1], line, v.l[3], "\n", &n);
	parse_rejects(s->ctx, "1025-byte trusted comment", t, n);
	free(t);
	/* An empty trusted comment is well-formed. */
	t = build(v.l[0], v.l[1], "trusted comment: ", v.l[3], "\n", &n);
	parse_accepts(s->ctx, "empty trusted comment", t, n, &sig);
	assert_int_equal(sig.comment_len, 0);
	assert_string_equal(sig.comment, "");
	free(t);
	/* Non-ASCII UTF-8 in the trusted comment is kept byte for byte. */
	t = build(v.l[0], v.l[1], "trusted comment: قناة القاهرة", v.l[3],
		  "\n", &n);
	parse_accepts(s->ctx, "Arabic trusted comment", t, n, &sig);
	assert_string_equal(sig.comment, "قناة القاهرة");
	free(t);

	lines_free(&v);
	folio_pubkey_free(pk);
	free(article);
}

static void conformance_files_name_themselves(void **state)
{
	struct unit_state *s = *state;
	struct folio_sig sig;
	char *path = unit_conf_path("legacy.minisig");
	size_t len;
	char *text = unit_read_file(path, &len);

	/* The name given is the one in the message, as given (a path). */
	UNIT_REJECTS(s->ctx, folio_sig_parse(s->ctx, path, text, len, &sig),
		     path);
	free(text);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(article_signature_is_valid),
		UNIT_TEST(crlf_signature_is_valid),
		UNIT_TEST(other_key_is_rejected),
		UNIT_TEST(changed_trusted_comment_is_rejected),
		UNIT_TEST(changed_message_is_rejected),
		UNIT_TEST(tampered_signature_bytes_are_rejected),
		UNIT_TEST(injected_cr_is_malformed),
		UNIT_TEST(legacy_signature_is_rejected),
		UNIT_TEST(resigning_reproduces_vector),
		UNIT_TEST(create_refuses_bad_comments),
		UNIT_TEST(malformed_structure),
		UNIT_TEST(malformed_bytes),
		UNIT_TEST(malformed_base64),
		UNIT_TEST(trusted_comment_limit),
		UNIT_TEST(conformance_files_name_themselves),
	};

	return cmocka_run_group_tests_name("sig", tests, NULL, NULL);
}
