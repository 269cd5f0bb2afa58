/* SPDX-License-Identifier: ISC */
/*
 * unit.h - helpers shared by the cmocka unit tests.
 *
 * Tests run from the repository's root.  The shared conformance material
 * lives in $SHARED (default "../shared"); every test that writes files gets
 * a fresh temporary folder from the fixture below, removed afterwards.
 */
#ifndef FOLIO_UNIT_H
#define FOLIO_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "folio.h"
#include "folio-internal.h"

/* ---- files ---------------------------------------------------------------- */

static inline const char *unit_shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL && *s != '\0' ? s : "../shared";
}

/* A malloc'd string: a, b and c joined (c may be NULL). */
static inline char *unit_join(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c != NULL ? strlen(c) : 0;
	char *s = malloc(la + lb + lc + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	if (lc > 0)
		memcpy(s + la + lb, c, lc);
	s[la + lb + lc] = '\0';
	return s;
}

/* The path of a file of the minisign conformance vectors, malloc'd. */
static inline char *unit_conf_path(const char *name)
{
	return unit_join(unit_shared_dir(), "/conformance/minisign/", name);
}

/* A path inside dir, malloc'd. */
static inline char *unit_path(const char *dir, const char *name)
{
	return unit_join(dir, "/", name);
}

/* Reads a whole file into a malloc'd buffer with a NUL after its end; fails
 * the test if it cannot. */
static inline char *unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		fail_msg("cannot open '%s': %s (is SHARED=%s right?)", path,
			 strerror(errno), unit_shared_dir());
	for (;;) {
		if (cap - n < 4096) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	assert_false(ferror(f));
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* Reads a file of the minisign conformance vectors. */
static inline char *unit_read_conf(const char *name, size_t *len)
{
	char *path = unit_conf_path(name);
	char *data = unit_read_file(path, len);

	free(path);
	return data;
}

static inline void unit_write_file(const char *path, const void *data,
				   size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A fresh, empty temporary folder, malloc'd. */
static inline char *unit_tempdir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = unit_join(tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
			      "/folio-unit-XXXXXX", NULL);

	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp '%s': %s", dir, strerror(errno));
	return dir;
}

static inline int unit_rm_one(const char *path, const struct stat *st,
			      int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a folder and everything in it (symbolic links not followed). */
static inline void unit_rmtree(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the fixture: a context and a temporary folder ----------------------- */

struct unit_state {
	folio_ctx *ctx;
	char *dir; /* fresh temporary folder, removed by the teardown */
};

static inline int unit_setup(void **state)
{
	struct unit_state *s = calloc(1, sizeof *s);

	if (s == NULL || sodium_init() < 0)
		return -1;
	s->ctx = folio_new();
	if (s->ctx == NULL)
		return -1;
	s->dir = unit_tempdir();
	*state = s;
	return 0;
}

static inline int unit_teardown(void **state)
{
	struct unit_state *s = *state;

	if (s != NULL) {
		folio_free(s->ctx);
		unit_rmtree(s->dir);
		free(s->dir);
		free(s);
	}
	*state = NULL;
	return 0;
}

#define UNIT_TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

/* ---- assertions on folio results ------------------------------------------ */

/* A failure message must be one line, name the file (when name is not
 * NULL) and have no final full stop. */
static inline bool unit_message_ok(const folio_ctx *ctx, const char *name)
{
	const char *m = folio_errmsg(ctx);
	size_t n;

	if (m == NULL || (n = strlen(m)) == 0)
		return false;
	if (strchr(m, '\n') != NULL || m[n - 1] == '.')
		return false;
	return name == NULL || strstr(m, name) != NULL;
}

/* expr must return FOLIO_OK; on failure the library's message is shown.
 * Both macros clear ctx's error first, so that what they check was set by
 * expr. */
#define UNIT_OK(ctx, expr)                                                   \
	do {                                                                 \
		folio_clear_error(ctx);                                      \
		int unit_rc_ = (expr);                                       \
		if (unit_rc_ != FOLIO_OK)                                    \
			fail_msg("%s: got %d, want 0 (message \"%s\")",     \
				 #expr, unit_rc_, folio_errmsg(ctx));        \
	} while (0)

/* rc, the result of what (a description), must be code, recorded on ctx,
 * with a message naming name. */
#define UNIT_CHECK_FAILED(ctx, rc, code, name, what)                         \
	do {                                                                 \
		int unit_rc_ = (rc);                                         \
		const char *unit_name_ = (name);                             \
		if (unit_rc_ != (code) || folio_errcode(ctx) != (code) ||     \
		    !unit_message_ok((ctx), unit_name_))                     \
			fail_msg("%s: got %d (errcode %d, message \"%s\"), " \
				 "want %d and a one-line message naming "    \
				 "'%s'",                                     \
				 (what), unit_rc_, folio_errcode(ctx),       \
				 folio_errmsg(ctx), (code),                  \
				 unit_name_ != NULL ? unit_name_ : "");      \
	} while (0)

/* expr must fail with code, recorded on ctx, with a message naming name. */
#define UNIT_FAILS(ctx, expr, code, name)                                    \
	do {                                                                 \
		folio_clear_error(ctx);                                      \
		int unit_rc2_ = (expr);                                      \
		UNIT_CHECK_FAILED(ctx, unit_rc2_, code, name, #expr);        \
	} while (0)

#define UNIT_REJECTS(ctx, expr, name) UNIT_FAILS(ctx, expr, FOLIO_EREJECT, name)

/* ---- base64 (standard alphabet, padded, as minisign) ---------------------- */

/* Decodes b64 (length n) into out (capacity cap); returns the byte count or
 * -1. */
static inline long unit_unbase64(uint8_t *out, size_t cap, const char *b64,
				 size_t n)
{
	size_t len = 0;

	if (sodium_base642bin(out, cap, b64, n, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)len;
}

/* Encodes bytes, malloc'd and NUL-terminated. */
static inline char *unit_base64(const uint8_t *in, size_t n)
{
	size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	assert_non_null(s);
	sodium_bin2base64(s, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Line i (0-based) of text (length len), without its end of line; *n gets
 * its length.  Fails the test when there is no such line. */
static inline const char *unit_line(const char *text, size_t len, int i,
				    size_t *n)
{
	const char *p = text, *end = text + len;

	for (; i > 0; i--) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
	if (l > 0 && p[l - 1] == '\r')
		l--;
	*n = l;
	return p;
}

#endif /* FOLIO_UNIT_H */
