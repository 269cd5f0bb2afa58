/* SPDX-License-Identifier: ISC */
/* An article (folio_article_read): the first byte picks the kind (HTML,
 * Markdown or text, by its value mod 3) and whether the edition has an
 * index page to link back to (bit 2); the rest is the file.  Whatever the
 * bytes, what the reader keeps is clean: every string valid UTF-8 without
 * control characters and within its length, the lead image a safe path, a
 * rendered page valid UTF-8.  It fails only on text that is not UTF-8 (in
 * Markdown or text) or when out of memory. */
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "fuzz.h"

/* The bounds article.c checks a resolved image reference against (not the
 * context's, which a manifest applies later). */
#define IMAGE_PATH_MAX 4096
#define IMAGE_PATH_DEPTH 64

/* s is NULL, or valid UTF-8 of at most max bytes (0: no bound) with no C0
 * control character, no DEL and, when no_c1, no C1 control character. */
static void check_text(const char *s, size_t max, bool no_c1)
{
	if (s == NULL)
		return;
	size_t len = strlen(s);
	FUZZ_ASSERT(u8_check((const uint8_t *)s, len) == NULL);
	FUZZ_ASSERT(max == 0 || len <= max);
	const uint8_t *p = (const uint8_t *)s;
	ucs4_t uc;
	while ((p = u8_next(&uc, p)) != NULL)
		FUZZ_ASSERT(uc >= 0x20 && uc != 0x7f && !(no_c1 && uc >= 0x80 && uc < 0xa0));
}

static void check_string(const char *s, size_t max)
{
	check_text(s, max, true);
}

/* An edition path (path, source, image) follows folio_path_problem(),
 * which refuses C0 controls and DEL but allows U+0080-U+009F in names (file
 * systems do): an <img src> with them resolves to such a path. */
static void check_path(const char *s)
{
	check_text(s, 0, false);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"a/b.html", "a/b.md", "a/b.txt"};
	static const int allowed[] = {FOLIO_EREJECT, FOLIO_ESYSTEM, 0};
	if (size == 0)
		return 0;
	const char *path = paths[data[0] % 3];
	bool rendered = data[0] % 3 != 0;
	struct folio_render r = {
		.edition_title = "Fuzz \xd8\xa7\xd9\x84\xd8\xb9\xd8\xaf\xd8\xaf edition",
		.has_index = (data[0] & 4) != 0,
		.name = NULL,
	};
	folio_ctx *ctx = fuzz_ctx();
	struct folio_article a;
	char *page = NULL;
	size_t page_len = 0;
	int rc = folio_article_read(ctx, path, (const char *)data + 1, size - 1, &r, &a,
				    &page, &page_len);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, allowed);
		/* a rejection is for Markdown or text that is not UTF-8 */
		FUZZ_ASSERT(rc != FOLIO_EREJECT ||
			    (rendered && u8_check(data + 1, size - 1) != NULL));
		FUZZ_ASSERT(page == NULL);
		folio_article_release(&a);
		return 0;
	}
	FUZZ_ASSERT(a.path != NULL && a.title != NULL && a.dir != NULL);
	check_path(a.path);
	check_string(a.title, FOLIO_TITLE_MAX);
	FUZZ_ASSERT(a.title[0] != '\0');
	FUZZ_ASSERT(strcmp(a.dir, "ltr") == 0 || strcmp(a.dir, "rtl") == 0);
	check_string(a.lang, 0);
	check_string(a.date, 0);
	check_string(a.author, 256);
	check_string(a.summary, 600);
	check_path(a.image);
	check_path(a.source);
	if (a.image != NULL)
		FUZZ_ASSERT(folio_path_problem(a.image, IMAGE_PATH_MAX, IMAGE_PATH_DEPTH) == NULL);
	if (a.text != NULL)
		FUZZ_ASSERT(u8_check((const uint8_t *)a.text, strlen(a.text)) == NULL);
	for (size_t i = 0; i < a.nremote; i++)
		FUZZ_ASSERT(a.remote[i] != NULL);
	if (rendered) {
		FUZZ_ASSERT(page != NULL);
		FUZZ_ASSERT(strlen(page) == page_len);
		FUZZ_ASSERT(u8_check((const uint8_t *)page, page_len) == NULL);
		FUZZ_ASSERT(ends_with(a.path, ".html"));
		FUZZ_ASSERT(a.source != NULL && strcmp(a.source, path) == 0);
	} else {
		FUZZ_ASSERT(page == NULL);
		FUZZ_ASSERT(strcmp(a.path, path) == 0);
	}
	fuzz_note("%s: '%s', %llu words, %zu remote", path, a.title,
		  (unsigned long long)a.words, a.nremote);
	free(page);
	folio_article_release(&a);
	return 0;
}
