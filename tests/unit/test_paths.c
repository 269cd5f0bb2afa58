/* SPDX-License-Identifier: ISC */
/* Safe paths, media types, layers and hex. */
#include "unit.h"

#define MAX_LEN 1024
#define MAX_DEPTH 32

static void ok(const char *path)
{
	const char *why = folio_path_problem(path, MAX_LEN, MAX_DEPTH);

	if (why != NULL)
		fail_msg("\"%s\" refused: %s", path, why);
}

static void refused(const char *what, const char *path, size_t max_len,
		    unsigned max_depth)
{
	const char *why = folio_path_problem(path, max_len, max_depth);

	if (why == NULL)
		fail_msg("%s: \"%s\" accepted", what, path);
	if (*why == '\0')
		fail_msg("%s: empty reason", what);
}

static void bad(const char *what, const char *path)
{
	refused(what, path, MAX_LEN, MAX_DEPTH);
}

static void accepts_normal_paths(void **state)
{
	(void)state;

	ok("index.html");
	ok("a");
	ok("articles/2025/11/28/story.html");
	ok("مقالات/ماسك-ألتمان.html");
	ok("صور/القاهرة 1.jpg");
	ok("a b/c d.txt");
	ok(" leading and trailing spaces ");
	ok("emoji-\xf0\x9f\x93\xb0.txt");       /* U+1F4F0, four bytes */
	ok("\xf4\x8f\xbf\xbf");                 /* U+10FFFF, the last */
	ok("\xef\xbf\xbd");                     /* U+FFFD */
	ok("\xed\x9f\xbf");                     /* U+D7FF, before surrogates */
	ok("\xee\x80\x80");                     /* U+E000, after them */
	ok("caf\xc3\xa9");                      /* U+00E9 */
	ok("...");
	ok("..a");
	ok("a..");
	ok(".hidden");
	ok("a/.b");
	ok(".folios");
	ok(".folio-x/y");
	ok("x/.folio");
	ok("x/.folio/y");
	ok("a:b");
	ok("~");
	ok("-rf");
}

static void refuses_structure(void **state)
{
	(void)state;

	bad("empty", "");
	bad("absolute", "/etc/passwd");
	bad("root", "/");
	bad("dot-dot", "..");
	bad("dot-dot first", "../x");
	bad("dot-dot inside", "a/../b");
	bad("dot-dot last", "a/..");
	bad("escape", "a/../../x");
	bad("dot", ".");
	bad("dot first", "./a");
	bad("dot inside", "a/./b");
	bad("dot last", "a/.");
	bad("trailing slash", "a/");
	bad("leading and trailing", "/a/");
	bad("double slash", "a//b");
	bad("double slash first", "//a");
	bad("slash only", "//");
	bad("backslash", "a\\b");
	bad("backslash dot-dot", "..\\x");
	bad("reserved", ".folio");
	bad("reserved inside", ".folio/x");
	bad("reserved manifest", ".folio/manifest.json");
}

static void refuses_control_characters(void **state)
{
	(void)state;
	char p[8];

	for (int c = 1; c < 0x20; c++) {
		snprintf(p, sizeof p, "a%cb", c);
		bad("control character", p);
		snprintf(p, sizeof p, "%c", c);
		bad("control character alone", p);
	}
	bad("DEL", "a\x7f");
	bad("DEL alone", "\x7f");
	bad("newline", "a\nb");
	bad("escape", "\x1b[31m");
	for (int c = 0x80; c <= 0x9f; c++) { /* C1: U+009B is an 8-bit CSI */
		snprintf(p, sizeof p, "a\xc2%cb", c);
		bad("C1 control character", p);
	}
	ok("a\xc2\xa0" "b"); /* U+00A0, just past the C1 range */
}

static void refuses_invalid_utf8(void **state)
{
	(void)state;

	bad("overlong slash", "\xc0\xaf");
	bad("overlong in a path", "a/\xc0\xaf/b");
	bad("overlong NUL", "a\xc0\x80");
	bad("overlong C1", "\xc1\xbf");
	bad("overlong 3-byte", "\xe0\x80\xaf");
	bad("overlong 4-byte", "\xf0\x80\x80\xaf");
	bad("surrogate", "\xed\xa0\x80");
	bad("low surrogate", "\xed\xbf\xbf");
	bad("past U+10FFFF", "\xf4\x90\x80\x80");
	bad("F5 lead", "\xf5\x80\x80\x80");
	bad("truncated at end", "a\xd8");
	bad("truncated 3-byte", "\xe2\x82");
	bad("truncated then more", "\xe2\x82/x");
	bad("truncated 4-byte", "\xf0\x9f\x93");
	bad("lone continuation", "\x80");
	bad("continuation after ASCII", "a\xbf");
	bad("0xff", "\xff");
	bad("0xfe", "a\xfe");
	bad("two leads", "\xc3\xc3\xa9");
}

static void enforces_sizes(void **state)
{
	(void)state;
	char p[2100];

	/* 255 bytes per component, by bytes (not characters). */
	memset(p, 'n', 255);
	p[255] = '\0';
	ok(p);
	p[255] = 'n';
	p[256] = '\0';
	bad("256-byte component", p);
	memcpy(p, "dir/", 4);
	memset(p + 4, 'n', 256);
	p[260] = '\0';
	bad("256-byte last component", p);
	p[0] = '\0';
	for (int i = 0; i < 127; i++)
		strcat(p, "ب");
	strcat(p, "x");
	assert_int_equal(strlen(p), 255);
	ok(p);
	strcat(p, "x");
	bad("256-byte Arabic component", p);

	/* max_len, in bytes. */
	assert_null(folio_path_problem("abcdefghij", 10, MAX_DEPTH));
	refused("11 bytes, max 10", "abcdefghijk", 10, MAX_DEPTH);
	refused("Arabic 12 bytes, max 10", "مقالات", 10, MAX_DEPTH);
	/* The default 1024: 4 components of 255 and 3 slashes = 1023. */
	p[0] = '\0';
	for (int i = 0; i < 4; i++) {
		char c[256];
		memset(c, 'a' + i, 255);
		c[255] = '\0';
		if (i > 0)
			strcat(p, "/");
		strcat(p, c);
	}
	assert_int_equal(strlen(p), 1023);
	ok(p);
	strcat(p, "/");
	bad("trailing slash at 1024", p);
	strcat(p, "z");
	assert_int_equal(strlen(p), 1025);
	bad("1025 bytes", p);
	p[1023] = '\0';
	strcat(p, "z"); /* 1024 bytes, but a component of 256 */
	bad("1024 bytes with a 256-byte component", p);

	/* max_depth, in components. */
	assert_null(folio_path_problem("a/b/c", MAX_LEN, 3));
	refused("depth 4, max 3", "a/b/c/d", MAX_LEN, 3);
	assert_null(folio_path_problem("a", MAX_LEN, 1));
	refused("depth 2, max 1", "a/b", MAX_LEN, 1);
	p[0] = '\0';
	for (int i = 0; i < 32; i++)
		strcat(p, i > 0 ? "/d" : "d");
	ok(p);
	strcat(p, "/d");
	bad("33 components", p);
	p[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(p, "a/");
	strcat(p, "a");
	refused("1001 components", p, 4096, MAX_DEPTH);
}

struct type_case {
	const char *path;
	const char *type;
	const char *layer;
};

static void media_types(void **state)
{
	(void)state;
	static const struct type_case cases[] = {
		{ "index.html", "text/html", "text" },
		{ "a/b/page.htm", "text/html", "text" },
		{ "style.css", "text/css", "text" },
		{ "app.js", "text/javascript", "text" },
		{ "data.json", "application/json", "text" },
		{ "notes.txt", "text/plain", "text" },
		{ "README.md", "text/markdown", "text" },
		{ "img/a.png", "image/png", "media" },
		{ "img/a.jpg", "image/jpeg", "media" },
		{ "img/a.jpeg", "image/jpeg", "media" },
		{ "img/a.gif", "image/gif", "media" },
		{ "img/a.webp", "image/webp", "media" },
		{ "img/logo.svg", "image/svg+xml", "media" },
		{ "paper.pdf", "application/pdf", "text" },
		/* Case-insensitive extensions. */
		{ "INDEX.HTML", "text/html", "text" },
		{ "Page.Htm", "text/html", "text" },
		{ "PHOTO.JPG", "image/jpeg", "media" },
		{ "photo.JpEg", "image/jpeg", "media" },
		{ "A.PNG", "image/png", "media" },
		{ "a.SVG", "image/svg+xml", "media" },
		{ "a.CSS", "text/css", "text" },
		{ "a.JSON", "application/json", "text" },
		{ "a.PDF", "application/pdf", "text" },
		/* Non-ASCII names. */
		{ "مقالات/ماسك-ألتمان.html", "text/html", "text" },
		{ "صور/القاهرة.JPG", "image/jpeg", "media" },
		/* The rest of docs/FORMAT.md section 5.3. */
		{ "a.xhtml", "application/xhtml+xml", "text" },
		{ "m.mjs", "text/javascript", "text" },
		{ "n.markdown", "text/markdown", "text" },
		{ "t.csv", "text/csv", "text" },
		{ "f.xml", "application/xml", "text" },
		{ "z.zip", "application/zip", "text" },
		{ "x.tar.gz", "application/gzip", "text" },
		{ "i.avif", "image/avif", "media" },
		{ "i.bmp", "image/bmp", "media" },
		{ "favicon.ico", "image/vnd.microsoft.icon", "media" },
		{ "s.mp3", "audio/mpeg", "media" },
		{ "s.m4a", "audio/mp4", "media" },
		{ "s.ogg", "audio/ogg", "media" },
		{ "s.oga", "audio/ogg", "media" },
		{ "s.opus", "audio/opus", "media" },
		{ "v.mp4", "video/mp4", "media" },
		{ "v.ogv", "video/ogg", "media" },
		{ "v.webm", "video/webm", "media" },
		{ "f.ttf", "font/ttf", "media" },
		{ "f.otf", "font/otf", "media" },
		{ "f.woff", "font/woff", "media" },
		{ "f.WOFF2", "font/woff2", "media" },
		/* Unknown or no extension. */
		{ "archive.xyz", "application/octet-stream", "text" },
		{ "Makefile", "application/octet-stream", "text" },
		{ "a.", "application/octet-stream", "text" },
		{ "page.html.bak", "application/octet-stream", "text" },
		{ "dir.html/file", "application/octet-stream", "text" },
		{ "img.png/notes", "application/octet-stream", "text" },
		{ "a.htmlx", "application/octet-stream", "text" },
		{ "a.xhtmlx", "application/octet-stream", "text" },
		{ "a.gz2", "application/octet-stream", "text" },
		/* A name starting with '.' and no other dot has none. */
		{ ".html", "application/octet-stream", "text" },
		{ "dir/.png", "application/octet-stream", "text" },
		{ ".hidden.png", "image/png", "media" },
		{ "dir/.x.html", "text/html", "text" },
		{ "a.x", "application/octet-stream", "text" },
		{ "html", "application/octet-stream", "text" },
		{ "a.ht", "application/octet-stream", "text" },
		/* The last extension counts. */
		{ "page.txt.html", "text/html", "text" },
		{ "x.tar.png", "image/png", "media" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *t = folio_media_type(cases[i].path);
		if (t == NULL || strcmp(t, cases[i].type) != 0)
			fail_msg("folio_media_type(\"%s\") = \"%s\", want \"%s\"",
				 cases[i].path, t != NULL ? t : "(null)",
				 cases[i].type);
		const char *l = folio_layer_for_type(t);
		if (l == NULL || strcmp(l, cases[i].layer) != 0)
			fail_msg("folio_layer_for_type(\"%s\") = \"%s\", want "
				 "\"%s\"",
				 t, l != NULL ? l : "(null)", cases[i].layer);
	}
}

static void layers(void **state)
{
	(void)state;
	static const char *const media[] = {
		"image/png", "image/jpeg", "image/gif", "image/webp",
		"image/svg+xml", "image/avif", "audio/mpeg", "audio/ogg",
		"video/mp4", "video/webm", "font/woff2", "font/ttf",
	};
	static const char *const text[] = {
		"text/html", "text/css", "text/javascript", "application/json",
		"text/plain", "text/markdown", "application/pdf",
		"application/octet-stream", "application/xml",
		"imagex/png", "text/image", "", "image",
	};

	for (size_t i = 0; i < sizeof media / sizeof *media; i++)
		if (strcmp(folio_layer_for_type(media[i]), "media") != 0)
			fail_msg("layer of %s is %s, want media", media[i],
				 folio_layer_for_type(media[i]));
	for (size_t i = 0; i < sizeof text / sizeof *text; i++)
		if (strcmp(folio_layer_for_type(text[i]), "text") != 0)
			fail_msg("layer of \"%s\" is %s, want text", text[i],
				 folio_layer_for_type(text[i]));
}

static void hex(void **state)
{
	(void)state;
	static const uint8_t in[5] = { 0x00, 0x01, 0xab, 0xff, 0x7e };
	uint8_t back[64], bytes[64];
	char out[130];

	memset(out, '#', sizeof out);
	folio_hex(out, in, sizeof in);
	assert_memory_equal(out, "0001abff7e", 10);
	assert_int_equal(out[10], '\0');
	assert_int_equal(out[11], '#');

	memset(back, 0x55, sizeof back);
	assert_int_equal(folio_unhex(back, 5, "0001abff7e"), 0);
	assert_memory_equal(back, in, 5);
	assert_int_equal(back[5], 0x55);

	/* Round trip of every byte value, and random bytes. */
	for (int v = 0; v < 256; v++) {
		uint8_t b = (uint8_t)v, r = 0;
		folio_hex(out, &b, 1);
		assert_int_equal(folio_unhex(&r, 1, out), 0);
		assert_int_equal(r, b);
	}
	randombytes_buf(bytes, sizeof bytes);
	folio_hex(out, bytes, sizeof bytes);
	assert_int_equal(strlen(out), 128);
	assert_null(strpbrk(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
	assert_int_equal(folio_unhex(back, sizeof back, out), 0);
	assert_memory_equal(back, bytes, sizeof bytes);

	/* n = 0. */
	folio_hex(out, in, 0);
	assert_int_equal(out[0], '\0');
	assert_int_equal(folio_unhex(back, 0, ""), 0);

	/* Refused: wrong length, characters outside [0-9a-f]. */
	assert_true(folio_unhex(back, 5, "0001abff7") != 0);
	assert_true(folio_unhex(back, 5, "0001abff7e0") != 0);
	assert_true(folio_unhex(back, 5, "0001abff7e00") != 0);
	assert_true(folio_unhex(back, 5, "") != 0);
	assert_true(folio_unhex(back, 5, "0001abfg7e") != 0);
	assert_true(folio_unhex(back, 5, "0001ab ff7") != 0);
	assert_true(folio_unhex(back, 5, "0x01abff7e") != 0);
	assert_true(folio_unhex(back, 5, "-001abff7e") != 0);
	assert_true(folio_unhex(back, 1, "\xc3\xa9") != 0);
	assert_true(folio_unhex(back, 1, "0:") != 0);
	assert_true(folio_unhex(back, 1, "/0") != 0);
	assert_true(folio_unhex(back, 1, "`a") != 0);
	assert_true(folio_unhex(back, 1, "g0") != 0);
}

/* Runs folio_path_set_check on the given paths; returns its result and,
 * on a clash, the two names as "A|B". */
static int set_check(char *names, size_t cap, char *const *paths, size_t n, int *kind)
{
	struct folio_path_clash c;
	int r = folio_path_set_check(paths, n, &c);

	names[0] = '\0';
	if (r == 1) {
		snprintf(names, cap, "%.*s|%.*s", c.alen, c.a, c.blen, c.b);
		*kind = (int)c.kind;
	}
	return r;
}

#define SET(...) ((char *const[]){__VA_ARGS__}), sizeof((char *const[]){__VA_ARGS__}) / sizeof(char *)

static void clash(char *const *paths, size_t n, int want_kind, const char *want_names)
{
	char names[256];
	int kind = -1;
	int r = set_check(names, sizeof(names), paths, n, &kind);

	if (r != 1)
		fail_msg("no clash found in a set starting \"%s\" (want %s)", paths[0], want_names);
	assert_int_equal(kind, want_kind);
	if (want_names != NULL)
		assert_string_equal(names, want_names);
}

static void no_clash(char *const *paths, size_t n)
{
	char names[256];
	int kind = -1;
	int r = set_check(names, sizeof(names), paths, n, &kind);

	if (r != 0)
		fail_msg("clash %s (kind %d) reported in a set starting \"%s\"", names, kind, paths[0]);
}

static void path_sets(void **state)
{
	(void)state;

	no_clash(SET("a.txt"));
	no_clash((char *const[]){NULL}, 0);
	no_clash(SET("index.html", "news/a.html", "news/b.html", "news/x/c.html", "newsx"));
	no_clash(SET("مقالات/أ.html", "مقالات/ب.html", "صور/1.jpg"));
	/* the same folder from two files is one folder, not a clash */
	no_clash(SET("a/b/c", "a/b/d", "a/e"));
	/* names that only look alike to a person are different names */
	no_clash(SET("a.txt", "a.txt.txt", "a_txt", "A1.txt", "a1.txt.bak"));

	clash(SET("news/a.txt", "index.html", "news/a.txt"), FOLIO_CLASH_TWICE, "news/a.txt|news/a.txt");
	clash(SET("news", "news/a.txt"), FOLIO_CLASH_FILE_FOLDER, "news|news");
	clash(SET("a/b/c", "a/b"), FOLIO_CLASH_FILE_FOLDER, "a/b|a/b");
	clash(SET("A.txt", "a.txt"), FOLIO_CLASH_CASE, "A.txt|a.txt");
	/* folders collide too: both would be one folder on a FAT stick */
	clash(SET("News/a.txt", "news/b.txt"), FOLIO_CLASH_CASE, "News|news");
	/* a file and a folder that differ in case */
	clash(SET("README", "readme/x"), FOLIO_CLASH_CASE, "README|readme");
	/* NFC: U+00E9 against e + U+0301 */
	clash(SET("caf\xc3\xa9.html", "cafe\xcc\x81.html"), FOLIO_CLASH_CASE, NULL);
	clash(SET("d/caf\xc3\xa9/x", "d/cafe\xcc\x81/y"), FOLIO_CLASH_CASE, NULL);
	/* beyond ASCII: Greek and Cyrillic case pairs */
	clash(SET("\xce\xa3.txt", "\xcf\x83.txt"), FOLIO_CLASH_CASE, NULL);
	clash(SET("\xd0\x94/a", "\xd0\xb4/b"), FOLIO_CLASH_CASE, NULL);
	/* Arabic has no case: an alef with hamza above (U+0623) and alef +
	 * combining hamza (U+0627 U+0654) are one name under NFC */
	clash(SET("\xd8\xa3.html", "\xd8\xa7\xd9\x94.html"), FOLIO_CLASH_CASE, NULL);
	no_clash(SET("\xd8\xa3.html", "\xd8\xa7.html"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_normal_paths),
		cmocka_unit_test(refuses_structure),
		cmocka_unit_test(refuses_control_characters),
		cmocka_unit_test(refuses_invalid_utf8),
		cmocka_unit_test(enforces_sizes),
		cmocka_unit_test(media_types),
		cmocka_unit_test(layers),
		cmocka_unit_test(hex),
		cmocka_unit_test(path_sets),
	};

	return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
