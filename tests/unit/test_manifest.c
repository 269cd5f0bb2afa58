/* SPDX-License-Identifier: ISC */
/* The manifest: encoding, decoding with every check, duplicate-content
 * linking, the trusted comment, limits. */
#include "unit.h"

#include <time.h>

#include <jansson.h>

#define NAME "manifest-under-test.json"
#define ARABIC_TITLE "أخبار القاهرة: العدد الأول"
#define ARABIC_PATH "مقالات/ماسك-ألتمان.html"
#define CREATED 1764338400
#define EXPIRES 1766930400
#define MAX53 9007199254740991LL /* 2^53 - 1 */

static void hex_of(char out[65], char c)
{
	memset(out, c, 64);
	out[64] = '\0';
}

/* ---- a valid manifest as a jansson tree, to break one field at a time ---- */

static json_t *file_json(const char *path, json_int_t size, char hashc,
			 const char *type, const char *mode, const char *layer)
{
	char hex[65];

	hex_of(hex, hashc);
	json_t *f = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "path", path,
			      "size", size, "blake2b", hex, "type", type,
			      "mode", mode, "layer", layer);
	assert_non_null(f);
	return f;
}

static json_t *base_json(void)
{
	json_t *files = json_array();
	json_t *root;

	assert_non_null(files);
	json_array_append_new(files, file_json("index.html", 100, '1',
					       "text/html", "0644", "text"));
	json_array_append_new(files, file_json(ARABIC_PATH, 200, '2',
					       "text/html", "0644", "text"));
	json_array_append_new(files, file_json("img/a.png", 300, '3',
					       "image/png", "0755", "media"));
	root = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:[]}", "format",
			 "folio-1", "channel", "cairo-news", "title",
			 ARABIC_TITLE, "edition", (json_int_t)CREATED,
			 "created", (json_int_t)CREATED, "expires",
			 (json_int_t)EXPIRES, "files", files, "articles");
	assert_non_null(root);
	return root;
}

static json_t *file_at(json_t *root, size_t i)
{
	json_t *f = json_array_get(json_object_get(root, "files"), i);

	assert_non_null(f);
	return f;
}

static char *dump(const json_t *root, size_t *len)
{
	char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);

	assert_non_null(s);
	*len = strlen(s);
	return s;
}

/* The base manifest as compact JSON text, malloc'd. */
static char *base_text(size_t *len)
{
	json_t *root = base_json();
	char *s = dump(root, len);

	json_decref(root);
	return s;
}

/* Decodes exactly len bytes from a buffer with nothing after them. */
static int decode_bytes(folio_ctx *ctx, const char *text, size_t len,
			struct folio_manifest *m)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(m, 0, sizeof *m);
	folio_clear_error(ctx);
	rc = folio_manifest_decode(ctx, NAME, copy, len, m);
	free(copy);
	return rc;
}

static void rejects_text(folio_ctx *ctx, const char *what, const char *text,
			 size_t len)
{
	struct folio_manifest m;
	int rc = decode_bytes(ctx, text, len, &m);

	if (rc != FOLIO_EREJECT || folio_errcode(ctx) != FOLIO_EREJECT ||
	    !unit_message_ok(ctx, NAME))
		fail_msg("%s: decode gave %d, message \"%s\"; want %d and a "
			 "message naming '%s'",
			 what, rc, folio_errmsg(ctx), FOLIO_EREJECT, NAME);
	if (rc == FOLIO_OK)
		folio_manifest_release(&m);
}

static void accepts_text(folio_ctx *ctx, const char *what, const char *text,
			 size_t len)
{
	struct folio_manifest m;
	int rc = decode_bytes(ctx, text, len, &m);

	if (rc != FOLIO_OK)
		fail_msg("%s: decode gave %d, message \"%s\"; want 0", what, rc,
			 folio_errmsg(ctx));
	folio_manifest_release(&m);
}

/* Takes root's reference. */
static void rejects(folio_ctx *ctx, const char *what, json_t *root)
{
	size_t len;
	char *text = dump(root, &len);

	rejects_text(ctx, what, text, len);
	free(text);
	json_decref(root);
}

static void accepts(folio_ctx *ctx, const char *what, json_t *root)
{
	size_t len;
	char *text = dump(root, &len);

	accepts_text(ctx, what, text, len);
	free(text);
	json_decref(root);
}

/* The base manifest with top-level key set to value (removed if NULL). */
static json_t *with_top(const char *key, json_t *value)
{
	json_t *root = base_json();

	if (value == NULL)
		json_object_del(root, key);
	else
		json_object_set_new(root, key, value);
	return root;
}

/* The base manifest with file i's key set to value (removed if NULL). */
static json_t *with_file(size_t i, const char *key, json_t *value)
{
	json_t *root = base_json();

	if (value == NULL)
		json_object_del(file_at(root, i), key);
	else
		json_object_set_new(file_at(root, i), key, value);
	return root;
}

/* The base manifest with files replaced by the given paths (sizes 1, 2, ...,
 * distinct hashes). */
static json_t *with_paths(const char *const *paths, size_t n)
{
	json_t *root = base_json();
	json_t *files = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(files,
				      file_json(paths[i], (json_int_t)i + 1,
						(char)('a' + i), "text/plain",
						"0644", "text"));
	json_object_set_new(root, "files", files);
	return root;
}

/* ---- encode and decode ---------------------------------------------------- */

static void fill_file(struct folio_file *f, char *path, uint64_t size,
		      uint8_t byte, char *type, unsigned mode, char *layer)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	f->size = size;
	memset(f->hash, byte, sizeof f->hash);
	folio_hex(f->hex, f->hash, sizeof f->hash);
	f->hex[64] = '\0';
	f->type = type;
	f->mode = mode;
	f->layer = layer;
}

static void encode_is_compact_and_ordered(void **state)
{
	struct unit_state *s = *state;
	struct folio_file f[2];
	struct folio_manifest m = {
		.channel = "c", .title = "T", .edition = 5, .created = 1000,
		.expires = 2000, .nfiles = 2, .files = f,
	};
	char *out = NULL;
	size_t len = 0;
	char want[1024];
	const char *h1 = f[0].hex, *h2 = f[1].hex;

	fill_file(&f[0], "a.txt", 3, 0xab, "text/plain", 0644, "text");
	fill_file(&f[1], "b/c.png", 0, 0x01, "image/png", 0755, "media");
	folio_manifest_link_duplicates(&m);
	assert_string_equal(h1, "abababababababababababababababab"
				"abababababababababababababababab");
	snprintf(want, sizeof want,
		 "{\"format\":\"folio-1\",\"channel\":\"c\",\"title\":\"T\","
		 "\"edition\":5,\"created\":1000,\"expires\":2000,\"files\":["
		 "{\"path\":\"a.txt\",\"size\":3,\"blake2b\":\"%s\","
		 "\"type\":\"text/plain\",\"mode\":\"0644\",\"layer\":\"text\"},"
		 "{\"path\":\"b/c.png\",\"size\":0,\"blake2b\":\"%s\","
		 "\"type\":\"image/png\",\"mode\":\"0755\",\"layer\":\"media\"}"
		 "],\"articles\":[]}\n",
		 h1, h2);
	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &m, &out, &len));
	assert_non_null(out);
	if (len != strlen(want) || memcmp(out, want, len) != 0)
		fail_msg("encoded:\n%.*s\nwant:\n%s", (int)len, out, want);
	free(out);
}

static struct folio_manifest sample(struct folio_file f[4])
{
	struct folio_manifest m = {
		.channel = "cairo-news", .title = ARABIC_TITLE,
		.edition = 42, .created = CREATED, .expires = EXPIRES,
		.nfiles = 4, .files = f,
	};

	fill_file(&f[0], "index.html", 1234, 0x11, "text/html", 0644, "text");
	fill_file(&f[1], ARABIC_PATH, 99, 0x22, "text/html", 0644, "text");
	fill_file(&f[2], "img/صورة 1.jpg", (uint64_t)3 << 30, 0x33,
		  "image/jpeg", 0755, "media");
	/* Same content as file 0. */
	fill_file(&f[3], "copy/index.html", 1234, 0x11, "text/html", 0644,
		  "text");
	folio_manifest_link_duplicates(&m);
	return m;
}

static void round_trip(void **state)
{
	struct unit_state *s = *state;
	struct folio_file f[4];
	struct folio_manifest m = sample(f), d;
	char *out = NULL, *again = NULL;
	size_t len = 0, len2 = 0;

	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &m, &out, &len));
	assert_true(strncmp(out, "{\"format\":\"folio-1\",\"channel\":"
				 "\"cairo-news\",\"title\":", 45) == 0);
	/* Compact, one LF at the end (docs/FORMAT.md section 5). */
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1));
	assert_null(strstr(out, "\": "));
	assert_null(strstr(out, ", "));
	/* Non-ASCII characters unescaped. */
	assert_non_null(strstr(out, ARABIC_TITLE));
	assert_non_null(strstr(out, ARABIC_PATH));
	assert_null(strstr(out, "\\u"));

	memset(&d, 0, sizeof d);
	UNIT_OK(s->ctx, folio_manifest_decode(s->ctx, NAME, out, len, &d));
	assert_string_equal(d.channel, "cairo-news");
	assert_string_equal(d.title, ARABIC_TITLE);
	assert_int_equal(d.edition, 42);
	assert_int_equal(d.created, CREATED);
	assert_int_equal(d.expires, EXPIRES);
	assert_int_equal(d.nfiles, 4);
	folio_manifest_link_duplicates(&d);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(d.files[i].path, f[i].path);
		assert_int_equal(d.files[i].size, f[i].size);
		assert_memory_equal(d.files[i].hash, f[i].hash, 32);
		assert_string_equal(d.files[i].hex, f[i].hex);
		assert_string_equal(d.files[i].type, f[i].type);
		assert_int_equal(d.files[i].mode, f[i].mode);
		assert_string_equal(d.files[i].layer, f[i].layer);
		assert_int_equal(d.files[i].same_as, f[i].same_as);
	}
	assert_int_equal(d.files[3].same_as, 0);

	/* Encoding the decoded manifest gives the same bytes. */
	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &d, &again, &len2));
	assert_int_equal(len, len2);
	assert_memory_equal(out, again, len);

	folio_manifest_release(&d);
	free(again);
	free(out);
}

/* Articles survive encode and decode, keys in FORMAT.md 14.2's order, the
 * optional ones left out when unknown; pack-only fields never written. */
static void articles_round_trip(void **state)
{
	struct unit_state *s = *state;
	struct folio_file f[4];
	struct folio_manifest m = sample(f), d;
	struct folio_article a[2] = {
		{.path = ARABIC_PATH, .source = "index.html", .title = ARABIC_TITLE,
		 .lang = "ar", .dir = "rtl", .date = "2025-11-28T05:30:00Z",
		 .author = "عبدالله علي عسكر", .summary = "ملخص", .image = "img/صورة 1.jpg",
		 .thumbnail = "copy/index.html", .words = 512, .text = "never written"},
		{.path = "index.html", .title = "Front", .dir = "ltr", .words = 0},
	};
	char *out = NULL, *again = NULL;
	size_t len = 0, len2 = 0;

	m.articles = a;
	m.narticles = 2;
	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &m, &out, &len));
	assert_non_null(strstr(out, "\"articles\":[{\"path\":\"" ARABIC_PATH "\",\"source\":"
				    "\"index.html\",\"title\":\"" ARABIC_TITLE "\",\"lang\":\"ar\","
				    "\"dir\":\"rtl\",\"date\":\"2025-11-28T05:30:00Z\",\"author\":"));
	assert_non_null(strstr(out, "{\"path\":\"index.html\",\"title\":\"Front\",\"dir\":"
				    "\"ltr\",\"words\":0}]}"));
	assert_null(strstr(out, "never written"));

	memset(&d, 0, sizeof d);
	UNIT_OK(s->ctx, folio_manifest_decode(s->ctx, NAME, out, len, &d));
	assert_int_equal(d.narticles, 2);
	assert_string_equal(d.articles[0].author, "عبدالله علي عسكر");
	assert_string_equal(d.articles[0].thumbnail, "copy/index.html");
	assert_int_equal(d.articles[0].words, 512);
	assert_null(d.articles[1].lang);
	assert_null(d.articles[1].source);
	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &d, &again, &len2));
	assert_int_equal(len, len2);
	assert_memory_equal(out, again, len);
	folio_manifest_release(&d);
	free(again);
	free(out);
}

static void decode_honours_length(void **state)
{
	struct unit_state *s = *state;
	struct folio_file f[4];
	struct folio_manifest m = sample(f), d;
	char *out = NULL;
	size_t len = 0;

	UNIT_OK(s->ctx, folio_manifest_encode(s->ctx, &m, &out, &len));
	/* Bytes after len are not the manifest's. */
	char *buf = malloc(len + 8);
	assert_non_null(buf);
	memcpy(buf, out, len);
	memcpy(buf + len, "garbage", 8);
	memset(&d, 0, sizeof d);
	UNIT_OK(s->ctx, folio_manifest_decode(s->ctx, NAME, buf, len, &d));
	folio_manifest_release(&d);
	/* Without its final LF it is still the same JSON; one byte less is
	 * not a manifest. */
	assert_int_equal(out[len - 1], '\n');
	accepts_text(s->ctx, "without the final LF", out, len - 1);
	rejects_text(s->ctx, "prefix", out, len - 2);
	free(buf);
	free(out);
}

static void duplicate_content_is_linked(void **state)
{
	(void)state;
	struct folio_file f[6];
	struct folio_manifest m = { .nfiles = 6, .files = f };

	fill_file(&f[0], "a", 3, 0xa1, "t", 0644, "text");
	fill_file(&f[1], "b", 5, 0xb2, "t", 0644, "text");
	fill_file(&f[2], "c", 3, 0xa1, "t", 0644, "text"); /* = a */
	fill_file(&f[3], "d", 4, 0xa1, "t", 0644, "text"); /* hash of a, not size */
	fill_file(&f[4], "e", 5, 0xb2, "t", 0755, "text"); /* = b, other mode */
	fill_file(&f[5], "f", 3, 0xa1, "t", 0644, "text"); /* = a, not = c */
	f[3].hash[31] = 0xa1;
	for (size_t i = 0; i < 6; i++)
		f[i].same_as = 99;
	folio_manifest_link_duplicates(&m);
	assert_int_equal(f[0].same_as, 0);
	assert_int_equal(f[1].same_as, 1);
	assert_int_equal(f[2].same_as, 0);
	assert_int_equal(f[3].same_as, 3);
	assert_int_equal(f[4].same_as, 1);
	assert_int_equal(f[5].same_as, 0);

	/* Same size, hashes differing in the last byte only. */
	fill_file(&f[0], "a", 3, 0xa1, "t", 0644, "text");
	fill_file(&f[1], "b", 3, 0xa1, "t", 0644, "text");
	f[1].hash[31] = 0xa2;
	m.nfiles = 2;
	folio_manifest_link_duplicates(&m);
	assert_int_equal(f[0].same_as, 0);
	assert_int_equal(f[1].same_as, 1);

	/* No files. */
	m.nfiles = 0;
	folio_manifest_link_duplicates(&m);
}

static void base_manifest_is_valid(void **state)
{
	struct unit_state *s = *state;
	size_t len;
	char *text = base_text(&len);
	struct folio_manifest m;

	UNIT_OK(s->ctx, decode_bytes(s->ctx, text, len, &m));
	assert_int_equal(m.nfiles, 3);
	assert_string_equal(m.files[1].path, ARABIC_PATH);
	assert_string_equal(m.title, ARABIC_TITLE);
	assert_int_equal(m.files[2].mode, 0755);
	assert_string_equal(m.files[2].layer, "media");
	folio_manifest_release(&m);
	free(text);
}

/* ---- decode refuses ---------------------------------------------------------- */

static void rejects_format(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	rejects(ctx, "folio-2", with_top("format", json_string("folio-2")));
	rejects(ctx, "FOLIO-1", with_top("format", json_string("FOLIO-1")));
	rejects(ctx, "folio-1 ", with_top("format", json_string("folio-1 ")));
	rejects(ctx, "empty format", with_top("format", json_string("")));
	rejects(ctx, "format 1", with_top("format", json_integer(1)));
	rejects(ctx, "format null", with_top("format", json_null()));
}

static void rejects_missing_fields(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	static const char *const top[] = { "format", "channel", "title",
					   "edition", "created", "expires",
					   "files" };
	static const char *const file[] = { "path", "size", "blake2b",
					    "type", "mode", "layer" };
	char what[64];

	for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
		snprintf(what, sizeof what, "missing %s", top[i]);
		rejects(ctx, what, with_top(top[i], NULL));
	}
	for (size_t i = 0; i < sizeof file / sizeof *file; i++) {
		snprintf(what, sizeof what, "file without %s", file[i]);
		rejects(ctx, what, with_file(1, file[i], NULL));
	}
	rejects_text(ctx, "{}", "{}", 2);
	/* articles alone may be absent (docs/FORMAT.md section 5.1). */
	accepts(ctx, "no articles", with_top("articles", NULL));
}

static void rejects_wrong_types(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	rejects(ctx, "channel number", with_top("channel", json_integer(5)));
	rejects(ctx, "title null", with_top("title", json_null()));
	rejects(ctx, "title array", with_top("title", json_array()));
	rejects(ctx, "edition string", with_top("edition", json_string("1")));
	rejects(ctx, "edition bool", with_top("edition", json_true()));
	rejects(ctx, "created real", with_top("created", json_real(1.5)));
	rejects(ctx, "created string",
		with_top("created", json_string("2025-11-28T14:00:00Z")));
	rejects(ctx, "expires string", with_top("expires", json_string("x")));
	rejects(ctx, "files object", with_top("files", json_object()));
	rejects(ctx, "files null", with_top("files", json_null()));
	rejects(ctx, "articles object", with_top("articles", json_object()));
	rejects(ctx, "articles string", with_top("articles", json_string("")));

	json_t *root = base_json();
	json_array_append_new(json_object_get(root, "files"),
			      json_string("index2.html"));
	rejects(ctx, "file is a string", root);
	root = base_json();
	json_array_append_new(json_object_get(root, "files"), json_array());
	rejects(ctx, "file is an array", root);

	rejects(ctx, "path number", with_file(0, "path", json_integer(7)));
	rejects(ctx, "size string", with_file(0, "size", json_string("100")));
	rejects(ctx, "size real", with_file(0, "size", json_real(100.0)));
	rejects(ctx, "blake2b number", with_file(0, "blake2b", json_integer(5)));
	rejects(ctx, "type number", with_file(0, "type", json_integer(1)));
	rejects(ctx, "mode number", with_file(0, "mode", json_integer(0644)));
	rejects(ctx, "mode 420", with_file(0, "mode", json_integer(420)));
	rejects(ctx, "layer bool", with_file(0, "layer", json_true()));

	/* Not an object at all. */
	rejects_text(ctx, "array", "[]", 2);
	rejects_text(ctx, "null", "null", 4);
	rejects_text(ctx, "string", "\"folio-1\"", 9);
	rejects_text(ctx, "number", "1", 1);
}

static void rejects_bad_numbers(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	rejects(ctx, "size -1", with_file(0, "size", json_integer(-1)));
	rejects(ctx, "size 2^53", with_file(0, "size", json_integer(MAX53 + 1)));
	rejects(ctx, "size 2^63-1",
		with_file(0, "size", json_integer(INT64_MAX)));
	rejects(ctx, "edition 0", with_top("edition", json_integer(0)));
	rejects(ctx, "edition -1", with_top("edition", json_integer(-1)));
	rejects(ctx, "edition 2^53",
		with_top("edition", json_integer(MAX53 + 1)));
	rejects(ctx, "edition real 1.5", with_top("edition", json_real(1.5)));
	rejects(ctx, "edition real 7.0", with_top("edition", json_real(7.0)));
	rejects(ctx, "expires = created",
		with_top("expires", json_integer(CREATED)));
	rejects(ctx, "expires < created",
		with_top("expires", json_integer(CREATED - 1)));
	rejects(ctx, "expires 0", with_top("expires", json_integer(0)));
	rejects(ctx, "created -1", with_top("created", json_integer(-1)));
	rejects(ctx, "created 2^53",
		with_top("created", json_integer(MAX53 + 1)));
	rejects(ctx, "expires 2^53",
		with_top("expires", json_integer(MAX53 + 1)));
	json_t *r = with_top("created", json_integer(0));
	json_object_set_new(r, "edition", json_integer(1));
	accepts(ctx, "created 0", r);
	accepts(ctx, "expires 2^53-1", with_top("expires", json_integer(MAX53)));

	accepts(ctx, "edition 1", with_top("edition", json_integer(1)));
	accepts(ctx, "edition 2^53-1",
		with_top("edition", json_integer(MAX53)));
	accepts(ctx, "expires = created + 1",
		with_top("expires", json_integer(CREATED + 1)));
	accepts(ctx, "size 0", with_file(0, "size", json_integer(0)));

	/* Numbers jansson cannot hold, and exponents. */
	size_t len;
	char *text = base_text(&len);
	char *p = strstr(text, "\"size\":100,");
	assert_non_null(p);
	char *big = malloc(len + 64);
	assert_non_null(big);
	static const char *const nums[] = { "18446744073709551616",
					    "99999999999999999999999", "1e2",
					    "100.0", "1E2", "0x64", "+100",
					    "0100" };
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		size_t head = (size_t)(p - text) + 7;
		int n = snprintf(big, len + 64, "%.*s%s%s", (int)head, text,
				 nums[i], p + 10);
		assert_true(n > 0);
		rejects_text(ctx, nums[i], big, (size_t)n);
	}
	free(big);
	free(text);
}

static void size_limits(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	/* With the limits at their widest, 2^53-1 is the largest size. */
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_SIZE, UINT64_MAX));
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, UINT64_MAX));
	accepts(ctx, "size 2^53-1", with_file(0, "size", json_integer(MAX53)));
	rejects(ctx, "size 2^53", with_file(0, "size", json_integer(MAX53 + 1)));

	/* Per file: sizes are 100, 200, 300. */
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_SIZE, 300));
	accepts(ctx, "largest file at the limit", base_json());
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_SIZE, 299));
	rejects(ctx, "file over the limit", base_json());
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_SIZE, UINT64_MAX));

	/* Total: 600. */
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, 600));
	accepts(ctx, "total at the limit", base_json());
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, 599));
	rejects(ctx, "total over the limit", base_json());
	json_t *root;
	/* Identical contents count once per path: 3 x 300 = 900. */
	root = base_json();
	for (size_t i = 0; i < 3; i++) {
		json_t *f = file_at(root, i);
		json_object_set_new(f, "size", json_integer(300));
		json_object_set_new(f, "blake2b",
				    json_copy(json_object_get(file_at(root, 2),
							      "blake2b")));
	}
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, 900));
	accepts(ctx, "identical files at the total limit", json_deep_copy(root));
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, 899));
	rejects(ctx, "identical files over the total limit", root);

	/* Many files just under the per-file limit must not wrap the sum. */
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE, MAX53));
	root = base_json();
	for (size_t i = 0; i < 3; i++)
		json_object_set_new(file_at(root, i), "size",
				    json_integer(MAX53));
	rejects(ctx, "sum of sizes overflows", root);
}

static void count_and_manifest_limits(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text = base_text(&len);

	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 3));
	accepts_text(ctx, "3 files, limit 3", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 2));
	rejects_text(ctx, "3 files, limit 2", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 1));
	rejects_text(ctx, "3 files, limit 1", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 200000));

	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_MANIFEST_SIZE, len));
	accepts_text(ctx, "manifest at its size limit", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_MANIFEST_SIZE, len - 1));
	rejects_text(ctx, "manifest over its size limit", text, len);
	free(text);
}

static void path_limits(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text = base_text(&len);

	/* ARABIC_PATH is the longest (36 bytes); img/a.png has depth 2. */
	size_t longest = strlen(ARABIC_PATH);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_LENGTH, longest));
	accepts_text(ctx, "path at its length limit", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_LENGTH, longest - 1));
	rejects_text(ctx, "path over its length limit", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_LENGTH, 1024));

	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_DEPTH, 2));
	accepts_text(ctx, "depth at its limit", text, len);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_DEPTH, 1));
	rejects_text(ctx, "depth over its limit", text, len);
	free(text);
}

static void rejects_bad_strings(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	char buf[600];

	/* Channel. */
	static const char *const bad_channels[] = {
		"", "Cairo-news", "-cairo", ".cairo", "_cairo", "cairo news",
		"cairo/news", "قناة", "cairo\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	for (size_t i = 0; i < sizeof bad_channels / sizeof *bad_channels; i++)
		rejects(ctx, bad_channels[i],
			with_top("channel", json_string(bad_channels[i])));
	accepts(ctx, "64-byte channel",
		with_top("channel", json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
						"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")));
	accepts(ctx, "channel 0.a_b-c", with_top("channel", json_string("0.a_b-c")));

	/* Title: at most 512 bytes (bytes, not characters), no control
	 * characters. */
	memset(buf, 'x', 512);
	buf[512] = '\0';
	accepts(ctx, "512-byte title", with_top("title", json_string(buf)));
	buf[512] = 'x';
	buf[513] = '\0';
	rejects(ctx, "513-byte title", with_top("title", json_string(buf)));
	buf[0] = '\0';
	for (int i = 0; i < 256; i++)
		strcat(buf, "ب");
	accepts(ctx, "256 Arabic letters (512 bytes)",
		with_top("title", json_string(buf)));
	strcat(buf, "ب");
	rejects(ctx, "257 Arabic letters (514 bytes)",
		with_top("title", json_string(buf)));
	rejects(ctx, "title with newline",
		with_top("title", json_string("two\nlines")));
	rejects(ctx, "title with tab", with_top("title", json_string("a\tb")));
	rejects(ctx, "title with ESC",
		with_top("title", json_string("\x1b[31mred")));
	rejects(ctx, "title with DEL", with_top("title", json_string("a\x7f")));
	accepts(ctx, "empty title", with_top("title", json_string("")));

	/* Hashes: 64 lower-case hex digits. */
	char hex[70];
	hex_of(hex, 'a');
	hex[0] = 'A';
	rejects(ctx, "upper-case hash", with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'F');
	rejects(ctx, "all upper-case hash",
		with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'a');
	hex[63] = '\0';
	rejects(ctx, "63-digit hash", with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'a');
	strcat(hex, "a");
	rejects(ctx, "65-digit hash", with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'a');
	strcat(hex, "aa");
	rejects(ctx, "66-digit hash", with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'a');
	hex[10] = 'g';
	rejects(ctx, "hash with g", with_file(0, "blake2b", json_string(hex)));
	hex_of(hex, 'a');
	hex[10] = ' ';
	rejects(ctx, "hash with space", with_file(0, "blake2b", json_string(hex)));
	rejects(ctx, "empty hash", with_file(0, "blake2b", json_string("")));
	hex_of(hex, '0');
	accepts(ctx, "hash of zeros", with_file(0, "blake2b", json_string(hex)));

	/* Modes. */
	static const char *const modes[] = { "0600", "644", "755", "0777",
					     "4755", "00644", "0644 ", "",
					     "0o644", "rw-r--r--" };
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
		rejects(ctx, modes[i], with_file(0, "mode", json_string(modes[i])));
	accepts(ctx, "mode 0755", with_file(0, "mode", json_string("0755")));

	/* Types: strings of at most 127 bytes, no control characters. */
	memset(buf, 't', 127);
	memcpy(buf, "text/", 5);
	buf[127] = '\0';
	accepts(ctx, "127-byte type", with_file(0, "type", json_string(buf)));
	buf[127] = 't';
	buf[128] = '\0';
	rejects(ctx, "128-byte type", with_file(0, "type", json_string(buf)));
	rejects(ctx, "type with newline",
		with_file(0, "type", json_string("text/html\nX-Evil: 1")));
	rejects(ctx, "type with ESC",
		with_file(0, "type", json_string("text/\x1b[2Jhtml")));
	accepts(ctx, "unknown type",
		with_file(0, "type", json_string("application/x-folio-test")));

	/* Layers. */
	static const char *const layers[] = { "video", "", "TEXT", "Media",
					      "text " };
	for (size_t i = 0; i < sizeof layers / sizeof *layers; i++)
		rejects(ctx, layers[i],
			with_file(0, "layer", json_string(layers[i])));
}

static void rejects_unsafe_paths(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	static const char *const bad[] = {
		"", "/etc/passwd", "../x", "a/../../x", "a/..", "./a", "a/./b",
		".", "..", "a/", "a//b", "a\\b", "a\x01", "tab\there",
		"new\nline", "del\x7f", ".folio", ".folio/manifest.json",
		".folio/manifest.json.minisig", ".folio/x",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		rejects(ctx, bad[i], with_file(1, "path", json_string(bad[i])));

	/* A 256-byte component. */
	char comp[300];
	memset(comp, 'n', 256);
	comp[256] = '\0';
	rejects(ctx, "256-byte component", with_file(1, "path", json_string(comp)));
	comp[255] = '\0';
	accepts(ctx, "255-byte component", with_file(1, "path", json_string(comp)));

	/* NUL and invalid UTF-8 in the JSON text itself. */
	size_t len;
	char *text = base_text(&len);
	char *p = strstr(text, "index.html");
	assert_non_null(p);
	/* "index.html" is 10 bytes; splice other names in its place. */
	{
		size_t head = (size_t)(p - text);
		char *q = malloc(len + 16);
		assert_non_null(q);
		int n = snprintf(q, len + 16, "%.*s%s%s", (int)head, text,
				 "in\\u0000x.html", p + 10);
		rejects_text(ctx, "NUL escape in a path", q, (size_t)n);
		n = snprintf(q, len + 16, "%.*s%s%s", (int)head, text,
			     "in\xc0\xafx.html", p + 10);
		rejects_text(ctx, "overlong UTF-8 in a path", q, (size_t)n);
		n = snprintf(q, len + 16, "%.*s%s%s", (int)head, text,
			     "in\\ud800x.html", p + 10);
		rejects_text(ctx, "lone surrogate escape in a path", q,
			     (size_t)n);
		memcpy(q, text, len);
		q[head + 2] = '\0';
		rejects_text(ctx, "raw NUL byte in the text", q, len);
		free(q);
	}
	free(text);

	accepts(ctx, ".folios", with_file(1, "path", json_string(".folios")));
	accepts(ctx, "x/.folio", with_file(1, "path", json_string("x/.folio")));
	accepts(ctx, "spaces", with_file(1, "path", json_string("a b/c d.txt")));
}

static void rejects_duplicates_and_folder_clashes(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
#define PATHS(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

	rejects(ctx, "duplicate", with_paths(PATHS("a.txt", "b", "a.txt")));
	rejects(ctx, "duplicate Arabic",
		with_paths(PATHS(ARABIC_PATH, ARABIC_PATH)));
	rejects(ctx, "a then a/b", with_paths(PATHS("a", "a/b")));
	rejects(ctx, "a/b then a", with_paths(PATHS("a/b", "a")));
	rejects(ctx, "a/b/c then a/b", with_paths(PATHS("a/b/c", "x", "a/b")));
	rejects(ctx, "a then a/b/c", with_paths(PATHS("a", "a/b/c")));
	rejects(ctx, "a/b/c then a", with_paths(PATHS("z", "a/b/c", "y", "a")));

	accepts(ctx, "a.txt and a/b", with_paths(PATHS("a.txt", "a/b")));
	accepts(ctx, "ab and a/b", with_paths(PATHS("ab", "a/b")));
	accepts(ctx, "a/b and ab/c", with_paths(PATHS("a/b", "ab/c")));
	accepts(ctx, "a/b and a/c", with_paths(PATHS("a/b", "a/c", "a/d/e")));
	accepts(ctx, "a-b and a/b", with_paths(PATHS("a/b", "a-b", "a.b/c")));

	/* Long paths, allowed by a raised length limit: the folder check
	 * holds for a folder of more than 4096 bytes too. */
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_PATH_LENGTH, 10000));
	char *folder = malloc(17 * 256 + 3);
	assert_non_null(folder);
	folder[0] = '\0';
	for (int i = 0; i < 17; i++) {
		if (i > 0)
			strcat(folder, "/");
		memset(folder + strlen(folder), 'a', 255);
		folder[i * 256 + 255] = '\0';
	}
	assert_int_equal(strlen(folder), 17 * 256 - 1);
	char *inside = unit_join(folder, "/x", NULL);
	rejects(ctx, "4351-byte file that is also a folder",
		with_paths(PATHS(folder, inside)));
	rejects(ctx, "4351-byte folder that is also a file",
		with_paths(PATHS(inside, folder)));
	accepts(ctx, "4353-byte path alone", with_paths(PATHS(inside)));
	free(inside);
	free(folder);
#undef PATHS
}

static void rejects_bad_json(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text = base_text(&len);
	char *buf = malloc(len + 64);

	assert_non_null(buf);
	rejects_text(ctx, "empty", "", 0);
	rejects_text(ctx, "{", "{", 1);
	rejects_text(ctx, "half", text, len / 2);
	rejects_text(ctx, "spaces", "   ", 3);

	/* Trailing garbage after the object. */
	static const char *const tails[] = { "x", "{}", "[]", "0", ",", "}" };
	for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
		size_t t = strlen(tails[i]);
		memcpy(buf, text, len);
		memcpy(buf + len, tails[i], t);
		rejects_text(ctx, tails[i], buf, len + t);
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	rejects_text(ctx, "NUL after the object", buf, len + 1);
	memcpy(buf, text, len);
	memcpy(buf + len, text, 1);
	rejects_text(ctx, "a second object begins", buf, len + 1);

	/* Duplicate keys, at the top and in a file. */
	int n = snprintf(buf, len + 64, "{\"format\":\"folio-1\",%s", text + 1);
	rejects_text(ctx, "format twice", buf, (size_t)n);
	n = snprintf(buf, len + 64, "{\"title\":\"x\",%s", text + 1);
	rejects_text(ctx, "title twice", buf, (size_t)n);
	char *p = strstr(text, "{\"path\"");
	assert_non_null(p);
	size_t head = (size_t)(p - text) + 1;
	n = snprintf(buf, len + 64, "%.*s\"size\":1,%s", (int)head, text,
		     p + 1);
	rejects_text(ctx, "size twice", buf, (size_t)n);
	n = snprintf(buf, len + 64, "%.*s\"path\":\"index.html\",%s", (int)head,
		     text, p + 1);
	rejects_text(ctx, "path twice (same value)", buf, (size_t)n);

	free(buf);
	free(text);
}

static void accepts_unknown_keys(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	accepts(ctx, "unknown top-level key",
		with_top("future", json_pack("{s:i, s:[s]}", "x", 1, "y", "z")));
	accepts(ctx, "unknown file key",
		with_file(2, "x-extra", json_string("later")));
	json_t *root = with_top("zzz", json_null());
	json_object_set_new(file_at(root, 0), "aaa", json_integer(1));
	accepts(ctx, "both", root);
}

/* ---- decoding one element at a time ------------------------------------------
 * The decoder cuts the root's "files" and "articles" out of the text and has
 * jansson parse their elements one by one.  The texts below are written with
 * ' for " (made " by text_of), their strings full of what the cutting must
 * not stop at: ] } , \" \\ and a \u00e9. */

#define HEX_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_2 "2222222222222222222222222222222222222222222222222222222222222222"
#define S_HEAD "{'format':'folio-1','channel':'c','title':'t ]},\\' \\\\ \\u00e9 [{'," \
	       "'edition':3,'created':1000,'expires':2000,"
#define S_F1 "{'path':'a]b}c,d.html','size':10,'blake2b':'" HEX_1 "'," \
	     "'type':'text/x]},\\' \\\\','mode':'0644','layer':'text'," \
	     "'x-more':{'a':[']','}',[{}],'\\\\',-1.5e+3,true,null]}}"
#define S_F2 "{'path':'caf\\u00e9/\\'q\\'.txt','size':20,'blake2b':'" HEX_2 "'," \
	     "'type':'image/png','mode':'0755','layer':'media'}"
#define S_F3 "{'path':'z','size':10,'blake2b':'" HEX_1 "','type':'t','mode':'0644'," \
	     "'layer':'text'}"
#define S_FILES S_F1 "," S_F2 "," S_F3
#define S_A1 "{'path':'a]b}c,d.html','title':'[{\\'\\\\','dir':'rtl'," \
	     "'summary':'x\\\\\\'y','image':'caf\\u00e9/\\'q\\'.txt','words':5}"
#define S_A2 "{'path':'z','title':'T','dir':'ltr','words':0}"
#define S_ARTICLES S_A1 "," S_A2
/* Brackets that close, so the splitter takes it; jansson refuses it. */
#define S_BAD "{'x':1,'x':1}"
#define E_ACUTE "\xc3\xa9"

/* printf's text with every ' made ", malloc'd. */
static char *text_of(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *text_of(size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	*len = strlen(s);
	return s;
}

static char *sample_text(const char *files, const char *articles, size_t *len)
{
	return text_of(len, S_HEAD "'files':[%s],'articles':[%s]}", files, articles);
}

/* text with " \t\r\n" before and after every bracket, brace, colon and comma
 * outside strings, and around the whole, malloc'd. */
static char *spaced(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(9 * len + 9), *o = out;
	bool in_string = false;

	assert_non_null(out);
	memcpy(o, " \t\r\n", 4);
	o += 4;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		bool structural = !in_string && c != '\0' && strchr("[]{}:,", c) != NULL;

		if (structural) {
			memcpy(o, " \t\r\n", 4);
			o += 4;
		}
		*o++ = c;
		if (structural) {
			memcpy(o, " \t\r\n", 4);
			o += 4;
		}
		if (c == '"')
			in_string = !in_string;
		else if (in_string && c == '\\')
			*o++ = text[++i];
	}
	memcpy(o, " \t\r\n", 4);
	o += 4;
	*out_len = (size_t)(o - out);
	return out;
}

/* What the sample decodes to, field by field. */
static void check_sample(const struct folio_manifest *m)
{
	static const struct {
		const char *path, *type, *layer;
		uint64_t size;
		unsigned mode;
		char hex;
		size_t same_as;
	} want[] = {
		{"a]b}c,d.html", "text/x]},\" \\", "text", 10, 0644, '1', 0},
		{"caf" E_ACUTE "/\"q\".txt", "image/png", "media", 20, 0755, '2', 1},
		{"z", "t", "text", 10, 0644, '1', 0},
	};
	char hex[65];
	uint8_t hash[32];

	assert_string_equal(m->channel, "c");
	assert_string_equal(m->title, "t ]},\" \\ " E_ACUTE " [{");
	assert_int_equal(m->edition, 3);
	assert_int_equal(m->created, 1000);
	assert_int_equal(m->expires, 2000);
	assert_int_equal(m->nfiles, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct folio_file *f = &m->files[i];

		hex_of(hex, want[i].hex);
		memset(hash, (want[i].hex - '0') * 0x11, sizeof hash);
		assert_string_equal(f->path, want[i].path);
		assert_string_equal(f->type, want[i].type);
		assert_string_equal(f->layer, want[i].layer);
		assert_int_equal(f->size, want[i].size);
		assert_int_equal(f->mode, want[i].mode);
		assert_string_equal(f->hex, hex);
		assert_memory_equal(f->hash, hash, sizeof hash);
		assert_int_equal(f->same_as, want[i].same_as);
	}
	assert_int_equal(m->narticles, 2);
	const struct folio_article *a = &m->articles[0];
	assert_string_equal(a->path, "a]b}c,d.html");
	assert_string_equal(a->title, "[{\"\\");
	assert_string_equal(a->dir, "rtl");
	assert_string_equal(a->summary, "x\\\"y");
	assert_string_equal(a->image, "caf" E_ACUTE "/\"q\".txt");
	assert_int_equal(a->words, 5);
	assert_null(a->source);
	assert_null(a->lang);
	assert_null(a->date);
	assert_null(a->author);
	assert_null(a->thumbnail);
	a = &m->articles[1];
	assert_string_equal(a->path, "z");
	assert_string_equal(a->title, "T");
	assert_string_equal(a->dir, "ltr");
	assert_int_equal(a->words, 0);
	assert_null(a->summary);
	assert_null(a->image);
}

static void decodes_to_sample(folio_ctx *ctx, const char *what, const char *text, size_t len)
{
	struct folio_manifest m;
	int rc = decode_bytes(ctx, text, len, &m);

	if (rc != FOLIO_OK)
		fail_msg("%s: decode gave %d, message \"%s\"; want 0", what, rc,
			 folio_errmsg(ctx));
	check_sample(&m);
	folio_manifest_release(&m);
}

/* The text must be refused with exactly the message want. */
static void refuses_with(folio_ctx *ctx, const char *what, const char *text, size_t len,
			 const char *want)
{
	struct folio_manifest m;
	int rc = decode_bytes(ctx, text, len, &m);

	if (rc != FOLIO_EREJECT || strcmp(folio_errmsg(ctx), want) != 0)
		fail_msg("%s: decode gave %d, message\n  \"%s\"\nwant %d and\n  \"%s\"", what, rc,
			 folio_errmsg(ctx), FOLIO_EREJECT, want);
	if (rc == FOLIO_OK)
		folio_manifest_release(&m);
}

/* The text must be refused with the message jansson gives for the whole
 * text, as the decoder did when it parsed the whole text. */
static void refuses_as_whole(folio_ctx *ctx, const char *what, const char *text, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	char *want;

	if (root != NULL)
		fail_msg("%s: jansson accepts the whole text", what);
	assert_true(asprintf(&want, "cannot verify '%s': manifest is not valid JSON: %s at line %d",
			     NAME, err.text, err.line) > 0);
	refuses_with(ctx, what, text, len, want);
	free(want);
}

/* The files and articles were split, not parsed whole, when their counts
 * are known before any element is parsed: with a bad element last, the
 * limits' messages come first.  Parsed whole, jansson would refuse the
 * element first.  text_for makes a text from the arrays' contents. */
static void check_split(folio_ctx *ctx, char *(*text_for)(const char *, const char *, size_t *))
{
	size_t len;
	char *text;

	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 3));
	text = text_for(S_FILES "," S_BAD, S_ARTICLES, &len);
	refuses_with(ctx, "files split", text, len,
		     "cannot verify '" NAME "': 4 files is more than the limit of 3");
	free(text);
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_FILE_COUNT, 200000));
	text = text_for(S_FILES, S_ARTICLES "," S_BAD "," S_BAD, &len);
	refuses_with(ctx, "articles split", text, len,
		     "cannot verify '" NAME "': manifest: more articles than files");
	free(text);
}

static char *spaced_sample_text(const char *files, const char *articles, size_t *len)
{
	size_t n;
	char *text = sample_text(files, articles, &n);
	char *out = spaced(text, n, len);

	free(text);
	return out;
}

static void split_decodes_the_same(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text = sample_text(S_FILES, S_ARTICLES, &len);

	decodes_to_sample(ctx, "sample", text, len);
	check_split(ctx, sample_text);
	free(text);

	/* The same elements from the tree, as they were decoded before. */
	text = text_of(&len, S_HEAD "'fil\\u0065s':[" S_FILES "],'articl\\u0065s':[" S_ARTICLES "]}");
	decodes_to_sample(ctx, "keys written with escapes", text, len);
	free(text);
	text = text_of(&len, "[" S_HEAD "'files':[" S_FILES "],'articles':[" S_ARTICLES "]}]");
	refuses_with(ctx, "root in an array", text, len,
		     "cannot verify '" NAME "': manifest: not a JSON object");
	free(text);
}

static void split_allows_whitespace(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text = spaced_sample_text(S_FILES, S_ARTICLES, &len);

	assert_non_null(memchr(text, '\n', len));
	decodes_to_sample(ctx, "spaced", text, len);
	free(text);
	check_split(ctx, spaced_sample_text);

	/* Empty arrays, with and without space inside. */
	static const char *const empty[] = { "[]", "[ ]", "[\n\r\t ]" };
	for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
		struct folio_manifest m;

		text = text_of(&len, S_HEAD "'files':%s,'articles' :%s }", empty[i], empty[i]);
		UNIT_OK(ctx, decode_bytes(ctx, text, len, &m));
		assert_int_equal(m.nfiles, 0);
		assert_int_equal(m.narticles, 0);
		folio_manifest_release(&m);
		free(text);
	}
}

static void split_refuses(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	static const struct {
		const char *what, *files, *articles;
	} bad[] = {
		{"trailing comma in files", S_FILES ",", S_ARTICLES},
		{"trailing comma in articles", S_FILES, S_ARTICLES ","},
		{"a comma alone", ",", ""},
		{"comma before the first file", "," S_FILES, S_ARTICLES},
		{"two commas", S_F1 ",," S_F2, ""},
		{"missing comma", S_F1 " " S_F2 "," S_F3, S_ARTICLES},
		{"no separator", S_F1 S_F2 "," S_F3, S_ARTICLES},
		{"no separator between words", "1 22", ""},
		{"unterminated string", S_F1 ",{'path':'z", ""},
		{"escaped quote left open", S_F1 ",{'path':'z\\'}", S_ARTICLES},
		{"unbalanced", S_F1 ",{'path':'z'", S_ARTICLES},
		{"closing bracket extra", S_F1 "]," S_F2, S_ARTICLES},
		{"invalid element", S_F1 ",{'path':}," S_F3, S_ARTICLES},
		{"invalid article", S_FILES, S_A1 ",{'path':'z','title':tru}"},
		{"brackets that do not pair", S_F1 ",{'path':[}]," S_F3, S_ARTICLES},
		{"duplicate key in a file", S_F1 ",{'path':'z','size':1,'size':1}," S_F3, S_ARTICLES},
		{"NUL in an element", S_F1 ",{'path':'\\u0000'}", S_ARTICLES},
	};
	size_t len;
	char *text;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		text = sample_text(bad[i].files, bad[i].articles, &len);
		refuses_as_whole(ctx, bad[i].what, text, len);
		free(text);
		/* Over many lines, the line is still the manifest's. */
		text = spaced_sample_text(bad[i].files, bad[i].articles, &len);
		refuses_as_whole(ctx, bad[i].what, text, len);
		free(text);
	}

	/* Two "files", a bad word or brackets after split arrays, trailing
	 * commas and garbage in the root: the skeleton's errors, on the
	 * manifest's lines. */
	static const char *const texts[] = {
		S_HEAD "'files':[" S_FILES "],'files':[" S_F3 "],'articles':[]}",
		S_HEAD "'files':[" S_F1 "\n,\n" S_F2 "],\n'zzz':tru,'articles':[]}",
		S_HEAD "'articles':[\n" S_A2 "\n],'files':[\n" S_F3 "\n],\n'zzz':[}",
		S_HEAD "'files':[" S_FILES "],'articles':[]}x",
		S_HEAD "'files':[" S_FILES "],'articles':[]}\n{}",
		S_HEAD "'files':[" S_FILES "],'articles':[],}",
		"{'files':[" S_FILES "],}",
		"{'files':[" S_FILES "]",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		text = text_of(&len, "%s", texts[i]);
		refuses_as_whole(ctx, texts[i], text, len);
		free(text);
	}
	text = text_of(&len, S_HEAD "'files':[" S_FILES "],'articles':[]}");
	text[len] = '\0';
	refuses_as_whole(ctx, "NUL after the root", text, len + 1);
	free(text);

	/* An element deeper than jansson allows under the root (its object is
	 * 3 deep) is refused as when the whole text was parsed, though alone
	 * it would not be. */
	const size_t d = JSON_PARSER_MAX_DEPTH - 2;
	char *deep = malloc(2 * d + 1);
	assert_non_null(deep);
	memset(deep, '[', d);
	memset(deep + d, ']', d);
	deep[2 * d] = '\0';
	text = text_of(&len, S_HEAD "'files':[" S_F1 ",{'x':%s}],'articles':[]}", deep);
	refuses_as_whole(ctx, "element too deep", text, len);
	free(text);
	deep[d - 1] = ' ';
	deep[d] = ' ';
	text = text_of(&len, S_HEAD "'files':[{'x-deep':%s,%s],'articles':[]}", deep, S_F1 + 1);
	accepts_text(ctx, "element as deep as allowed", text, len);
	free(text);
	free(deep);

	/* Elements jansson accepts, refused by the decoder. */
	text = sample_text(S_F1 ",7," S_F3, S_ARTICLES, &len);
	refuses_with(ctx, "file entry a number", text, len,
		     "cannot verify '" NAME "': manifest: a file entry is not an object");
	free(text);
	text = sample_text(S_FILES, S_A1 ",'z'", &len);
	refuses_with(ctx, "article entry a string", text, len,
		     "cannot verify '" NAME "': manifest: an article entry is not an object");
	free(text);
}

/* The sample with keys that are not "files" or "articles" but look like
 * them, after them, where they would replace them if taken. */
static char *odd_keys_text(const char *files, const char *articles, size_t *len)
{
	return text_of(len, S_HEAD "'files':[%s],'articles':[%s],'filesx':[" S_F1 "],"
			    "'xfiles':[" S_F3 "],'file':[],'Files':[],'articles\\\\':[1],'xarticles':[1],"
			    "'z':{'files':[" S_F2 "],'articles':[]}}", files, articles);
}

static void split_takes_only_the_root_keys(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;
	size_t len;
	char *text;

	text = text_of(&len, S_HEAD "'x':{'files':[" S_F3 "],'articles':[" S_A2 "]},"
			     "'files':[" S_FILES "],'y':['files',{'files':[]},{'articles':[1]}],"
			     "'articles':[" S_ARTICLES "],'z':{'files':[" S_F2 "]}}");
	decodes_to_sample(ctx, "files and articles in other values", text, len);
	free(text);
	text = text_of(&len, S_HEAD "'x':{'files':[" S_FILES "]},'articles':[]}");
	refuses_with(ctx, "files only inside another value", text, len,
		     "cannot verify '" NAME "': manifest: field 'files' is missing or not an array");
	free(text);
	text = text_of(&len, S_HEAD "'files':{'files':[" S_FILES "]},'articles':[]}");
	refuses_with(ctx, "files an object", text, len,
		     "cannot verify '" NAME "': manifest: field 'files' is missing or not an array");
	free(text);
	text = odd_keys_text(S_FILES, S_ARTICLES, &len);
	decodes_to_sample(ctx, "keys like files and articles", text, len);
	free(text);
	check_split(ctx, odd_keys_text);
}

/* ---- the trusted comment, time, channel names, limits --------------------- */

static void trusted_comment_format(void **state)
{
	(void)state;
	struct folio_file f[4];
	struct folio_manifest m = sample(f);
	char *tc;

	m.edition = CREATED;
	tc = folio_trusted_comment(&m);
	assert_non_null(tc);
	assert_string_equal(tc, "folio-1 channel:cairo-news edition:1764338400 "
				"created:2025-11-28T14:00:00Z "
				"expires:2025-12-28T14:00:00Z");
	free(tc);

	m.edition = 7;
	m.channel = "a";
	m.created = 951782400;
	m.expires = 4102444800;
	tc = folio_trusted_comment(&m);
	assert_non_null(tc);
	assert_string_equal(tc, "folio-1 channel:a edition:7 "
				"created:2000-02-29T00:00:00Z "
				"expires:2100-01-01T00:00:00Z");
	assert_true(strlen(tc) <= FOLIO_COMMENT_MAX);
	free(tc);

	/* The longest fields still fit a trusted comment. */
	m.channel = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	m.edition = MAX53;
	m.created = 253402300798;
	m.expires = 253402300799;
	tc = folio_trusted_comment(&m);
	assert_non_null(tc);
	assert_string_equal(tc, "folio-1 channel:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
				"edition:9007199254740991 "
				"created:9999-12-31T23:59:58Z "
				"expires:9999-12-31T23:59:59Z");
	free(tc);
}

static void time_format(void **state)
{
	(void)state;
	char out[32];

	folio_time_format(out, 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	folio_time_format(out, CREATED);
	assert_string_equal(out, "2025-11-28T14:00:00Z");
	folio_time_format(out, 951782400);
	assert_string_equal(out, "2000-02-29T00:00:00Z");
	folio_time_format(out, 4102444800);
	assert_string_equal(out, "2100-01-01T00:00:00Z");
	folio_time_format(out, 2147483648); /* past 2038 */
	assert_string_equal(out, "2038-01-19T03:14:08Z");
	folio_time_format(out, 253402300799);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	folio_time_format(out, 253402300800);
	assert_string_equal(out, "10000-01-01T00:00:00Z");
	folio_time_format(out, 1709251199); /* the last second of a leap February */
	assert_string_equal(out, "2024-02-29T23:59:59Z");
	folio_time_format(out, 13574563200); /* 2400 is a leap year, 2100 is not */
	assert_string_equal(out, "2400-02-29T00:00:00Z");

	/* The same as the C library's gmtime where time_t has 64 bits, over
	 * every day (at a varying second) up to the year 2500. */
	if (sizeof(time_t) >= 8) {
		for (int64_t t = 7; t < 16725225600; t += 86400 + 1237) {
			char want[32];
			struct tm tm;
			time_t tt = (time_t)t;

			assert_non_null(gmtime_r(&tt, &tm));
			strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
			folio_time_format(out, t);
			assert_string_equal(out, want);
		}
	}
}

static void channel_names(void **state)
{
	(void)state;

	assert_true(folio_channel_valid("cairo-news"));
	assert_true(folio_channel_valid("a"));
	assert_true(folio_channel_valid("0"));
	assert_true(folio_channel_valid("a.b_c-d9"));
	assert_true(folio_channel_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(folio_channel_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(folio_channel_valid(""));
	assert_false(folio_channel_valid("Cairo"));
	assert_false(folio_channel_valid("-a"));
	assert_false(folio_channel_valid(".a"));
	assert_false(folio_channel_valid("_a"));
	assert_false(folio_channel_valid("a b"));
	assert_false(folio_channel_valid("a/b"));
	assert_false(folio_channel_valid("a:b"));
	assert_false(folio_channel_valid("قناة"));
}

static void limits(void **state)
{
	folio_ctx *ctx = ((struct unit_state *)*state)->ctx;

	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_WINDOW_LOG), 24);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_MANIFEST_SIZE),
			 16u << 20);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_FILE_SIZE),
			 (uint64_t)4 << 30);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_TOTAL_SIZE),
			 (uint64_t)16 << 30);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_FILE_COUNT), 200000);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_PATH_LENGTH), 1024);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_PATH_DEPTH), 32);

	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_WINDOW_LOG, 10));
	UNIT_OK(ctx, folio_set_limit(ctx, FOLIO_LIMIT_WINDOW_LOG, 31));
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_WINDOW_LOG), 31);
	UNIT_FAILS(ctx, folio_set_limit(ctx, FOLIO_LIMIT_WINDOW_LOG, 9),
		   FOLIO_EUSAGE, NULL);
	UNIT_FAILS(ctx, folio_set_limit(ctx, FOLIO_LIMIT_WINDOW_LOG, 32),
		   FOLIO_EUSAGE, NULL);
	assert_int_equal(folio_get_limit(ctx, FOLIO_LIMIT_WINDOW_LOG), 31);
	for (int l = FOLIO_LIMIT_MANIFEST_SIZE; l < FOLIO_LIMIT__COUNT; l++) {
		UNIT_FAILS(ctx, folio_set_limit(ctx, (enum folio_limit)l, 0),
			   FOLIO_EUSAGE, NULL);
		UNIT_OK(ctx, folio_set_limit(ctx, (enum folio_limit)l, 1));
		assert_int_equal(folio_get_limit(ctx, (enum folio_limit)l), 1);
	}
	UNIT_FAILS(ctx, folio_set_limit(ctx, FOLIO_LIMIT__COUNT, 5),
		   FOLIO_EUSAGE, NULL);
	UNIT_FAILS(ctx, folio_set_limit(ctx, (enum folio_limit)-1, 5),
		   FOLIO_EUSAGE, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(encode_is_compact_and_ordered),
		UNIT_TEST(round_trip),
		UNIT_TEST(articles_round_trip),
		UNIT_TEST(decode_honours_length),
		UNIT_TEST(duplicate_content_is_linked),
		UNIT_TEST(base_manifest_is_valid),
		UNIT_TEST(rejects_format),
		UNIT_TEST(rejects_missing_fields),
		UNIT_TEST(rejects_wrong_types),
		UNIT_TEST(rejects_bad_numbers),
		UNIT_TEST(size_limits),
		UNIT_TEST(count_and_manifest_limits),
		UNIT_TEST(path_limits),
		UNIT_TEST(rejects_bad_strings),
		UNIT_TEST(rejects_unsafe_paths),
		UNIT_TEST(rejects_duplicates_and_folder_clashes),
		UNIT_TEST(rejects_bad_json),
		UNIT_TEST(accepts_unknown_keys),
		UNIT_TEST(split_decodes_the_same),
		UNIT_TEST(split_allows_whitespace),
		UNIT_TEST(split_refuses),
		UNIT_TEST(split_takes_only_the_root_keys),
		UNIT_TEST(trusted_comment_format),
		UNIT_TEST(time_format),
		UNIT_TEST(channel_names),
		UNIT_TEST(limits),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
