/* SPDX-License-Identifier: ISC */
/* The edition page (index.html), the search index (_folio/search-index.js)
 * and the folding that search.js repeats, character for character, in the
 * browser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <unistr.h>
#include <uninorm.h>

#include "folio-internal.h"

/* Longest indexed token, in code points; longer ones are cut to this, and
 * search.js cuts query tokens the same way. */
#define TOKEN_MAX 40
/* "v" of the search index: search.js refuses a format it does not know. */
#define INDEX_FORMAT 2
/* CSS pixels of a card's thumbnail box, in its style and its width and
 * height (edition.c makes thumbnails twice this, for dense screens). */
#define THUMB_BOX "96"

/* ---- UTF-8 ---------------------------------------------------------------- */

/* The code point at s[0..n) (n > 0) and its length in *len; an invalid or
 * truncated sequence is one byte read as U+FFFD. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	size_t need;
	uint32_t cp, min;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0xfffd;
	if (need > n)
		return 0xfffd;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	*len = need;
	return cp;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- folding and tokens (docs/FORMAT.md, "Search") ------------------------ */

/* Step 3: marks that do not change which word it is. */
static bool fold_removed(uint32_t c)
{
	return (c >= 0x0300 && c <= 0x036f) || (c >= 0x0610 && c <= 0x061a) ||
	       (c >= 0x064b && c <= 0x065f) || c == 0x0670 ||
	       (c >= 0x06d6 && c <= 0x06ed) || c == 0x0640 ||
	       (c >= 0x200c && c <= 0x200f) || c == 0x061c;
}

/* Step 4: letter variants written for one another.  U+0000 becomes a space
 * so that a C string can carry the result (it separates tokens either way). */
static uint32_t fold_mapped(uint32_t c)
{
	switch (c) {
	case 0x0000: return 0x0020;
	case 0x0671: return 0x0627;
	case 0x0649: return 0x064a;
	case 0x0629: return 0x0647;
	case 0x06cc: return 0x064a;
	case 0x06a9: return 0x0643;
	default: return c;
	}
}

/* Step 5: the characters between tokens. */
static bool is_separator(uint32_t c)
{
	return c < 0x30 || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
	       (c >= 0x7b && c <= 0xbf) || c == 0x060c || c == 0x061b ||
	       c == 0x061f || (c >= 0x066a && c <= 0x066d) || c == 0x06d4 ||
	       (c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) ||
	       (c >= 0xfe10 && c <= 0xfe1f) || (c >= 0xfe30 && c <= 0xfe4f) ||
	       (c >= 0xff00 && c <= 0xff0f);
}

char *folio_search_fold(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t *in = NULL, *norm = NULL, *lower = NULL;
	size_t n = 0, nnorm = 0, nlower = 0;
	char *out = NULL;

	if (len > (SIZE_MAX - 1) / sizeof *in)
		return NULL;
	in = malloc((len + 1) * sizeof *in);
	if (in == NULL)
		return NULL;
	for (size_t i = 0, l; i < len; i += l)
		in[n++] = utf8_next(s + i, len - i, &l);
	if (n > 0) {
		norm = u32_normalize(UNINORM_NFKD, in, n, NULL, &nnorm);
		if (norm == NULL)
			goto done;
		lower = u32_tolower(norm, nnorm, NULL, NULL, NULL, &nlower);
		if (lower == NULL)
			goto done;
	}
	if (nlower > (SIZE_MAX - 1) / 4)
		goto done;
	out = malloc(nlower * 4 + 1);
	if (out == NULL)
		goto done;
	size_t o = 0;
	for (size_t i = 0; i < nlower; i++) {
		if (!fold_removed(lower[i]))
			o += utf8_put(out + o, fold_mapped(lower[i]));
	}
	out[o] = '\0';
done:
	free(in);
	free(norm);
	free(lower);
	return out;
}

/* The tokens of a folded string, one at a time: *start and *len (bytes) of
 * the next one from *pos; false at the end. */
static bool next_token(const char *s, size_t n, size_t *pos, size_t *start,
		       size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = *pos, l;

	while (i < n && is_separator(utf8_next(u + i, n - i, &l)))
		i += l;
	if (i >= n) {
		*pos = n;
		return false;
	}
	*start = i;
	while (i < n && !is_separator(utf8_next(u + i, n - i, &l)))
		i += l;
	*len = i - *start;
	*pos = i;
	return true;
}

/* Bytes of s[0..n) that hold its first max code points. */
static size_t cut_code_points(const char *s, size_t n, size_t max)
{
	size_t i = 0;

	for (size_t k = 0; i < n && k < max; k++) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

static size_t count_code_points(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* Step 6: the length in bytes of an Arabic article prefix the token starts
 * with (that leaves at least two letters), else 0. */
static size_t arabic_prefix(const char *s, size_t n)
{
	static const char *const prefixes[] = {
		"\xd9\x88\xd8\xa7\xd9\x84", /* wa-l */
		"\xd8\xa8\xd8\xa7\xd9\x84", /* bi-l */
		"\xd9\x83\xd8\xa7\xd9\x84", /* ka-l */
		"\xd9\x81\xd8\xa7\xd9\x84", /* fa-l */
		"\xd9\x84\xd9\x84",         /* li-l */
		"\xd8\xa7\xd9\x84",         /* al */
	};

	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t p = strlen(prefixes[i]);
		if (n > p && memcmp(s, prefixes[i], p) == 0 &&
		    count_code_points(s + p, n - p) >= 2)
			return p;
	}
	return 0;
}

/* ---- the search index ----------------------------------------------------- */

/* One article's terms while its index entry is made: spans of its folded
 * title and text. */
struct term {
	const char *s;
	size_t len;
};

struct term_list {
	struct term *v;
	size_t n, cap;
};

static bool term_list_add(struct term_list *t, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (t->n == t->cap) {
		size_t cap = t->cap > 0 ? t->cap * 2 : 256;
		struct term *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].s = s;
	t->v[t->n].len = n;
	t->n++;
	return true;
}

/* Adds the terms of an already folded string: each token, cut, and its
 * prefix-stripped form (step 6).  The terms point into folded. */
static bool term_list_add_tokens(struct term_list *t, const char *folded)
{
	size_t n = strlen(folded), pos = 0, start, len;

	while (next_token(folded, n, &pos, &start, &len)) {
		const char *tok = folded + start;
		size_t p = arabic_prefix(tok, len);
		if (!term_list_add(t, tok, cut_code_points(tok, len, TOKEN_MAX)))
			return false;
		if (p > 0 && !term_list_add(t, tok + p,
					    cut_code_points(tok + p, len - p, TOKEN_MAX)))
			return false;
	}
	return true;
}

/* A code point's rank in UTF-16 code unit order, the order in which
 * search.js compares strings. */
static uint32_t utf16_rank(uint32_t cp)
{
	if (cp < 0xd800)
		return cp;
	if (cp >= 0x10000)
		return 0xd800 + (cp - 0x10000);
	return cp + 0x100000;
}

static int compare_terms(const void *pa, const void *pb)
{
	const struct term *a = pa, *b = pb;
	const unsigned char *x = (const unsigned char *)a->s;
	const unsigned char *y = (const unsigned char *)b->s;
	size_t i = 0, j = 0, li, lj;

	while (i < a->len && j < b->len) {
		uint32_t cx = utf8_next(x + i, a->len - i, &li);
		uint32_t cy = utf8_next(y + j, b->len - j, &lj);
		if (cx != cy)
			return utf16_rank(cx) < utf16_rank(cy) ? -1 : 1;
		i += li;
		j += lj;
	}
	return (i < a->len) - (j < b->len);
}

static const char *dir_value(const char *dir)
{
	return dir != NULL && strcmp(dir, "rtl") == 0 ? "rtl" : "ltr";
}

/* Bidirectional embeddings, overrides and isolates: a title could turn the
 * rest of a line around with them. */
static bool is_bidi_control(uint32_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* s as a JSON string: valid UTF-8, no control or bidi control characters,
 * U+2028 and U+2029 escaped for JavaScript engines older than ES2019. */
static void buf_add_json(struct folio_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), l;
	char tmp[8];

	folio_buf_addc(b, '"');
	for (size_t i = 0; i < n; i += l) {
		uint32_t c = utf8_next(u + i, n - i, &l);
		if (c < 0x20 || c == 0x7f || is_bidi_control(c))
			continue;
		if (c == '"' || c == '\\') {
			folio_buf_addc(b, '\\');
			folio_buf_addc(b, (char)c);
		} else if (c == 0x2028 || c == 0x2029) {
			snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)c);
			folio_buf_add(b, tmp);
		} else {
			folio_buf_addn(b, tmp, utf8_put(tmp, c));
		}
	}
	folio_buf_addc(b, '"');
}

/* The fields the page and the index rely on: 0, or a failure naming what. */
static int check_articles(folio_ctx *ctx, const struct folio_manifest *m,
			  const char *what)
{
	for (size_t i = 0; i < m->narticles; i++) {
		if (m->articles[i].path == NULL || m->articles[i].title == NULL)
			return folio_fail(ctx, FOLIO_EREJECT,
					  "cannot make '%s': article %zu has no path or title",
					  what, i + 1);
	}
	return FOLIO_OK;
}

/* An article's index entry: [path, title, dir, lang, "terms"], its terms
 * sorted in UTF-16 order, each once, joined by spaces.  It depends on the
 * article alone, so that an article that did not change keeps its bytes
 * when others come and go (a day's delta then patches little). */
static bool add_article_entry(struct folio_buf *b, const struct folio_article *a,
			      struct term_list *t)
{
	char *title = folio_search_fold(a->title, strlen(a->title));
	char *text = a->text != NULL ? folio_search_fold(a->text, strlen(a->text)) : NULL;
	bool ok = title != NULL && (a->text == NULL || text != NULL);

	t->n = 0;
	ok = ok && term_list_add_tokens(t, title) &&
	     (text == NULL || term_list_add_tokens(t, text));
	if (ok) {
		if (t->n > 0)
			qsort(t->v, t->n, sizeof *t->v, compare_terms);
		folio_buf_addc(b, '[');
		buf_add_json(b, a->path);
		folio_buf_addc(b, ',');
		buf_add_json(b, a->title);
		folio_buf_addc(b, ',');
		buf_add_json(b, dir_value(a->dir));
		folio_buf_addc(b, ',');
		buf_add_json(b, a->lang != NULL ? a->lang : "");
		/* Terms never hold a space (it separates tokens), nor need
		 * escaping (they have no separator, so no ASCII punctuation,
		 * control, U+2028 or U+2029). */
		folio_buf_add(b, ",\"");
		for (size_t i = 0; i < t->n; i++) {
			if (i > 0 && compare_terms(&t->v[i - 1], &t->v[i]) == 0)
				continue;
			if (i > 0)
				folio_buf_addc(b, ' ');
			folio_buf_addn(b, t->v[i].s, t->v[i].len);
		}
		folio_buf_add(b, "\"]");
	}
	free(title);
	free(text);
	return ok;
}

int folio_reader_search_index(folio_ctx *ctx, const struct folio_manifest *m,
			      char **out, size_t *len)
{
	struct term_list t = {0};
	struct folio_buf b = {0};
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = check_articles(ctx, m, FOLIO_SEARCH_INDEX)) != FOLIO_OK)
		return rc;
	folio_buf_add(&b, "window.FOLIO_SEARCH={\"v\":");
	folio_buf_addu(&b, INDEX_FORMAT);
	folio_buf_add(&b, ",\"a\":[");
	for (size_t i = 0; i < m->narticles; i++) {
		if (i > 0)
			folio_buf_addc(&b, ',');
		if (!add_article_entry(&b, &m->articles[i], &t))
			goto oom;
	}
	folio_buf_add(&b, "]};\n");
	if (b.oom)
		goto oom;
	free(t.v);
	*out = b.p;
	*len = b.len;
	return FOLIO_OK;
oom:
	free(t.v);
	free(b.p);
	return folio_fail(ctx, FOLIO_ESYSTEM, "cannot make '%s': out of memory",
			  FOLIO_SEARCH_INDEX);
}

/* ---- the edition page ----------------------------------------------------- */

/* Text for HTML: the escapes of folio_buf_htmln(), and more, as a title or
 * folder name from any article may reach the edition page: valid UTF-8 (a
 * bad byte becomes U+FFFD), without C0, C1 and bidi control characters (the
 * element's dir says which way it reads). */
static void buf_add_html_n(struct folio_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t l;
	char tmp[8];

	for (size_t i = 0; i < n; i += l) {
		uint32_t c = utf8_next(u + i, n - i, &l);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0) || is_bidi_control(c))
			continue;
		folio_buf_htmln(b, tmp, utf8_put(tmp, c));
	}
}

static void buf_add_html(struct folio_buf *b, const char *s)
{
	buf_add_html_n(b, s, strlen(s));
}

/* A relative URL for an edition path: every byte but RFC 3986's unreserved
 * characters and "/" percent-encoded. */
static void buf_add_href(struct folio_buf *b, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		unsigned c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || c == '/') {
			folio_buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			folio_buf_addn(b, e, 3);
		}
	}
}

/* A language tag or direction as an attribute value: [A-Za-z0-9-] only. */
static void buf_add_token(struct folio_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-')
			folio_buf_addc(b, c);
	}
}

static size_t dirname_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? (size_t)(slash - path) : 0;
}

static int compare_placement(const void *pa, const void *pb, void *arg)
{
	const struct folio_article *v = arg;
	const struct folio_article *a = &v[*(const size_t *)pa];
	const struct folio_article *b = &v[*(const size_t *)pb];
	size_t da = dirname_len(a->path), db = dirname_len(b->path);
	int c = memcmp(a->path, b->path, da < db ? da : db);

	if (c != 0)
		return c;
	if (da != db)
		return da < db ? -1 : 1;
	if ((a->date == NULL) != (b->date == NULL))
		return a->date == NULL ? 1 : -1;
	if (a->date != NULL && (c = strcmp(b->date, a->date)) != 0)
		return c; /* newest first */
	c = strcmp(a->path, b->path);
	if (c != 0)
		return c;
	return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

static int compare_lang_refs(const void *pa, const void *pb)
{
	const size_t *a = pa, *b = pb; /* {index, unused}: sorted by lang, then index */
	int c = strcmp((const char *)(uintptr_t)a[1], (const char *)(uintptr_t)b[1]);
	return c != 0 ? c : (a[0] > b[0]) - (a[0] < b[0]);
}

/* The page's own direction and language.  The edition's title, when it has
 * letters, says which way the page runs (a "Cairo News Digest" of mostly
 * Arabic articles is still an English page); else most articles do (ties:
 * the first article's).  The language is the most common one among the
 * articles running that way (ties: the first), or NULL.  O(n log n): an
 * edition may have 100,000 articles. */
static void page_language(const struct folio_manifest *m, const char *title,
			  const char **lang, const char **dir)
{
	size_t rtl = 0, ltr = 0;
	for (size_t i = 0; i < m->narticles; i++) {
		bool r = m->articles[i].dir != NULL && strcmp(m->articles[i].dir, "rtl") == 0;
		rtl += r;
		ltr += !r;
	}
	*dir = rtl > ltr || (rtl == ltr && rtl > 0 && m->articles[0].dir != NULL &&
			     strcmp(m->articles[0].dir, "rtl") == 0) ? "rtl" : "ltr";
	bool letters = false;
	const uint8_t *p = (const uint8_t *)title;
	for (ucs4_t c; p != NULL && *p != 0 && !letters;) {
		int n = u8_strmbtouc(&c, p);
		if (n <= 0)
			break;
		letters = uc_is_alpha(c);
		p += n;
	}
	if (letters) {
		const char *detected_lang;
		folio_text_detect(title, strlen(title), dir, &detected_lang);
	}
	*lang = NULL;
	size_t (*refs)[2] = malloc((m->narticles + 1) * sizeof(*refs));
	if (refs == NULL)
		return; /* no lang attribute: the page still works */
	size_t n = 0;
	for (size_t i = 0; i < m->narticles; i++) {
		const struct folio_article *a = &m->articles[i];
		if (a->lang != NULL && a->dir != NULL && strcmp(a->dir, *dir) == 0) {
			refs[n][0] = i;
			refs[n][1] = (size_t)(uintptr_t)a->lang;
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), compare_lang_refs);
	size_t best_count = 0, best_first = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && strcmp((const char *)(uintptr_t)refs[j][1],
				       (const char *)(uintptr_t)refs[i][1]) == 0)
			j++;
		if (j - i > best_count || (j - i == best_count && refs[i][0] < best_first)) {
			best_count = j - i;
			best_first = refs[i][0];
			*lang = (const char *)(uintptr_t)refs[i][1];
		}
		i = j;
	}
	free(refs);
}

static bool lang_is_arabic(const char *lang)
{
	return lang != NULL && strncmp(lang, "ar", 2) == 0 &&
	       (lang[2] == '\0' || lang[2] == '-');
}

/* The page's own words, in English or Arabic. */
struct wording {
	const char *search, *results, *empty, *footer;
	const char *article, *articles, *word, *words; /* after a number */
};

static const struct wording english = {
	"Search", "Search results", "This edition has no articles.",
	"Edition", "article", "articles", "word", "words",
};

static const struct wording arabic = {
	"\xd8\xa8\xd8\xad\xd8\xab",                                 /* bahth */
	"\xd9\x86\xd8\xaa\xd8\xa7\xd8\xa6\xd8\xac \xd8\xa7\xd9\x84\xd8\xa8\xd8\xad\xd8\xab",
	"\xd9\x84\xd8\xa7 \xd9\x85\xd9\x82\xd8\xa7\xd9\x84\xd8\xa7\xd8\xaa "
	"\xd9\x81\xd9\x8a \xd9\x87\xd8\xb0\xd8\xa7 \xd8\xa7\xd9\x84\xd8\xb9\xd8\xaf\xd8\xaf.",
	"\xd8\xa7\xd9\x84\xd8\xb9\xd8\xaf\xd8\xaf",                 /* al-adad */
	"\xd9\x85\xd9\x82\xd8\xa7\xd9\x84\xd8\xa9",                 /* maqala */
	"\xd9\x85\xd9\x82\xd8\xa7\xd9\x84\xd8\xa9",
	"\xd9\x83\xd9\x84\xd9\x85\xd8\xa9",                         /* kalima */
	"\xd9\x83\xd9\x84\xd9\x85\xd8\xa9",
};

static const char page_css[] =
	"*{box-sizing:border-box}"
	"[hidden]{display:none!important}"
	"html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
	"body{margin:0 auto;max-width:52rem;padding:0 1rem 2rem;"
	"font:1rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"Noto Naskh Arabic\",\"Noto Sans Arabic\",Tahoma,\"DejaVu Sans\",sans-serif;"
	"color:#1b1b1b;background:#fdfdfb;overflow-wrap:break-word}"
	"a{color:#0b4f9c}"
	"header{padding:1.25rem 0 .75rem;border-bottom:2px solid #1b1b1b}"
	"h1{margin:0;font-size:1.9rem;line-height:1.2}"
	".edition-date{margin:.3rem 0 .8rem;color:#555}"
	"#search{display:flex;gap:.5rem}"
	"#q{flex:1;min-width:0;font:inherit;padding:.45rem .6rem;border:1px solid #888;"
	"border-radius:.3rem;background:#fff;color:inherit}"
	"#search button{font:inherit;padding:.45rem .9rem;border:1px solid #888;"
	"border-radius:.3rem;background:#eee;color:inherit}"
	"h2{font-size:1.25rem;margin:1.6rem 0 .6rem;padding-bottom:.2rem;"
	"border-bottom:1px solid #ccc}"
	"ol{list-style:none;margin:0;padding:0}"
	"#results-status{color:#555;margin:.2rem 0 .6rem}"
	"#results-list li{margin:0 0 .5rem;text-align:start}#results-list a{display:block}"
	/* text-align:start: an li inherits its list's alignment (match-parent in
	 * Firefox), which would set rtl cards against the left */
	".article{overflow:hidden;padding:.8rem 0;border-bottom:1px solid #e3e3e3;text-align:start}"
	".thumb{float:left;margin-right:.9rem}"
	".article[dir=rtl] .thumb{float:right;margin-right:0;margin-left:.9rem}"
	".thumb img{position:relative;display:block;width:" THUMB_BOX "px;height:" THUMB_BOX "px;"
	"object-fit:cover;"
	"border-radius:.25rem;background:#ddd}"
	/* a missing thumbnail (the text layer alone): its alt text in the box;
	 * ::after shows only when the image is not drawn */
	".thumb img::after{content:attr(alt);position:absolute;top:0;left:0;width:100%;"
	"height:100%;box-sizing:border-box;overflow:hidden;padding:.3rem .4rem;"
	"border-radius:inherit;background:#e6e6e1;color:#555;font-size:.7rem;line-height:1.3;"
	"text-align:start;unicode-bidi:plaintext}"
	".article h3,.meta,.summary{overflow:hidden;margin:0}"
	".article h3{font-size:1.1rem;line-height:1.35;margin-bottom:.2rem}"
	".article-link{text-decoration:none}"
	".article-link:hover,.article-link:focus{text-decoration:underline}"
	".meta{font-size:.85rem;color:#555}"
	".summary{margin-top:.3rem}"
	"footer{margin-top:2rem;font-size:.85rem;color:#555}"
	"@media (max-width:30rem){h1{font-size:1.5rem}"
	".thumb img{width:72px;height:72px}}"
	"@media (prefers-color-scheme:dark){"
	"body{color:#e4e4e4;background:#141414}a{color:#8fc1ff}"
	"header{border-color:#e4e4e4}h2{border-color:#444}.article{border-color:#2c2c2c}"
	".edition-date,.meta,#results-status,footer{color:#aaa}"
	"#q{background:#222;border-color:#666}#search button{background:#333;border-color:#666}"
	".thumb img::after{background:#2c2c2c;color:#aaa}}";

static void add_meta(struct folio_buf *b, const struct folio_article *a,
		     const struct wording *w)
{
	bool any = false;

	if (a->date == NULL && a->author == NULL && a->words == 0)
		return;
	folio_buf_add(b, "\n    <p class=\"meta\">");
	if (a->date != NULL) {
		folio_buf_add(b, "<time datetime=\"");
		buf_add_html(b, a->date);
		folio_buf_add(b, "\">");
		buf_add_html_n(b, a->date, strnlen(a->date, 10)); /* the day */
		folio_buf_add(b, "</time>");
		any = true;
	}
	if (a->author != NULL) {
		folio_buf_add(b, any ? " \xc2\xb7 " : "");
		buf_add_html(b, a->author);
		any = true;
	}
	if (a->words > 0) {
		/* English words in a Persian card, say, need their own direction */
		const char *wdir = w == &arabic ? "rtl" : "ltr";
		bool isolate = strcmp(wdir, dir_value(a->dir)) != 0;
		folio_buf_add(b, any ? " \xc2\xb7 " : "");
		if (isolate) {
			folio_buf_add(b, "<span dir=\"");
			folio_buf_add(b, wdir);
			folio_buf_add(b, "\">");
		}
		folio_buf_addu(b, a->words);
		folio_buf_addc(b, ' ');
		folio_buf_add(b, a->words == 1 ? w->word : w->words);
		if (isolate)
			folio_buf_add(b, "</span>");
	}
	folio_buf_add(b, "</p>");
}

static void add_article(struct folio_buf *b, const struct folio_article *a)
{
	const struct wording *w = lang_is_arabic(a->lang) ? &arabic : &english;

	folio_buf_add(b, "\n   <li class=\"article\"");
	if (a->lang != NULL) {
		folio_buf_add(b, " lang=\"");
		buf_add_token(b, a->lang);
		folio_buf_addc(b, '"');
	}
	folio_buf_add(b, " dir=\"");
	folio_buf_add(b, dir_value(a->dir));
	folio_buf_add(b, "\">");
	if (a->thumbnail != NULL) {
		folio_buf_add(b, "\n    <a class=\"thumb\" href=\"");
		buf_add_href(b, a->path);
		folio_buf_add(b, "\" tabindex=\"-1\" aria-hidden=\"true\"><img src=\"");
		buf_add_href(b, a->thumbnail);
		/* The title: what a missing thumbnail's box shows.  The size is
		 * the box the style gives it (the thumbnail is cropped to it). */
		folio_buf_add(b, "\" alt=\"");
		buf_add_html(b, a->title);
		folio_buf_add(b, "\" width=\"" THUMB_BOX "\" height=\"" THUMB_BOX
			      "\" loading=\"lazy\"></a>");
	}
	folio_buf_add(b, "\n    <h3><a class=\"article-link\" href=\"");
	buf_add_href(b, a->path);
	folio_buf_add(b, "\">");
	buf_add_html(b, a->title);
	folio_buf_add(b, "</a></h3>");
	add_meta(b, a, w);
	if (a->summary != NULL) {
		folio_buf_add(b, "\n    <p class=\"summary\" dir=\"auto\">");
		buf_add_html(b, a->summary);
		folio_buf_add(b, "</p>");
	}
	folio_buf_add(b, "\n   </li>");
}

int folio_reader_index_page(folio_ctx *ctx, const struct folio_manifest *m,
			    char **out, size_t *len)
{
	const char *title = m->title != NULL && *m->title != '\0' ? m->title : m->channel;
	const char *lang, *dir;
	page_language(m, title, &lang, &dir);
	const struct wording *w = lang_is_arabic(lang) ? &arabic : &english;
	size_t *order = NULL;
	struct folio_buf b = {0};
	char created[32];
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = check_articles(ctx, m, "index.html")) != FOLIO_OK)
		return rc;
	if (title == NULL)
		title = "";
	if (m->narticles > 0) {
		order = malloc(m->narticles * sizeof *order);
		if (order == NULL)
			goto oom;
		for (size_t i = 0; i < m->narticles; i++)
			order[i] = i;
		qsort_r(order, m->narticles, sizeof *order, compare_placement,
			m->articles);
	}
	folio_time_format(created, m->created);
	created[10] = '\0';

	folio_buf_add(&b, "<!DOCTYPE html>\n<html");
	if (lang != NULL) {
		folio_buf_add(&b, " lang=\"");
		buf_add_token(&b, lang);
		folio_buf_addc(&b, '"');
	}
	folio_buf_add(&b, " dir=\"");
	folio_buf_add(&b, dir);
	folio_buf_add(&b, "\">\n<head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"script-src 'self' file:; style-src 'unsafe-inline'; "
		"img-src 'self' file: data:; form-action 'self' file:\">\n"
		"<meta name=\"color-scheme\" content=\"light dark\">\n<title>");
	buf_add_html(&b, title);
	folio_buf_add(&b, "</title><style>");
	folio_buf_add(&b, page_css);
	folio_buf_add(&b, "</style></head>\n<body>\n<header><h1 id=\"edition-title\" dir=\"auto\">");
	buf_add_html(&b, title);
	folio_buf_add(&b, "</h1>\n <p class=\"edition-date\"><time datetime=\"");
	folio_buf_add(&b, created);
	folio_buf_add(&b, "\">");
	folio_buf_add(&b, created);
	folio_buf_add(&b, "</time> \xc2\xb7 ");
	folio_buf_addu(&b, m->narticles);
	folio_buf_addc(&b, ' ');
	folio_buf_add(&b, m->narticles == 1 ? w->article : w->articles);
	folio_buf_add(&b, "</p>\n <form id=\"search\" action=\"index.html\" method=\"get\" role=\"search\">\n"
		"  <input id=\"q\" name=\"q\" type=\"search\" dir=\"auto\" autocomplete=\"off\" "
		"aria-label=\"");
	folio_buf_add(&b, w->search);
	folio_buf_add(&b, "\" placeholder=\"");
	folio_buf_add(&b, w->search);
	folio_buf_add(&b, "\"><button type=\"submit\">");
	folio_buf_add(&b, w->search);
	folio_buf_add(&b, "</button></form>\n</header>\n<main>\n"
		" <section id=\"results\" hidden><h2>");
	folio_buf_add(&b, w->results);
	folio_buf_add(&b, "</h2><p id=\"results-status\"></p><ol id=\"results-list\"></ol></section>");
	if (m->narticles == 0) {
		folio_buf_add(&b, "\n <p class=\"empty\">");
		folio_buf_add(&b, w->empty);
		folio_buf_add(&b, "</p>");
	}
	size_t section = 0;
	for (size_t k = 0; k < m->narticles; k++) {
		const struct folio_article *a = &m->articles[order[k]];
		size_t dl = dirname_len(a->path);
		bool first = k == 0;
		if (!first) {
			const char *prev = m->articles[order[k - 1]].path;
			first = dirname_len(prev) != dl || memcmp(prev, a->path, dl) != 0;
		}
		if (first) {
			if (k > 0)
				folio_buf_add(&b, "\n  </ol></section>");
			folio_buf_add(&b, "\n <section class=\"section\" id=\"s-");
			folio_buf_addu(&b, ++section);
			folio_buf_add(&b, "\"><h2 dir=\"auto\">");
			if (dl == 0) {
				buf_add_html(&b, title);
			} else {
				char *folder = strndup(a->path, dl);
				if (folder == NULL)
					goto oom;
				buf_add_html(&b, folder);
				free(folder);
			}
			folio_buf_add(&b, "</h2>\n  <ol class=\"articles\">");
		}
		add_article(&b, a);
	}
	if (m->narticles > 0)
		folio_buf_add(&b, "\n  </ol></section>");
	folio_buf_add(&b, "\n</main>\n<footer><p>");
	folio_buf_add(&b, w->footer);
	folio_buf_addc(&b, ' ');
	folio_buf_addu(&b, m->edition);
	if (m->channel != NULL) {
		folio_buf_add(&b, " \xc2\xb7 <span dir=\"ltr\">");
		buf_add_html(&b, m->channel);
		folio_buf_add(&b, "</span>");
	}
	folio_buf_add(&b, "</p></footer>\n<script src=\"" FOLIO_SEARCH_INDEX "\"></script>"
		"<script src=\"" FOLIO_SEARCH_SCRIPT "\"></script>\n</body></html>\n");
	if (b.oom)
		goto oom;
	free(order);
	*out = b.p;
	*len = b.len;
	return FOLIO_OK;
oom:
	free(order);
	free(b.p);
	return folio_fail(ctx, FOLIO_ESYSTEM, "cannot make 'index.html': out of memory");
}
