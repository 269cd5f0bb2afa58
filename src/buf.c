/* SPDX-License-Identifier: ISC */
/* The growing string the page, article and search-index writers build their
 * output in.  Out of memory is remembered rather than returned, so a writer
 * can make a long run of adds and check once at the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio-internal.h"

bool folio_buf_reserve(struct folio_buf *b, size_t n)
{
	if (b->oom)
		return false;
	/* An empty buffer allocates even for n == 0: a writer that added
	 * nothing but "" still gets a string, not NULL. */
	if (b->p != NULL && b->cap - b->len > n)
		return true;
	/* Keeps the doubling below (and len + n + 1) from overflowing. */
	if (n >= SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + n + 1;
	size_t cap = b->cap > 0 ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void folio_buf_addn(struct folio_buf *b, const void *s, size_t n)
{
	if (!folio_buf_reserve(b, n))
		return;
	if (n > 0) /* s may be NULL then, which memcpy does not allow */
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void folio_buf_add(struct folio_buf *b, const char *s)
{
	folio_buf_addn(b, s, strlen(s));
}

void folio_buf_addc(struct folio_buf *b, char c)
{
	folio_buf_addn(b, &c, 1);
}

void folio_buf_addu(struct folio_buf *b, unsigned long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%llu", v);

	folio_buf_addn(b, tmp, (size_t)n);
}

void folio_buf_htmln(struct folio_buf *b, const char *s, size_t n)
{
	size_t start = 0;

	/* Runs without a special character are copied whole. */
	for (size_t i = 0; i < n; i++) {
		const char *entity;
		switch (s[i]) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default: continue;
		}
		folio_buf_addn(b, s + start, i - start);
		folio_buf_add(b, entity);
		start = i + 1;
	}
	folio_buf_addn(b, s + start, n - start);
}

void folio_buf_html(struct folio_buf *b, const char *s)
{
	folio_buf_htmln(b, s, strlen(s));
}
