/* SPDX-License-Identifier: ISC */
/* The manifest: what the publisher signs.  JSON through jansson. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "folio-internal.h"

#define MEDIA_TYPE_MAX 127

/* Here rather than in article.c, so that folio-unpack, which reads article
 * entries but never makes them, does not link the parsers. */
void folio_article_release(struct folio_article *a)
{
	char *strings[] = {a->path, a->source, a->title, a->lang, a->dir, a->date,
			   a->author, a->summary, a->image, a->thumbnail, a->text};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
	for (size_t i = 0; i < a->nremote; i++)
		free(a->remote[i]);
	free(a->remote);
	memset(a, 0, sizeof(*a));
}

void folio_manifest_release(struct folio_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		free(m->files[i].type);
		free(m->files[i].layer);
		free(m->files[i].origin);
	}
	free(m->files);
	for (size_t i = 0; i < m->narticles; i++)
		folio_article_release(&m->articles[i]);
	free(m->articles);
	free(m->channel);
	free(m->title);
	memset(m, 0, sizeof(*m));
}

bool folio_channel_valid(const char *channel)
{
	size_t len = strlen(channel);
	if (len == 0 || len > FOLIO_CHANNEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = channel[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* Civil (proleptic Gregorian) date from a day count, in 64-bit arithmetic:
 * gmtime_r cannot be used where time_t has 32 bits (Debian 12 armhf), and
 * editions expire after 2038.  Days are counted in 400-year eras from
 * 0000-03-01, so that the leap day ends each year. */
void folio_time_format(char out[32], int64_t t)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t z = days + 719468; /* 1970-01-01 is day 719468 from 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                                    /* 0 = March */
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (month <= 2);
	snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)year, (int)month, (int)day,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

char *folio_trusted_comment(const struct folio_manifest *m)
{
	char created[32], expires[32];
	folio_time_format(created, m->created);
	folio_time_format(expires, m->expires);
	size_t size = strlen(m->channel) + 160;
	char *s = malloc(size);
	if (s != NULL)
		snprintf(s, size, "%s channel:%s edition:%llu created:%s expires:%s",
			 FOLIO_FORMAT_NAME, m->channel, (unsigned long long)m->edition,
			 created, expires);
	return s;
}

static int compare_content(const void *a, const void *b, void *arg)
{
	const struct folio_file *files = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(files[i].hash, files[j].hash, FOLIO_HASH_BYTES);
	if (c == 0)
		c = (files[i].size > files[j].size) - (files[i].size < files[j].size);
	if (c == 0)
		c = (i > j) - (i < j);
	return c;
}

void folio_manifest_link_duplicates(struct folio_manifest *m)
{
	size_t *order = malloc(m->nfiles * sizeof(*order) + 1);
	for (size_t i = 0; i < m->nfiles; i++)
		m->files[i].same_as = i;
	if (order == NULL)
		return; /* every file stands alone: bigger, still correct */
	for (size_t i = 0; i < m->nfiles; i++)
		order[i] = i;
	qsort_r(order, m->nfiles, sizeof(*order), compare_content, m->files);
	for (size_t k = 1; k < m->nfiles; k++) {
		struct folio_file *prev = &m->files[order[k - 1]], *cur = &m->files[order[k]];
		if (prev->size == cur->size && memcmp(prev->hash, cur->hash, FOLIO_HASH_BYTES) == 0)
			cur->same_as = prev->same_as;
	}
	free(order);
}

void folio_manifest_count(const struct folio_manifest *m, const char *layer, uint64_t *files,
			  uint64_t *bytes)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct folio_file *f = &m->files[i];
		if (layer != NULL && (f->layer == NULL || strcmp(f->layer, layer) != 0))
			continue;
		*files += 1;
		*bytes += f->size;
	}
}

/* Keys in the order FORMAT.md gives; the optional ones only when known. */
static json_t *encode_article(const struct folio_article *a)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	const struct {
		const char *key, *value;
	} fields[] = {
		{"path", a->path}, {"source", a->source}, {"title", a->title},
		{"lang", a->lang}, {"dir", a->dir}, {"date", a->date},
		{"author", a->author}, {"summary", a->summary}, {"image", a->image},
		{"thumbnail", a->thumbnail},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].value != NULL)
			bad |= json_object_set_new(o, fields[i].key, json_string(fields[i].value));
	bad |= json_object_set_new(o, "words", json_integer((json_int_t)a->words));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int folio_manifest_encode(folio_ctx *ctx, const struct folio_manifest *m,
			  char **out, size_t *len)
{
	json_t *root = json_object(), *files = json_array();
	int bad = root == NULL || files == NULL;
	bad |= json_object_set_new(root, "format", json_string(FOLIO_FORMAT_NAME));
	bad |= json_object_set_new(root, "channel", json_string(m->channel));
	bad |= json_object_set_new(root, "title", json_string(m->title));
	bad |= json_object_set_new(root, "edition", json_integer((json_int_t)m->edition));
	bad |= json_object_set_new(root, "created", json_integer(m->created));
	bad |= json_object_set_new(root, "expires", json_integer(m->expires));
	for (size_t i = 0; i < m->nfiles && !bad; i++) {
		const struct folio_file *f = &m->files[i];
		json_t *o = json_object();
		bad |= o == NULL;
		bad |= json_object_set_new(o, "path", json_string(f->path));
		bad |= json_object_set_new(o, "size", json_integer((json_int_t)f->size));
		bad |= json_object_set_new(o, "blake2b", json_string(f->hex));
		bad |= json_object_set_new(o, "type", json_string(f->type));
		bad |= json_object_set_new(o, "mode", json_string(f->mode == 0755 ? "0755" : "0644"));
		bad |= json_object_set_new(o, "layer", json_string(f->layer));
		bad |= json_array_append_new(files, o);
	}
	bad |= json_object_set(root, "files", files);
	json_t *articles = json_array();
	bad |= articles == NULL;
	for (size_t i = 0; i < m->narticles && !bad; i++)
		bad |= json_array_append_new(articles, encode_article(&m->articles[i]));
	bad |= json_object_set(root, "articles", articles);
	int rc = folio_json_line(ctx, bad ? NULL : root, "the manifest", out, len);
	json_decref(articles);
	json_decref(files);
	json_decref(root);
	return rc;
}

int folio_json_line(folio_ctx *ctx, const json_t *root, const char *what, char **out, size_t *len)
{
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	size_t n = text != NULL ? strlen(text) : 0;
	char *withnl = text != NULL ? realloc(text, n + 2) : NULL;
	if (withnl == NULL) {
		free(text);
		return folio_fail(ctx, FOLIO_ESYSTEM, "cannot encode %s: out of memory", what);
	}
	/* a final newline, so that the file reads well in a terminal */
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	*out = withnl;
	*len = n + 1;
	return FOLIO_OK;
}

/* ---- decoding ------------------------------------------------------------ */

int folio_decode_fail(struct folio_decoder *d, const char *fmt, ...)
{
	char what[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return folio_fail(d->ctx, FOLIO_EREJECT, "cannot verify '%s': %s: %s", d->name, d->what, what);
}

int folio_decode_string(struct folio_decoder *d, json_t *obj, const char *key, size_t max,
			const char **out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return folio_decode_fail(d, "missing field '%s'", key);
	if (!json_is_string(v))
		return folio_decode_fail(d, "field '%s' is not a string", key);
	const char *s = json_string_value(v);
	if (json_string_length(v) > max)
		return folio_decode_fail(d, "field '%s' is too long", key);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return folio_decode_fail(d, "field '%s' has a control character", key);
	*out = s;
	return FOLIO_OK;
}

int folio_decode_uint(struct folio_decoder *d, json_t *obj, const char *key, uint64_t min,
		      uint64_t max, uint64_t *out, bool *present)
{
	json_t *v = json_object_get(obj, key);
	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return present != NULL ? FOLIO_OK : folio_decode_fail(d, "missing field '%s'", key);
	if (!json_is_integer(v))
		return folio_decode_fail(d, "field '%s' is not an integer", key);
	json_int_t n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return folio_decode_fail(d, "field '%s' is out of range", key);
	*out = (uint64_t)n;
	return FOLIO_OK;
}

static char *dup_or_fail(struct folio_decoder *d, const char *s, int *rc)
{
	char *copy = strdup(s);
	if (copy == NULL)
		*rc = folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
	return copy;
}

/* Every path can be installed: none twice, none also a folder of another,
 * no two that one FAT or exFAT stick would store as one. */
static int check_path_set(struct folio_decoder *d, const struct folio_manifest *m)
{
	char **paths = malloc(m->nfiles * sizeof(*paths) + 1);
	if (paths == NULL)
		return folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
	for (size_t i = 0; i < m->nfiles; i++)
		paths[i] = m->files[i].path;
	struct folio_path_clash clash;
	int r = folio_path_set_check(paths, m->nfiles, &clash);
	free(paths);
	if (r < 0)
		return folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
	if (r > 0) {
		char what[600];
		folio_path_clash_describe(&clash, what, sizeof(what));
		return folio_decode_fail(d, "%s", what);
	}
	return FOLIO_OK;
}

/* ---- splitting the text ------------------------------------------------- */

/* The manifest of 100,000 articles is some 90 MB of JSON, jansson's tree of
 * it several times that.  So jansson never holds it whole: the contents of
 * the root's "files" and "articles" arrays are cut out, their elements parsed
 * one at a time as they are decoded; the rest, the skeleton, is parsed as the
 * whole text was, so that the root and its keys are checked as before.  The
 * splitter only finds where values end, by strings and nesting; jansson
 * checks everything.  Text the splitter does not expect is parsed whole, as
 * it always was, so that jansson says what is wrong with it. */

/* A manifest nests 3 deep.  Deeper than this, the text is parsed whole, so
 * that jansson's depth limit counts from the root as it always did. */
#define SPLIT_DEPTH_MAX 64

struct split {
	bool found;        /* the root's key, raw, with an array for value */
	size_t begin, end; /* the array's contents, between its brackets */
	size_t count;      /* its elements */
};

struct manifest_text {
	const char *text;
	size_t len;
	struct split files, articles;
};

static size_t skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* One past the string whose quote is s[i]; 0 if it does not end. */
static size_t string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

static bool in_word(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '+' || c == '.';
}

/* One past the value that starts at s[i]: a string, a word (number, true,
 * false, null) or brackets to the one that closes them; 0 if none. */
static size_t value_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;
	do {
		if (i >= len)
			return 0;
		char c = s[i];
		if (c == '"') {
			if ((i = string_end(s, len, i)) == 0)
				return 0;
		} else if (c == '[' || c == '{') {
			if (++depth > SPLIT_DEPTH_MAX)
				return 0;
			i++;
		} else if (c == ']' || c == '}') {
			if (depth-- == 0)
				return 0;
			i++;
		} else if (depth > 0) {
			i++;
		} else {
			size_t start = i;
			while (i < len && in_word(s[i]))
				i++;
			if (i == start)
				return 0;
		}
	} while (depth > 0);
	return i;
}

/* Records the array whose '[' is s[i]; returns one past its ']', or 0.
 * Between elements: a comma, and whitespace around it. */
static size_t split_array(const char *s, size_t len, size_t i, struct split *a)
{
	*a = (struct split){.found = true, .begin = i + 1};
	i = skip_space(s, len, i + 1);
	while (i < len && s[i] != ']') {
		if (a->count > 0) {
			if (s[i] != ',')
				return 0;
			i = skip_space(s, len, i + 1);
		}
		if ((i = value_end(s, len, i)) == 0)
			return 0;
		a->count++;
		i = skip_space(s, len, i);
	}
	a->end = i;
	return i < len ? i + 1 : 0;
}

/* Walks the members of the root object, splitting "files" and "articles";
 * false if the text is not what it expects (an empty root included). */
static bool split_manifest(struct manifest_text *t)
{
	const char *s = t->text;
	size_t len = t->len, i = skip_space(s, len, 0);
	if (i >= len || s[i] != '{')
		return false;
	do {
		i = skip_space(s, len, i + 1);
		size_t key = i;
		if (i >= len || s[i] != '"' || (i = string_end(s, len, i)) == 0)
			return false;
		struct split *a = NULL;
		if (i - key == 7 && memcmp(s + key, "\"files\"", 7) == 0)
			a = &t->files;
		else if (i - key == 10 && memcmp(s + key, "\"articles\"", 10) == 0)
			a = &t->articles;
		i = skip_space(s, len, i);
		if (i >= len || s[i] != ':')
			return false;
		i = skip_space(s, len, i + 1);
		if (a != NULL && i < len && s[i] == '[')
			i = split_array(s, len, i, a);
		else
			i = value_end(s, len, i);
		if (i == 0)
			return false;
		i = skip_space(s, len, i);
	} while (i < len && s[i] == ',');
	return i < len && s[i] == '}' && skip_space(s, len, i + 1) == len;
}

/* The text without the split arrays' contents, malloc'd.  Their newlines
 * stay, so that jansson's line numbers are the manifest's.  An array not
 * split is an empty cut at 0. */
static char *make_skeleton(const struct manifest_text *t, size_t *len)
{
	const struct split *cuts[2] = {&t->files, &t->articles};
	if (cuts[1]->begin < cuts[0]->begin) {
		cuts[0] = &t->articles;
		cuts[1] = &t->files;
	}
	size_t n = t->len, at = 0, from = 0;
	for (int k = 0; k < 2; k++)
		for (size_t i = cuts[k]->begin; i < cuts[k]->end; i++)
			n -= t->text[i] != '\n';
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (int k = 0; k < 2; k++) {
		memcpy(out + at, t->text + from, cuts[k]->begin - from);
		at += cuts[k]->begin - from;
		for (size_t i = cuts[k]->begin; i < cuts[k]->end; i++)
			if (t->text[i] == '\n')
				out[at++] = '\n';
		from = cuts[k]->end;
	}
	memcpy(out + at, t->text + from, t->len - from);
	*len = n;
	return out;
}

static int not_json(folio_ctx *ctx, const char *name, const json_error_t *err, int line)
{
	return folio_fail(ctx, FOLIO_EREJECT,
			  "cannot verify '%s': manifest is not valid JSON: %s at line %d", name,
			  err->text, line);
}

/* The elements of "files" or "articles", one tree at a time: parsed from
 * the text when the array was split, else taken from the skeleton's tree
 * (the key was written with escapes, or the text was parsed whole). */
struct elements {
	json_t *array;
	const char *text; /* NULL: from array */
	size_t len, at, counted, index;
	int line; /* the manifest's line at text[counted] */
};

/* Starts on array, the tree's value for a's key; returns the count. */
static size_t elements_start(struct elements *e, json_t *array, const struct manifest_text *t,
			     const struct split *a)
{
	*e = (struct elements){.array = array, .line = 1};
	if (!a->found || json_array_size(array) > 0)
		return json_array_size(array);
	e->text = t->text;
	e->len = a->end;
	e->at = a->begin;
	return a->count;
}

/* The next element, a reference the caller drops (json_decref). */
static int elements_next(struct folio_decoder *d, struct elements *e, json_t **out)
{
	if (e->text == NULL) {
		*out = json_incref(json_array_get(e->array, e->index++));
		return FOLIO_OK;
	}
	size_t start = skip_space(e->text, e->len, e->at);
	if (e->index++ > 0) /* the comma */
		start = skip_space(e->text, e->len, start + 1);
	e->at = value_end(e->text, e->len, start);
	for (; e->counted < start; e->counted++)
		e->line += e->text[e->counted] == '\n';
	json_error_t err;
	*out = json_loadb(e->text + start, e->at - start, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &err);
	return *out != NULL ? FOLIO_OK : not_json(d->ctx, d->name, &err, e->line + err.line - 1);
}

static int decode_file(struct folio_decoder *d, json_t *o, struct folio_file *f)
{
	const folio_ctx *ctx = d->ctx;
	if (!json_is_object(o))
		return folio_decode_fail(d, "a file entry is not an object");
	const char *path, *hex, *type, *mode, *layer;
	int rc;
	if ((rc = folio_decode_string(d, o, "path", ctx->limits[FOLIO_LIMIT_PATH_LENGTH], &path)) ||
	    (rc = folio_decode_string(d, o, "blake2b", 64, &hex)) ||
	    (rc = folio_decode_string(d, o, "type", MEDIA_TYPE_MAX, &type)) ||
	    (rc = folio_decode_string(d, o, "mode", 4, &mode)) ||
	    (rc = folio_decode_string(d, o, "layer", 5, &layer)))
		return rc;
	const char *why = folio_path_problem(path, ctx->limits[FOLIO_LIMIT_PATH_LENGTH],
					     (unsigned)ctx->limits[FOLIO_LIMIT_PATH_DEPTH]);
	if (why != NULL)
		return folio_decode_fail(d, "unsafe path '%s': %s", path, why);
	if ((rc = folio_decode_uint(d, o, "size", 0, FOLIO_JSON_INT_MAX, &f->size, NULL)))
		return rc;
	if (f->size > ctx->limits[FOLIO_LIMIT_FILE_SIZE])
		return folio_fail(d->ctx, FOLIO_EREJECT,
				  "cannot verify '%s': '%s' is %llu bytes, more than the limit of %llu",
				  d->name, path, (unsigned long long)f->size,
				  (unsigned long long)ctx->limits[FOLIO_LIMIT_FILE_SIZE]);
	if (folio_unhex(f->hash, FOLIO_HASH_BYTES, hex) != 0)
		return folio_decode_fail(d, "bad blake2b of '%s'", path);
	if (strcmp(mode, "0644") != 0 && strcmp(mode, "0755") != 0)
		return folio_decode_fail(d, "mode of '%s' is not 0644 or 0755", path);
	if (strcmp(layer, "text") != 0 && strcmp(layer, "media") != 0)
		return folio_decode_fail(d, "layer of '%s' is not text or media", path);
	f->mode = mode[1] == '7' ? 0755 : 0644;
	memcpy(f->hex, hex, sizeof(f->hex));
	f->path = dup_or_fail(d, path, &rc);
	if (f->path != NULL)
		f->type = dup_or_fail(d, type, &rc);
	if (f->type != NULL)
		f->layer = dup_or_fail(d, layer, &rc);
	return rc;
}

static int compare_path_ptrs(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An optional string field: absent is fine, anything else is checked. */
static int get_optional_string(struct folio_decoder *d, json_t *obj, const char *key, size_t max,
			       const char **out)
{
	*out = NULL;
	return json_object_get(obj, key) == NULL ? FOLIO_OK : folio_decode_string(d, obj, key, max, out);
}

/* A path an article names must be one of the edition's files, so that a
 * reader page built from the list links only to what was verified. */
static int check_listed(struct folio_decoder *d, char **sorted, size_t n, const char *key,
			const char *path)
{
	if (path != NULL && bsearch(&path, sorted, n, sizeof(*sorted), compare_path_ptrs) == NULL)
		return folio_decode_fail(d, "article field '%s' names '%s', which is not a file of the edition",
					 key, path);
	return FOLIO_OK;
}

static int decode_article(struct folio_decoder *d, json_t *o, char **sorted, size_t n,
			  struct folio_article *a)
{
	if (!json_is_object(o))
		return folio_decode_fail(d, "an article entry is not an object");
	size_t path_max = d->ctx->limits[FOLIO_LIMIT_PATH_LENGTH];
	const char *path, *source, *title, *lang, *dir, *date, *author, *summary, *image, *thumb;
	uint64_t words;
	int rc;
	if ((rc = folio_decode_string(d, o, "path", path_max, &path)) ||
	    (rc = get_optional_string(d, o, "source", path_max, &source)) ||
	    (rc = folio_decode_string(d, o, "title", FOLIO_TITLE_MAX, &title)) ||
	    (rc = get_optional_string(d, o, "lang", 35, &lang)) ||
	    (rc = folio_decode_string(d, o, "dir", 3, &dir)) ||
	    (rc = get_optional_string(d, o, "date", 20, &date)) ||
	    (rc = get_optional_string(d, o, "author", 256, &author)) ||
	    (rc = get_optional_string(d, o, "summary", 600, &summary)) ||
	    (rc = get_optional_string(d, o, "image", path_max, &image)) ||
	    (rc = get_optional_string(d, o, "thumbnail", path_max, &thumb)) ||
	    (rc = folio_decode_uint(d, o, "words", 0, FOLIO_JSON_INT_MAX, &words, NULL)))
		return rc;
	if (strcmp(dir, "ltr") != 0 && strcmp(dir, "rtl") != 0)
		return folio_decode_fail(d, "dir of article '%s' is not ltr or rtl", path);
	if ((rc = check_listed(d, sorted, n, "path", path)) ||
	    (rc = check_listed(d, sorted, n, "image", image)) ||
	    (rc = check_listed(d, sorted, n, "thumbnail", thumb)))
		return rc;
	const char *values[] = {path, source, title, lang, dir, date, author, summary, image, thumb};
	char **fields[] = {&a->path, &a->source, &a->title, &a->lang, &a->dir, &a->date,
			   &a->author, &a->summary, &a->image, &a->thumbnail};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]) && rc == FOLIO_OK; i++)
		if (values[i] != NULL)
			*fields[i] = dup_or_fail(d, values[i], &rc);
	a->words = words;
	return rc;
}

/* "articles" was room for later versions in the first readers; its entries
 * are now checked as strictly as files: a reader page is built from them. */
static int decode_articles(struct folio_decoder *d, json_t *articles,
			   const struct manifest_text *t, struct folio_manifest *m)
{
	if (articles == NULL)
		return FOLIO_OK;
	if (!json_is_array(articles))
		return folio_decode_fail(d, "field 'articles' is not an array");
	struct elements it;
	size_t n = elements_start(&it, articles, t, &t->articles);
	if (n > m->nfiles)
		return folio_decode_fail(d, "more articles than files");
	if (n == 0)
		return FOLIO_OK;
	char **sorted = malloc(m->nfiles * sizeof(*sorted) + 1);
	m->articles = calloc(n, sizeof(*m->articles));
	if (sorted == NULL || m->articles == NULL) {
		free(sorted);
		return folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
	}
	for (size_t i = 0; i < m->nfiles; i++)
		sorted[i] = m->files[i].path;
	qsort(sorted, m->nfiles, sizeof(*sorted), compare_path_ptrs);
	int rc = FOLIO_OK;
	for (size_t i = 0; i < n && rc == FOLIO_OK; i++) {
		m->narticles = i + 1;
		json_t *o = NULL;
		if ((rc = elements_next(d, &it, &o)) == FOLIO_OK)
			rc = decode_article(d, o, sorted, m->nfiles, &m->articles[i]);
		json_decref(o);
	}
	free(sorted);
	return rc;
}

static int decode_root(struct folio_decoder *d, json_t *root, const struct manifest_text *t,
		       struct folio_manifest *m)
{
	folio_ctx *ctx = d->ctx;
	if (!json_is_object(root))
		return folio_decode_fail(d, "not a JSON object");
	const char *format, *channel, *title;
	int rc;
	if ((rc = folio_decode_string(d, root, "format", 32, &format)))
		return rc;
	if (strcmp(format, FOLIO_FORMAT_NAME) != 0)
		return folio_decode_fail(d, "unknown format '%s'", format);
	if ((rc = folio_decode_string(d, root, "channel", FOLIO_CHANNEL_MAX, &channel)) ||
	    (rc = folio_decode_string(d, root, "title", FOLIO_TITLE_MAX, &title)))
		return rc;
	if (!folio_channel_valid(channel))
		return folio_decode_fail(d, "bad channel name '%s'", channel);
	uint64_t created, expires;
	if ((rc = folio_decode_uint(d, root, "edition", 1, FOLIO_JSON_INT_MAX, &m->edition, NULL)) ||
	    (rc = folio_decode_uint(d, root, "created", 0, FOLIO_JSON_INT_MAX, &created, NULL)) ||
	    (rc = folio_decode_uint(d, root, "expires", 0, FOLIO_JSON_INT_MAX, &expires, NULL)))
		return rc;
	if (expires <= created)
		return folio_decode_fail(d, "expires is not after created");
	m->created = (int64_t)created;
	m->expires = (int64_t)expires;
	json_t *files = json_object_get(root, "files");
	if (files == NULL || !json_is_array(files))
		return folio_decode_fail(d, "field 'files' is missing or not an array");
	struct elements it;
	size_t n = elements_start(&it, files, t, &t->files);
	if (n > ctx->limits[FOLIO_LIMIT_FILE_COUNT])
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': %zu files is more than the limit of %llu",
				  d->name, n, (unsigned long long)ctx->limits[FOLIO_LIMIT_FILE_COUNT]);
	m->channel = dup_or_fail(d, channel, &rc);
	if (m->channel != NULL)
		m->title = dup_or_fail(d, title, &rc);
	if (rc != FOLIO_OK)
		return rc;
	m->files = calloc(n + 1, sizeof(*m->files));
	if (m->files == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", d->name);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		m->nfiles = i + 1;
		json_t *o = NULL;
		if ((rc = elements_next(d, &it, &o)) == FOLIO_OK)
			rc = decode_file(d, o, &m->files[i]);
		json_decref(o);
		if (rc != FOLIO_OK)
			return rc;
		total += m->files[i].size;
		if (total > ctx->limits[FOLIO_LIMIT_TOTAL_SIZE])
			return folio_fail(ctx, FOLIO_EREJECT,
					  "cannot verify '%s': files add up to more than the limit of %llu bytes",
					  d->name, (unsigned long long)ctx->limits[FOLIO_LIMIT_TOTAL_SIZE]);
	}
	m->nfiles = n;
	if ((rc = check_path_set(d, m)))
		return rc;
	folio_manifest_link_duplicates(m);
	return decode_articles(d, json_object_get(root, "articles"), t, m);
}

int folio_manifest_decode(folio_ctx *ctx, const char *name, const char *json,
			  size_t len, struct folio_manifest *m)
{
	struct folio_decoder d = {ctx, name, "manifest"};
	memset(m, 0, sizeof(*m));
	if (len > ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE])
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': manifest larger than the limit of %llu bytes",
				  name, (unsigned long long)ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE]);
	struct manifest_text t = {.text = json, .len = len};
	json_error_t err;
	json_t *root;
	if (split_manifest(&t)) {
		size_t skeleton_len;
		char *skeleton = make_skeleton(&t, &skeleton_len);
		if (skeleton == NULL)
			return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", name);
		root = json_loadb(skeleton, skeleton_len, JSON_REJECT_DUPLICATES, &err);
		free(skeleton);
	} else {
		t.files = t.articles = (struct split){0};
		root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	}
	if (root == NULL)
		return not_json(ctx, name, &err, err.line);
	int rc = decode_root(&d, root, &t, m);
	json_decref(root);
	if (rc != FOLIO_OK)
		folio_manifest_release(m);
	return rc;
}
