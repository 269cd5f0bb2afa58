/* SPDX-License-Identifier: ISC */
/* The edition page, the search index and search folding (reader.c). */
#include "unit.h"

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

/* ---- case files (tests/reader/) ----------------------------------------- */

/* Unescapes one column of a case file (\u{HEX}, \\) into a malloc'd
 * buffer; *len gets its length (it may hold a NUL). */
static char *unescape(const char *s, size_t n, size_t *len)
{
	char *out = malloc(n * 4 + 1);
	size_t o = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
		} else if (s[i] == '\\' && i + 2 < n && s[i + 1] == 'u' && s[i + 2] == '{') {
			char *end;
			unsigned long cp = strtoul(s + i + 3, &end, 16);
			if (*end != '}')
				fail_msg("bad escape in \"%.*s\"", (int)n, s);
			unsigned char *u = (unsigned char *)out + o;
			if (cp < 0x80) {
				u[0] = (unsigned char)cp, o += 1;
			} else if (cp < 0x800) {
				u[0] = (unsigned char)(0xc0 | cp >> 6);
				u[1] = (unsigned char)(0x80 | (cp & 0x3f)), o += 2;
			} else if (cp < 0x10000) {
				u[0] = (unsigned char)(0xe0 | cp >> 12);
				u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp & 0x3f)), o += 3;
			} else {
				u[0] = (unsigned char)(0xf0 | cp >> 18);
				u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (unsigned char)(0x80 | (cp & 0x3f)), o += 4;
			}
			i = (size_t)(end - s);
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* Calls fn(columns, lengths, ncolumns, line number, arg) for every case
 * line of tests/reader/NAME; returns the number of cases. */
typedef void case_fn(char **col, size_t *len, int ncol, int line, void *arg);

static int each_case(const char *name, case_fn *fn, void *arg)
{
	char *path = unit_join("tests/reader/", name, NULL);
	size_t size;
	char *text = unit_read_file(path, &size);
	int cases = 0, line = 0;

	for (char *p = text; p < text + size; line++) {
		char *nl = memchr(p, '\n', (size_t)(text + size - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(text + size - p);
		if (n > 0 && p[0] != '#') {
			char *col[4];
			size_t len[4];
			int ncol = 0;
			for (char *c = p; ncol < 4;) {
				char *tab = memchr(c, '\t', (size_t)(p + n - c));
				size_t cn = tab != NULL ? (size_t)(tab - c) : (size_t)(p + n - c);
				col[ncol] = unescape(c, cn, &len[ncol]);
				ncol++;
				if (tab == NULL)
					break;
				c = tab + 1;
			}
			fn(col, len, ncol, line + 1, arg);
			for (int i = 0; i < ncol; i++)
				free(col[i]);
			cases++;
		}
		p += n + 1;
	}
	free(text);
	free(path);
	return cases;
}

/* ---- building manifests --------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

static void add_article(struct folio_manifest *m, const char *path,
			const char *title, const char *lang, const char *dir,
			const char *date, const char *text)
{
	struct folio_article *v = realloc(m->articles, (m->narticles + 1) * sizeof *v);

	assert_non_null(v);
	m->articles = v;
	struct folio_article *a = &v[m->narticles++];
	memset(a, 0, sizeof *a);
	a->path = dup_or_null(path);
	a->title = dup_or_null(title);
	a->lang = dup_or_null(lang);
	a->dir = dup_or_null(dir);
	a->date = dup_or_null(date);
	a->text = dup_or_null(text);
}

static void init_manifest(struct folio_manifest *m, const char *title)
{
	memset(m, 0, sizeof *m);
	m->channel = dup_or_null("news.example");
	m->title = dup_or_null(title);
	m->edition = 42;
	m->created = 1764288000; /* 2025-11-28T00:00:00Z */
	m->expires = m->created + 86400;
}

static void free_manifest(struct folio_manifest *m)
{
	folio_manifest_release(m);
}

/* ---- folding -------------------------------------------------------------- */

static void check_fold_case(char **col, size_t *len, int ncol, int line, void *arg)
{
	int *failures = arg;

	if (ncol != 2)
		fail_msg("fold-cases.txt:%d: want 2 columns, got %d", line, ncol);
	char *got = folio_search_fold(col[0], len[0]);
	assert_non_null(got);
	if (strlen(got) != len[1] || memcmp(got, col[1], len[1]) != 0) {
		print_error("fold-cases.txt:%d: \"%s\" folds to \"%s\", want \"%s\"\n",
			    line, col[0], got, col[1]);
		(*failures)++;
	}
	free(got);
}

static void fold_cases(void **state)
{
	int failures = 0;

	(void)state;
	int cases = each_case("fold-cases.txt", check_fold_case, &failures);
	assert_true(cases >= 60);
	assert_int_equal(failures, 0);
}

static void fold_edges(void **state)
{
	char *s;

	(void)state;
	s = folio_search_fold("", 0);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	/* only the first len bytes count */
	s = folio_search_fold("ABCDEF", 3);
	assert_string_equal(s, "abc");
	free(s);
	/* invalid UTF-8: each bad byte is U+FFFD; a cut sequence too */
	s = folio_search_fold("a\xff" "b\xc3", 4);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	free(s);
	/* a surrogate encoded in UTF-8 is no character */
	s = folio_search_fold("\xed\xa0\x80", 3);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	/* only marks: nothing left */
	s = folio_search_fold("\xd9\x8e\xd9\x91\xd9\x80", 6);
	assert_string_equal(s, "");
	free(s);
	/* a long input (every code point of the BMP but surrogates) */
	size_t cap = 0x10000 * 3, n = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	for (unsigned cp = 1; cp < 0x10000; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x80) {
			big[n++] = (char)cp;
		} else if (cp < 0x800) {
			big[n++] = (char)(0xc0 | cp >> 6);
			big[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			big[n++] = (char)(0xe0 | cp >> 12);
			big[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			big[n++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	s = folio_search_fold(big, n);
	assert_non_null(s);
	assert_true(folio_utf8_valid(s));
	free(s);
	free(big);
}

/* ---- the search index ----------------------------------------------------- */

struct search_index {
	json_t *root;
	size_t nterms;
	char **terms;          /* every article's terms, sorted, unique */
	size_t **ids;          /* per term: the articles that have it, ascending */
	size_t *nids;
};

static void index_free(struct search_index *x)
{
	for (size_t i = 0; i < x->nterms; i++) {
		free(x->terms[i]);
		free(x->ids[i]);
	}
	free(x->terms);
	free(x->ids);
	free(x->nids);
	json_decref(x->root);
	memset(x, 0, sizeof *x);
}

/* The next UTF-16 code unit of the UTF-8 string at *s (valid UTF-8; *pending
 * holds a low surrogate still to come). */
static unsigned utf16_next(const unsigned char **s, unsigned *pending)
{
	const unsigned char *u = *s;
	unsigned cp;

	if (*pending != 0) {
		cp = *pending;
		*pending = 0;
		return cp;
	}
	if (u[0] < 0x80) {
		cp = u[0], *s += 1;
	} else if (u[0] < 0xe0) {
		cp = (u[0] & 0x1fu) << 6 | (u[1] & 0x3fu), *s += 2;
	} else if (u[0] < 0xf0) {
		cp = (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu), *s += 3;
	} else {
		cp = (u[0] & 0x07u) << 18 | (u[1] & 0x3fu) << 12 | (u[2] & 0x3fu) << 6 |
		     (u[3] & 0x3fu), *s += 4;
		*pending = 0xdc00 + ((cp - 0x10000) & 0x3ff);
		return 0xd800 + ((cp - 0x10000) >> 10);
	}
	return cp;
}

/* strcmp in UTF-16 code unit order, the order of JavaScript's <. */
static int utf16_compare(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	unsigned px = 0, py = 0;

	for (;;) {
		if ((*x == '\0' && px == 0) || (*y == '\0' && py == 0))
			return (*x != '\0' || px != 0) - (*y != '\0' || py != 0);
		unsigned cx = utf16_next(&x, &px), cy = utf16_next(&y, &py);
		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
}

struct term_ref {
	char *term;
	size_t id;
};

static int compare_term_refs(const void *pa, const void *pb)
{
	const struct term_ref *a = pa, *b = pb;
	int c = strcmp(a->term, b->term);
	return c != 0 ? c : (a->id > b->id) - (a->id < b->id);
}

/* A reader of the index format of docs/FORMAT.md, written apart from
 * reader.c's writer: checks the file's shape and each article's term list
 * (sorted in UTF-16 order, each once), and inverts the lists into x. */
static void index_parse(const char *js, size_t len, struct search_index *x)
{
	static const char head[] = "window.FOLIO_SEARCH={\"v\":2,\"a\":[";
	static const char var[] = "window.FOLIO_SEARCH=";
	json_error_t err;

	memset(x, 0, sizeof *x);
	assert_true(len > sizeof head + 2);
	assert_memory_equal(js, head, sizeof head - 1);
	assert_memory_equal(js + len - 4, "]};\n", 4);
	assert_null(memchr(js, '\0', len));
	assert_null(memchr(js, '\n', len - 1)); /* one line */
	/* U+2028 and U+2029 never appear raw */
	for (size_t i = 0; i + 2 < len; i++)
		assert_false((unsigned char)js[i] == 0xe2 && (unsigned char)js[i + 1] == 0x80 &&
			     ((unsigned char)js[i + 2] == 0xa8 || (unsigned char)js[i + 2] == 0xa9));
	x->root = json_loadb(js + sizeof var - 1, len - (sizeof var - 1) - 2, 0, &err);
	if (x->root == NULL)
		fail_msg("search index is not JSON: %s (column %d)", err.text, err.column);
	assert_int_equal(json_object_size(x->root), 2);
	assert_int_equal(json_integer_value(json_object_get(x->root, "v")), 2);
	json_t *a = json_object_get(x->root, "a");
	assert_true(json_is_array(a));

	struct term_ref *refs = NULL;
	size_t nrefs = 0, cap = 0;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		assert_true(json_is_array(e));
		assert_int_equal(json_array_size(e), 5);
		for (size_t k = 0; k < 5; k++)
			assert_true(json_is_string(json_array_get(e, k)));
		/* terms: joined by one space, none empty, strictly ascending */
		const char *t = json_string_value(json_array_get(e, 4));
		if (*t == '\0')
			continue;
		char *copy = strdup(t), *prev = NULL, *save = NULL;
		assert_non_null(copy);
		assert_true(t[0] != ' ' && t[strlen(t) - 1] != ' ');
		assert_null(strstr(t, "  "));
		for (char *tok = strtok_r(copy, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save)) {
			if (prev != NULL && utf16_compare(prev, tok) >= 0)
				fail_msg("article %zu: term \"%s\" after \"%s\"", i, tok, prev);
			prev = tok;
			if (nrefs == cap) {
				cap = cap > 0 ? cap * 2 : 64;
				refs = realloc(refs, cap * sizeof *refs);
				assert_non_null(refs);
			}
			refs[nrefs].term = strdup(tok);
			assert_non_null(refs[nrefs].term);
			refs[nrefs++].id = i;
		}
		free(copy);
	}
	if (nrefs > 0)
		qsort(refs, nrefs, sizeof *refs, compare_term_refs);
	x->terms = calloc(nrefs + 1, sizeof *x->terms);
	x->ids = calloc(nrefs + 1, sizeof *x->ids);
	x->nids = calloc(nrefs + 1, sizeof *x->nids);
	assert_true(x->terms != NULL && x->ids != NULL && x->nids != NULL);
	for (size_t i = 0, j; i < nrefs; i = j) {
		for (j = i + 1; j < nrefs && strcmp(refs[j].term, refs[i].term) == 0; j++)
			free(refs[j].term);
		size_t k = x->nterms++;
		x->terms[k] = refs[i].term;
		x->ids[k] = malloc(sizeof(size_t) * (j - i));
		assert_non_null(x->ids[k]);
		for (size_t r = i; r < j; r++)
			x->ids[k][x->nids[k]++] = refs[r].id;
	}
	free(refs);
}

static long index_find(const struct search_index *x, const char *term)
{
	for (size_t i = 0; i < x->nterms; i++)
		if (strcmp(x->terms[i], term) == 0)
			return (long)i;
	return -1;
}

static void make_index(folio_ctx *ctx, const struct folio_manifest *m,
		       struct search_index *x, char **js, size_t *len)
{
	UNIT_OK(ctx, folio_reader_search_index(ctx, m, js, len));
	index_parse(*js, *len, x);
}

struct token_state {
	folio_ctx *ctx;
	int failures;
};

/* The index of one article holds exactly the set of INDEXED TOKENS. */
static void check_token_case(char **col, size_t *len, int ncol, int line, void *arg)
{
	struct token_state *ts = arg;
	struct folio_manifest m;
	struct search_index x;
	char *js;
	size_t jslen;

	(void)len;
	if (ncol != 3)
		fail_msg("token-cases.txt:%d: want 3 columns, got %d", line, ncol);
	init_manifest(&m, "t");
	add_article(&m, "a.html", "", NULL, "ltr", NULL, col[0]);
	make_index(ts->ctx, &m, &x, &js, &jslen);
	size_t want = 0;
	char *save = NULL;
	for (char *tok = strtok_r(col[2], " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (index_find(&x, tok) < 0) {
			print_error("token-cases.txt:%d: \"%s\" is not indexed\n", line, tok);
			ts->failures++;
		}
		want++;
	}
	/* as a set: the expected list may repeat a token */
	if (x.nterms > want) {
		print_error("token-cases.txt:%d: %zu terms indexed, want at most %zu\n",
			    line, x.nterms, want);
		ts->failures++;
	}
	index_free(&x);
	free(js);
	free_manifest(&m);
}

static void token_cases(void **state)
{
	struct unit_state *s = *state;
	struct token_state ts = {s->ctx, 0};

	int cases = each_case("token-cases.txt", check_token_case, &ts);
	assert_true(cases >= 10);
	assert_int_equal(ts.failures, 0);
}

/* Terms in many articles: inverted, each term lists exactly the articles
 * that have it. */
static void index_many_articles(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	struct search_index x;
	enum { N = 1500, W = 40 };
	char *js;
	size_t len;

	init_manifest(&m, "Many");
	for (int i = 0; i < N; i++) {
		char path[32], text[W * 8 + 64];
		size_t o = 0;
		snprintf(path, sizeof path, "p/%05d.html", i);
		o += (size_t)snprintf(text + o, sizeof text - o, "common n%d", i);
		for (int w = 0; w < W; w++) /* w<k> when k divides i + 1 */
			if ((i + 1) % (w + 1) == 0)
				o += (size_t)snprintf(text + o, sizeof text - o, " w%d", w);
		if (i % 997 == 0)
			o += (size_t)snprintf(text + o, sizeof text - o, " rare");
		add_article(&m, path, "T", "en", "ltr", NULL, text);
	}
	make_index(s->ctx, &m, &x, &js, &len);
	assert_int_equal(json_array_size(json_object_get(x.root, "a")), N);
	/* terms sorted, unique */
	for (size_t i = 1; i < x.nterms; i++)
		assert_true(strcmp(x.terms[i - 1], x.terms[i]) < 0);
	long k = index_find(&x, "common");
	assert_true(k >= 0);
	assert_int_equal(x.nids[k], N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(x.ids[k][i], i);
	k = index_find(&x, "t");
	assert_true(k >= 0);
	assert_int_equal(x.nids[k], N);
	for (int w = 0; w < W; w++) {
		char term[16];
		snprintf(term, sizeof term, "w%d", w);
		k = index_find(&x, term);
		assert_true(k >= 0);
		size_t j = 0;
		for (size_t i = 0; i < N; i++) {
			if ((i + 1) % (size_t)(w + 1) == 0) {
				assert_true(j < x.nids[k]);
				assert_int_equal(x.ids[k][j], i);
				j++;
			}
		}
		assert_int_equal(j, x.nids[k]);
	}
	k = index_find(&x, "rare");
	assert_true(k >= 0);
	assert_int_equal(x.nids[k], 2);
	assert_int_equal(x.ids[k][0], 0);
	assert_int_equal(x.ids[k][1], 997);
	k = index_find(&x, "n1234");
	assert_true(k >= 0);
	assert_int_equal(x.nids[k], 1);
	assert_int_equal(x.ids[k][0], 1234);
	assert_int_equal(x.nterms, 3 + W + N); /* common, t, rare */
	index_free(&x);
	free(js);
	free_manifest(&m);
}

static void index_content(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	struct search_index x;
	char *js, *js2;
	size_t len, len2;

	init_manifest(&m, "Edition");
	add_article(&m, "index-like/a.html", "Caf\xc3\xa9 news", "en", "ltr",
		    "2025-11-28", "Caf\xc3\xa9 news\nThe caf\xc3\xa9 opens.");
	add_article(&m, "\xd8\xa3\xd8\xae\xd8\xa8\xd8\xa7\xd8\xb1/b.html",
		    "\xd8\xa7\xd9\x84\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8", "ar", "rtl",
		    NULL, NULL /* no text: the title is indexed */);
	/* hostile strings: quotes, backslash, U+2028, a bidi override, a tab */
	add_article(&m, "x/\"q\\.html", "a \"b\" \\ c\xe2\x80\xa8" "d\xe2\x80\xae" "e\tf", NULL,
		    "ltr", NULL, "line\xe2\x80\xa9sep");
	make_index(s->ctx, &m, &x, &js, &len);

	json_t *a = json_object_get(x.root, "a");
	assert_int_equal(json_array_size(a), 3);
	json_t *a0 = json_array_get(a, 0), *a1 = json_array_get(a, 1), *a2 = json_array_get(a, 2);
	assert_string_equal(json_string_value(json_array_get(a0, 0)), "index-like/a.html");
	assert_string_equal(json_string_value(json_array_get(a0, 1)), "Caf\xc3\xa9 news");
	assert_string_equal(json_string_value(json_array_get(a0, 2)), "ltr");
	assert_string_equal(json_string_value(json_array_get(a0, 3)), "en");
	assert_string_equal(json_string_value(json_array_get(a1, 2)), "rtl");
	assert_string_equal(json_string_value(json_array_get(a1, 3)), "ar");
	assert_string_equal(json_string_value(json_array_get(a2, 0)), "x/\"q\\.html");
	/* the override and the tab are gone, U+2028 kept (escaped) */
	assert_string_equal(json_string_value(json_array_get(a2, 1)),
			    "a \"b\" \\ c\xe2\x80\xa8" "def");
	assert_string_equal(json_string_value(json_array_get(a2, 3)), "");
	assert_non_null(strstr(js, "\\u2028"));

	static const struct {
		const char *term;
		size_t ids[3];
		size_t n;
	} want[] = {
		{"cafe", {0}, 1},
		{"news", {0}, 1},
		{"the", {0}, 1},
		{"opens", {0}, 1},
		{"\xd8\xa7\xd9\x84\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8", {1}, 1}, /* al-kitab */
		{"\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8", {1}, 1},                 /* kitab */
		{"a", {2}, 1}, {"b", {2}, 1}, {"c", {2}, 1}, {"d", {2}, 1},
		{"e", {2}, 1}, {"f", {2}, 1}, {"line", {2}, 1}, {"sep", {2}, 1},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		long k = index_find(&x, want[i].term);
		if (k < 0)
			fail_msg("term \"%s\" missing", want[i].term);
		assert_int_equal(x.nids[k], want[i].n);
		for (size_t j = 0; j < want[i].n; j++)
			assert_int_equal(x.ids[k][j], want[i].ids[j]);
	}
	assert_int_equal(x.nterms, sizeof want / sizeof *want);

	/* the exact bytes: an entry per article, its terms sorted, each once */
	static const char bytes[] =
		"window.FOLIO_SEARCH={\"v\":2,\"a\":["
		"[\"index-like/a.html\",\"Caf\xc3\xa9 news\",\"ltr\",\"en\",\"cafe news opens the\"],"
		"[\"\xd8\xa3\xd8\xae\xd8\xa8\xd8\xa7\xd8\xb1/b.html\","
		"\"\xd8\xa7\xd9\x84\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8\",\"rtl\",\"ar\","
		"\"\xd8\xa7\xd9\x84\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8 \xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8\"],"
		"[\"x/\\\"q\\\\.html\",\"a \\\"b\\\" \\\\ c\\u2028def\",\"ltr\",\"\","
		"\"a b c d e f line sep\"]"
		"]};\n";
	assert_int_equal(len, sizeof bytes - 1);
	assert_memory_equal(js, bytes, len);

	/* the same input gives the same bytes */
	UNIT_OK(s->ctx, folio_reader_search_index(s->ctx, &m, &js2, &len2));
	assert_int_equal(len, len2);
	assert_memory_equal(js, js2, len);
	free(js2);
	index_free(&x);
	free(js);
	free_manifest(&m);

	/* no articles */
	init_manifest(&m, "Empty");
	make_index(s->ctx, &m, &x, &js, &len);
	assert_string_equal(js, "window.FOLIO_SEARCH={\"v\":2,\"a\":[]};\n");
	index_free(&x);
	free(js);
	free_manifest(&m);
}

/* The entry of article path in an index: its bytes from '[' to ']', or
 * fails. */
static void entry_of(const char *js, const char *path, const char **start, size_t *len)
{
	char *key = unit_join("[\"", path, "\",");
	const char *p = strstr(js, key), *end;

	if (p == NULL)
		fail_msg("no entry for %s", path);
	end = strstr(p, "\"]");
	assert_non_null(end);
	*start = p;
	*len = (size_t)(end + 2 - p);
	free(key);
}

/* An article's entry depends on the article alone: its bytes stay the same
 * when articles before and after it come and go (what keeps a day's delta
 * of search-index.js small).  Terms sort in UTF-16 order (U+1F600 before
 * U+E000, though not in UTF-8 byte order), each once. */
static void index_article_entries(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m1, m2;
	char *js1, *js2;
	size_t len1, len2;

	init_manifest(&m1, "Day 1");
	add_article(&m1, "a/old.html", "Old news", "en", "ltr", NULL, "Yesterday only.");
	add_article(&m1, "b/kept.html", "Kept \xf0\x9f\x98\x80", "en", "ltr", NULL,
		    "Kept \xf0\x9f\x98\x80 \xee\x80\x80 zebra zebra Zebra apple");
	add_article(&m1, "c/\xd8\xa8.html", "\xd8\xa7\xd9\x84\xd8\xb3\xd9\x88\xd9\x82", "ar",
		    "rtl", NULL, NULL);
	init_manifest(&m2, "Day 2");
	add_article(&m2, "a/new.html", "New news", "en", "ltr", NULL, "Today only.");
	add_article(&m2, "a/other.html", "Another", "en", "ltr", NULL, "More.");
	add_article(&m2, "b/kept.html", "Kept \xf0\x9f\x98\x80", "en", "ltr", NULL,
		    "Kept \xf0\x9f\x98\x80 \xee\x80\x80 zebra zebra Zebra apple");
	add_article(&m2, "c/\xd8\xa8.html", "\xd8\xa7\xd9\x84\xd8\xb3\xd9\x88\xd9\x82", "ar",
		    "rtl", NULL, NULL);
	add_article(&m2, "d/last.html", "Last", "en", "ltr", NULL, "The end.");
	UNIT_OK(s->ctx, folio_reader_search_index(s->ctx, &m1, &js1, &len1));
	UNIT_OK(s->ctx, folio_reader_search_index(s->ctx, &m2, &js2, &len2));

	const char *e1, *e2;
	size_t n1, n2;
	entry_of(js1, "b/kept.html", &e1, &n1);
	entry_of(js2, "b/kept.html", &e2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(e1, e2, n1);
	static const char kept[] = "[\"b/kept.html\",\"Kept \xf0\x9f\x98\x80\",\"ltr\",\"en\","
		"\"apple kept zebra \xf0\x9f\x98\x80 \xee\x80\x80\"]";
	assert_int_equal(n1, sizeof kept - 1);
	assert_memory_equal(e1, kept, n1);
	entry_of(js1, "c/\xd8\xa8.html", &e1, &n1);
	entry_of(js2, "c/\xd8\xa8.html", &e2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(e1, e2, n1);

	struct search_index x;
	index_parse(js2, len2, &x);
	assert_int_equal(json_array_size(json_object_get(x.root, "a")), 5);
	index_free(&x);
	free(js1);
	free(js2);
	free_manifest(&m1);
	free_manifest(&m2);
}

/* ---- the edition page ----------------------------------------------------- */

static xmlXPathObjectPtr xpath(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr c = xmlXPathNewContext(doc);
	assert_non_null(c);
	xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, c);
	xmlXPathFreeContext(c);
	if (r == NULL)
		fail_msg("bad xpath %s", expr);
	return r;
}

static size_t xpath_count(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr r = xpath(doc, expr);
	size_t n = r->nodesetval != NULL ? (size_t)r->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(r);
	return n;
}

/* The string value of expr (string(...)), malloc'd. */
static char *xpath_string(xmlDocPtr doc, const char *expr)
{
	char *full = unit_join("string(", expr, ")");
	xmlXPathObjectPtr r = xpath(doc, full);
	char *s = strdup(r->stringval != NULL ? (const char *)r->stringval : "");
	assert_non_null(s);
	xmlXPathFreeObject(r);
	free(full);
	return s;
}

static void assert_xpath_string(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xpath_string(doc, expr);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", expr, got, want);
	free(got);
}

static xmlDocPtr parse_page(const char *html, size_t len)
{
	xmlDocPtr doc = htmlReadMemory(html, (int)len, "index.html", "utf-8",
				       HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				       HTML_PARSE_NONET);
	assert_non_null(doc);
	return doc;
}

#define AR_NEWS "\xd8\xa3\xd8\xae\xd8\xa8\xd8\xa7\xd8\xb1" /* akhbar */
#define AR_TITLE "\xd8\xa7\xd9\x84\xd8\xb3\xd9\x88\xd9\x82" /* al-suq */

static void build_sample(struct folio_manifest *m)
{
	init_manifest(m, "The <Daily> & \"Co\"");
	/* manifest order is path order */
	add_article(m, "about.html", "About us", "en", "ltr", NULL, "About us");
	add_article(m, "news/a.html", "Old news", "en", "ltr", "2025-01-02", NULL);
	add_article(m, "news/b.html", "Undated", "en", "ltr", NULL, NULL);
	add_article(m, "news/c.html", "<script>alert('x')</script>", "en", "ltr",
		    "2025-11-27T10:00:00Z", NULL);
	add_article(m, "news/sub/d.html", "Deeper", "en", "ltr", "2025-11-01", NULL);
	add_article(m, AR_NEWS "/" AR_TITLE " 1.html", AR_TITLE, "ar", "rtl",
		    "2025-11-28", NULL);
	add_article(m, AR_NEWS "/z.html", "\xe2\x80\xae" "txet\xe2\x80\xac" " \xe2\x81\xa6x\xe2\x81\xa9",
		    "ar", "rtl", "2025-11-20", NULL);
	struct folio_article *c = &m->articles[3];
	c->author = dup_or_null("A. \"Writer\" & co");
	c->summary = dup_or_null("Sum\xe2\x80\xae" "mary <b>bold</b>");
	c->words = 1234;
	c->thumbnail = dup_or_null("_folio/thumbs/0123456789abcdef.jpg");
	m->articles[5].words = 1;
	m->articles[5].summary = dup_or_null(AR_TITLE);
	m->articles[5].thumbnail = dup_or_null("_folio/thumbs/fedcba9876543210.jpg");
}

static void index_page(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	char *html, *html2;
	size_t len, len2;

	build_sample(&m);
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	assert_int_equal(strlen(html), len);
	assert_true(folio_utf8_valid(html));
	assert_memory_equal(html, "<!DOCTYPE html>\n", 16);
	/* no bidi controls survive; no raw script; nothing from the network */
	assert_null(strstr(html, "\xe2\x80\xae"));
	assert_null(strstr(html, "\xe2\x80\xac"));
	assert_null(strstr(html, "\xe2\x81\xa6"));
	assert_null(strstr(html, "<script>alert"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
	assert_null(strstr(html, "http:"));
	assert_null(strstr(html, "https:"));
	assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" "
				     "content=\"default-src 'none'; script-src 'self' file:; "
				     "style-src 'unsafe-inline'; img-src 'self' file: data:; "
				     "form-action 'self' file:\">"));
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(html, "<script src=\"_folio/search-index.js\"></script>"
				     "<script src=\"_folio/search.js\"></script>"));
	/* the Arabic path, percent-encoded (space too) */
	assert_non_null(strstr(html, "href=\"%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/"
				     "%D8%A7%D9%84%D8%B3%D9%88%D9%82%201.html\""));

	xmlDocPtr doc = parse_page(html, len);
	/* five English articles, two Arabic: the page is English, ltr */
	assert_xpath_string(doc, "/html/@lang", "en");
	assert_xpath_string(doc, "/html/@dir", "ltr");
	assert_xpath_string(doc, "/html/head/title", "The <Daily> & \"Co\"");
	assert_xpath_string(doc, "//h1[@id='edition-title']", "The <Daily> & \"Co\"");
	assert_xpath_string(doc, "//h1[@id='edition-title']/@dir", "auto");
	assert_xpath_string(doc, "//header/p[@class='edition-date']/time/@datetime", "2025-11-28");
	assert_xpath_string(doc, "//header/p[@class='edition-date']",
			    "2025-11-28 \xc2\xb7 7 articles");
	assert_int_equal(xpath_count(doc, "//form[@id='search' and @action='index.html' and "
				    "@method='get' and @role='search']"), 1);
	assert_int_equal(xpath_count(doc, "//form[@id='search']/input[@id='q' and @name='q' "
				    "and @type='search' and @dir='auto']"), 1);
	assert_int_equal(xpath_count(doc, "//form[@id='search']/button[@type='submit']"), 1);
	assert_int_equal(xpath_count(doc, "//main/section[@id='results' and @hidden]"
				    "/ol[@id='results-list']"), 1);
	assert_int_equal(xpath_count(doc, "//section[@id='results']/p[@id='results-status']"), 1);
	assert_int_equal(xpath_count(doc, "//section[@id='results']/h2"), 1);
	assert_int_equal(xpath_count(doc, "//footer"), 1);

	/* sections: root, news, news/sub, akhbar (bytewise) */
	assert_int_equal(xpath_count(doc, "//main/section[@class='section']"), 4);
	assert_xpath_string(doc, "//section[@id='s-1']/h2", "The <Daily> & \"Co\"");
	assert_xpath_string(doc, "//section[@id='s-2']/h2", "news");
	assert_xpath_string(doc, "//section[@id='s-3']/h2", "news/sub");
	assert_xpath_string(doc, "//section[@id='s-4']/h2", AR_NEWS);
	assert_xpath_string(doc, "//section[@id='s-2']/h2/@dir", "auto");
	assert_int_equal(xpath_count(doc, "//section[@class='section']/ol[@class='articles']"
				    "/li[@class='article']"), 7);
	/* newest first, undated last */
	assert_xpath_string(doc, "//section[@id='s-2']/ol/li[1]/h3/a[@class='article-link']/@href",
			    "news/c.html");
	assert_xpath_string(doc, "//section[@id='s-2']/ol/li[2]/h3/a/@href", "news/a.html");
	assert_xpath_string(doc, "//section[@id='s-2']/ol/li[3]/h3/a/@href", "news/b.html");
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[1]/h3/a", AR_TITLE);
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[1]/@lang", "ar");
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[1]/@dir", "rtl");
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[2]/h3/a", "txet x");
	/* an Arabic card's thumbnail */
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[1]/a[@class='thumb']/img/@alt", AR_TITLE);
	assert_xpath_string(doc, "//section[@id='s-1']/ol/li[1]/@lang", "en");
	assert_xpath_string(doc, "//section[@id='s-1']/ol/li[1]/@dir", "ltr");
	/* the hostile article: escaped title, meta, summary, thumbnail */
	const char *c = "//section[@id='s-2']/ol/li[1]";
	char expr[256];
	snprintf(expr, sizeof expr, "%s/h3/a", c);
	assert_xpath_string(doc, expr, "<script>alert('x')</script>");
	snprintf(expr, sizeof expr, "%s/p[@class='meta']", c);
	assert_xpath_string(doc, expr, "2025-11-27 \xc2\xb7 A. \"Writer\" & co \xc2\xb7 1234 words");
	snprintf(expr, sizeof expr, "%s/p[@class='meta']/time/@datetime", c);
	assert_xpath_string(doc, expr, "2025-11-27T10:00:00Z");
	snprintf(expr, sizeof expr, "%s/p[@class='summary']", c);
	assert_xpath_string(doc, expr, "Summary <b>bold</b>");
	snprintf(expr, sizeof expr, "%s/a[@class='thumb']/@href", c);
	assert_xpath_string(doc, expr, "news/c.html");
	snprintf(expr, sizeof expr, "%s/a[@class='thumb']/img/@src", c);
	assert_xpath_string(doc, expr, "_folio/thumbs/0123456789abcdef.jpg");
	/* the title is what a missing thumbnail's box shows; its size is the box */
	snprintf(expr, sizeof expr, "%s/a[@class='thumb']/img/@alt", c);
	assert_xpath_string(doc, expr, "<script>alert('x')</script>");
	snprintf(expr, sizeof expr, "%s/a[@class='thumb']/img/@width", c);
	assert_xpath_string(doc, expr, "96");
	snprintf(expr, sizeof expr, "%s/a[@class='thumb']/img/@height", c);
	assert_xpath_string(doc, expr, "96");
	/* the thumbnail comes first in the card */
	snprintf(expr, sizeof expr, "%s/*[1]/@class", c);
	assert_xpath_string(doc, expr, "thumb");
	/* no thumbnail, no meta when nothing is known */
	assert_int_equal(xpath_count(doc, "//section[@id='s-2']/ol/li[3]/a[@class='thumb']"), 0);
	assert_int_equal(xpath_count(doc, "//section[@id='s-2']/ol/li[3]/p[@class='meta']"), 0);
	/* Arabic article's own words */
	assert_xpath_string(doc, "//section[@id='s-4']/ol/li[1]/p[@class='meta']",
			    "2025-11-28 \xc2\xb7 1 \xd9\x83\xd9\x84\xd9\x85\xd8\xa9");
	xmlFreeDoc(doc);

	/* the same input gives the same bytes */
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html2, &len2));
	assert_int_equal(len, len2);
	assert_memory_equal(html, html2, len);
	free(html2);
	free(html);
	free_manifest(&m);
}

static void index_page_language(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	char *html;
	size_t len;
	xmlDocPtr doc;

	/* a title without letters says nothing; a tie: the first article's
	 * language and direction */
	init_manifest(&m, "2025 - 11");
	add_article(&m, "a.html", "a", "ar", "rtl", NULL, NULL);
	add_article(&m, "b.html", "b", "en", "ltr", NULL, NULL);
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	doc = parse_page(html, len);
	assert_xpath_string(doc, "/html/@lang", "ar");
	assert_xpath_string(doc, "/html/@dir", "rtl");
	/* the page's own words in Arabic: "2 maqala" */
	assert_xpath_string(doc, "//p[@class='edition-date']",
			    "2025-11-28 \xc2\xb7 2 \xd9\x85\xd9\x82\xd8\xa7\xd9\x84\xd8\xa9");
	xmlFreeDoc(doc);
	free(html);
	free_manifest(&m);

	/* a title with letters sets the direction; the language is the most
	 * common among the articles running that way */
	init_manifest(&m, "Cairo News Digest");
	add_article(&m, "a.html", "a", "ar", "rtl", NULL, NULL);
	add_article(&m, "b.html", "b", "ar", "rtl", NULL, NULL);
	add_article(&m, "c.html", "c", "en", "ltr", NULL, NULL);
	add_article(&m, "d.html", "d", "fr", "ltr", NULL, NULL);
	add_article(&m, "e.html", "e", "fr", "ltr", NULL, NULL);
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	doc = parse_page(html, len);
	assert_xpath_string(doc, "/html/@lang", "fr");
	assert_xpath_string(doc, "/html/@dir", "ltr");
	xmlFreeDoc(doc);
	free(html);
	free_manifest(&m);
	init_manifest(&m, AR_NEWS);
	add_article(&m, "a.html", "a", "en", "ltr", NULL, NULL);
	add_article(&m, "b.html", "b", "fa", "rtl", NULL, NULL);
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	doc = parse_page(html, len);
	assert_xpath_string(doc, "/html/@lang", "fa");
	assert_xpath_string(doc, "/html/@dir", "rtl");
	xmlFreeDoc(doc);
	free(html);
	free_manifest(&m);

	/* nobody has a language: no lang attribute; most are rtl */
	init_manifest(&m, "...");
	add_article(&m, "a.html", "a", NULL, "ltr", NULL, NULL);
	add_article(&m, "b.html", "b", NULL, "rtl", NULL, NULL);
	add_article(&m, "c.html", "c", NULL, "rtl", NULL, NULL);
	m.articles[2].words = 9;
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	/* English words in a right-to-left card keep their order */
	assert_non_null(strstr(html, "<p class=\"meta\"><span dir=\"ltr\">9 words</span></p>"));
	doc = parse_page(html, len);
	assert_int_equal(xpath_count(doc, "/html/@lang"), 0);
	assert_int_equal(xpath_count(doc, "//li/@lang"), 0);
	assert_xpath_string(doc, "/html/@dir", "rtl");
	xmlFreeDoc(doc);
	free(html);
	free_manifest(&m);

	/* a hostile language tag cannot leave its attribute */
	init_manifest(&m, "Odd");
	add_article(&m, "a.html", "a", "en\" onload=\"x", "ltr", NULL, NULL);
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	assert_null(strstr(html, "onload="));
	assert_non_null(strstr(html, " lang=\"enonloadx\""));
	free(html);
	free_manifest(&m);
}

static void index_page_empty(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	char *html;
	size_t len;

	init_manifest(&m, "Nothing \xe2\x80\xae" "today");
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	xmlDocPtr doc = parse_page(html, len);
	assert_int_equal(xpath_count(doc, "/html/@lang"), 0);
	assert_xpath_string(doc, "/html/@dir", "ltr");
	assert_xpath_string(doc, "//h1[@id='edition-title']", "Nothing today");
	assert_xpath_string(doc, "//p[@class='edition-date']", "2025-11-28 \xc2\xb7 0 articles");
	assert_int_equal(xpath_count(doc, "//section[@class='section']"), 0);
	assert_int_equal(xpath_count(doc, "//section[@id='results']/ol[@id='results-list']"), 1);
	assert_xpath_string(doc, "//main/p[@class='empty']", "This edition has no articles.");
	xmlFreeDoc(doc);
	free(html);
	free_manifest(&m);
}

/* Titles and texts that are not what the manifest promises (invalid UTF-8,
 * control characters) still give valid UTF-8 and never crash. */
static void robustness(void **state)
{
	struct unit_state *s = *state;
	struct folio_manifest m;
	char *html, *js;
	size_t len, jslen;
	struct search_index x;

	init_manifest(&m, "Bad \xff\xfe bytes\x01");
	add_article(&m, "a b/\xff.html", "t\xc3\x28" "\x1b[31m", "ar", "sideways",
		    "not a date", "\xf0\x9f\x98\x80\xf0\x9f \xe2\x80\xa8 x\xed\xa0\x80y");
	UNIT_OK(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len));
	assert_true(folio_utf8_valid(html));
	assert_null(strchr(html, '\x1b'));
	assert_non_null(strstr(html, "href=\"a%20b/%FF.html\""));
	assert_non_null(strstr(html, "dir=\"ltr\">")); /* an unknown dir is ltr */
	make_index(s->ctx, &m, &x, &js, &jslen);
	assert_true(folio_utf8_valid(js));
	assert_true(index_find(&x, "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd") >= 0);
	free(js);
	index_free(&x);
	free(html);
	/* what the struct promises is missing: refused, not a crash */
	free(m.articles[0].title);
	m.articles[0].title = NULL;
	UNIT_REJECTS(s->ctx, folio_reader_index_page(s->ctx, &m, &html, &len), "index.html");
	assert_null(html);
	UNIT_REJECTS(s->ctx, folio_reader_search_index(s->ctx, &m, &js, &jslen), "search-index.js");
	assert_null(js);
	free_manifest(&m);
}

static void embedded_script(void **state)
{
	size_t len;
	char *js = unit_read_file("src/reader/search.js", &len);

	(void)state;
	assert_int_equal(folio_reader_search_js_len, len);
	assert_memory_equal(folio_reader_search_js, js, len);
	assert_int_equal(folio_reader_search_js[len], '\0');
	/* ASCII only, so that no engine misreads it whatever it assumes */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)js[i] < 0x80);
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fold_cases),
		cmocka_unit_test(fold_edges),
		UNIT_TEST(token_cases),
		UNIT_TEST(index_many_articles),
		UNIT_TEST(index_article_entries),
		UNIT_TEST(index_content),
		UNIT_TEST(index_page),
		UNIT_TEST(index_page_language),
		UNIT_TEST(index_page_empty),
		UNIT_TEST(robustness),
		cmocka_unit_test(embedded_script),
	};

	return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
