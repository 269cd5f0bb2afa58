/* SPDX-License-Identifier: ISC */
/* Search folding (folio_search_fold) on the input, then the search index
 * and the edition page (folio_reader_search_index, folio_reader_index_page)
 * over a small manifest made from the input.
 *
 * Folding is not quite idempotent, and cannot be under its documented rules
 * (docs/FORMAT.md, "Folding"): step 3 removes some characters that are
 * starters (canonical combining class 0: tatweel U+0640, ZWNJ/ZWJ/LRM/RLM,
 * U+061C), so "a" U+05B4 U+0640 U+05B0 folds to "a" U+05B4 U+05B0, whose
 * marks are out of canonical order, and folding that again (NFKD) swaps
 * them.  What holds, and is checked: folding again only reorders marks,
 * fold(fold(x)) == NFKD(fold(x)), and that is a fixed point.
 *
 * The manifest: the input split at NUL bytes is the edition's title, then
 * for each article (at most MAX_ARTICLES) its title, path and text.  A path
 * that is not a safe edition path becomes "x.html"; each article's direction
 * and language come from its title, as folio-pack finds them. */
#include <stdlib.h>
#include <string.h>

#include <uninorm.h>
#include <unistr.h>

#include "fuzz.h"

#define MAX_ARTICLES 32

static bool valid_utf8(const char *s, size_t len)
{
	return strlen(s) == len && u8_check((const uint8_t *)s, len) == NULL;
}

static void check_fold(const uint8_t *data, size_t size)
{
	char *once = folio_search_fold((const char *)data, size);
	FUZZ_ASSERT(once != NULL);
	size_t n = strlen(once);
	FUZZ_ASSERT(u8_check((const uint8_t *)once, n) == NULL);

	char *twice = folio_search_fold(once, n);
	FUZZ_ASSERT(twice != NULL);
	size_t reordered_len = 0;
	uint8_t *reordered = u8_normalize(UNINORM_NFKD, (const uint8_t *)once, n, NULL,
					  &reordered_len);
	FUZZ_ASSERT(reordered != NULL);
	FUZZ_ASSERT(reordered_len == strlen(twice) &&
		    memcmp(reordered, twice, reordered_len) == 0);
	char *thrice = folio_search_fold(twice, strlen(twice));
	FUZZ_ASSERT(thrice != NULL && strcmp(thrice, twice) == 0);
	if (strcmp(once, twice) != 0)
		fuzz_note("folding again reordered marks");
	free(reordered);
	free(thrice);
	free(twice);
	free(once);
}

/* The next NUL-terminated field of data[*pos..size), copied, or NULL at the
 * end. */
static char *next_field(const uint8_t *data, size_t size, size_t *pos)
{
	if (*pos > size)
		return NULL;
	const uint8_t *start = data + *pos;
	const uint8_t *nul = memchr(start, 0, size - *pos);
	size_t len = nul != NULL ? (size_t)(nul - start) : size - *pos;
	char *s = strndup((const char *)start, len);
	FUZZ_ASSERT(s != NULL);
	*pos += len + 1;
	return s;
}

static void check_reader(const uint8_t *data, size_t size)
{
	folio_ctx *ctx = fuzz_ctx();
	struct folio_manifest m = {0};
	struct folio_article articles[MAX_ARTICLES];
	size_t pos = 0;

	m.channel = strdup("fuzz");
	FUZZ_ASSERT(m.channel != NULL);
	m.title = next_field(data, size, &pos);
	m.edition = 7;
	m.created = 1700000000;
	m.expires = m.created + 86400;
	m.articles = articles;
	while (m.narticles < MAX_ARTICLES) {
		char *title = next_field(data, size, &pos);
		if (title == NULL)
			break;
		struct folio_article *a = &articles[m.narticles++];
		memset(a, 0, sizeof(*a));
		a->title = title;
		a->path = next_field(data, size, &pos);
		if (a->path == NULL || folio_path_problem(a->path, 1024, 32) != NULL) {
			free(a->path);
			a->path = strdup("x.html");
			FUZZ_ASSERT(a->path != NULL);
		}
		a->text = next_field(data, size, &pos);
		const char *dir, *lang;
		folio_text_detect(title, strlen(title), &dir, &lang);
		a->dir = strdup(dir);
		a->lang = lang != NULL ? strdup(lang) : NULL;
		FUZZ_ASSERT(a->dir != NULL && (lang == NULL || a->lang != NULL));
		if (m.narticles % 2 == 0) {
			a->date = strdup("2024-05-01");
			FUZZ_ASSERT(a->date != NULL);
		}
		a->words = a->text != NULL ? strlen(a->text) / 6 : 0;
	}

	char *out = NULL;
	size_t len = 0;
	int rc = folio_reader_search_index(ctx, &m, &out, &len);
	FUZZ_ASSERT(rc == FOLIO_OK);
	FUZZ_ASSERT(out != NULL && valid_utf8(out, len));
	free(out);

	rc = folio_reader_index_page(ctx, &m, &out, &len);
	FUZZ_ASSERT(rc == FOLIO_OK);
	FUZZ_ASSERT(out != NULL && valid_utf8(out, len));
	fuzz_note("%zu articles: index page of %zu bytes", m.narticles, len);
	free(out);

	/* the articles are on the stack: release them, not the array */
	for (size_t i = 0; i < m.narticles; i++)
		folio_article_release(&articles[i]);
	m.articles = NULL;
	m.narticles = 0;
	folio_manifest_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_fold(data, size);
	check_reader(data, size);
	return 0;
}
