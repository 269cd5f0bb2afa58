/* SPDX-License-Identifier: ISC */
/* Articles: metadata of HTML pages, rendering of Markdown and text, the
 * language and direction of a text. */
#include "unit.h"

#include <unistr.h>

#define CAIRO_TITLE "\xd8\xb3\xd8\xa7\xd8\xad\xd8\xa9 \xd8\xad\xd8\xb1\xd8\xa8 " \
	"\xd9\x85\xd9\x81\xd8\xaa\xd9\x88\xd8\xad\xd8\xa9.. \xd9\x85\xd8\xb9\xd8\xb1\xd9\x83\xd8\xa9 " \
	"\xd8\xa7\xd9\x84\xd8\xb0\xd9\x83\xd8\xa7\xd8\xa1 \xd8\xa7\xd9\x84\xd8\xa7\xd8\xb5\xd8\xb7\xd9\x86\xd8\xa7\xd8\xb9\xd9\x8a " \
	"\xd8\xa8\xd9\x8a\xd9\x86 \xd9\x85\xd8\xa7\xd8\xb3\xd9\x83 \xd9\x88\xd8\xa3\xd9\x84\xd8\xaa\xd9\x85\xd8\xa7\xd9\x86"

/* Every stored string: valid UTF-8, one line, within its limit. */
static void check_strings(const struct folio_article *a)
{
	const struct {
		const char *name, *value;
		size_t max;
	} f[] = {
		{"path", a->path, 4096}, {"source", a->source, 4096},
		{"title", a->title, 512}, {"lang", a->lang, 35},
		{"dir", a->dir, 3}, {"date", a->date, 20},
		{"author", a->author, 256}, {"summary", a->summary, 600},
		{"image", a->image, 4096},
	};

	assert_non_null(a->path);
	assert_non_null(a->title);
	assert_non_null(a->dir);
	assert_true(strcmp(a->dir, "ltr") == 0 || strcmp(a->dir, "rtl") == 0);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = f[i].value;
		if (v == NULL)
			continue;
		if (!folio_utf8_valid(v))
			fail_msg("%s is not valid UTF-8", f[i].name);
		if (strlen(v) > f[i].max || *v == '\0')
			fail_msg("%s has %zu bytes", f[i].name, strlen(v));
		for (const char *p = v; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				fail_msg("%s holds control 0x%02x", f[i].name, *p);
		if (v[0] == ' ' || v[strlen(v) - 1] == ' ')
			fail_msg("%s has a space at an end: \"%s\"", f[i].name, v);
	}
	if (a->summary != NULL)
		assert_true(u8_mbsnlen((const uint8_t *)a->summary, strlen(a->summary)) <= 300);
	assert_non_null(a->text);
	assert_true(folio_utf8_valid(a->text));
	assert_true(strlen(a->text) <= (1u << 20));
	assert_true(a->nremote <= 50);
	for (size_t i = 0; i < a->nremote; i++)
		assert_true(folio_utf8_valid(a->remote[i]));
}

/* Reads an article that must be accepted; *page may be NULL. */
static void read_ok(folio_ctx *ctx, const char *path, const char *data, size_t len,
		    struct folio_article *a, char **page)
{
	struct folio_render r = {.edition_title = "Morning edition", .has_index = true};
	size_t page_len = 0;
	char *p = NULL;

	UNIT_OK(ctx, folio_article_read(ctx, path, data, len, &r, a, &p, &page_len));
	check_strings(a);
	if (p != NULL) {
		assert_int_equal(strlen(p), page_len);
		assert_true(folio_utf8_valid(p));
		assert_non_null(strstr(p, "<meta http-equiv=\"Content-Security-Policy\" "
					  "content=\"default-src 'none'; img-src 'self' file: data:; "
					  "media-src 'self' file: data:; style-src 'unsafe-inline'\">"));
		for (const char *c = p; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t')
				fail_msg("page holds control 0x%02x", *c);
	}
	if (page != NULL)
		*page = p;
	else
		free(p);
}

static void read_str(folio_ctx *ctx, const char *path, const char *data,
		     struct folio_article *a, char **page)
{
	read_ok(ctx, path, data, strlen(data), a, page);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void assert_str_null(const char *what, const char *s)
{
	if (s != NULL)
		fail_msg("%s: want NULL, got \"%s\"", what, s);
}

/* ---- the Cairo news text ---------------------------------------------------- */

static void cairo_news_text(void **state)
{
	struct unit_state *s = *state;
	char *file = unit_join(unit_shared_dir(), "/fixtures/article-ar-cairo-news.txt", NULL);
	size_t len;
	char *data = unit_read_file(file, &len);
	struct folio_article a;
	char *page;

	read_ok(s->ctx, "news/cairo.txt", data, len, &a, &page);
	assert_string_equal(a.path, "news/cairo.html");
	assert_string_equal(a.source, "news/cairo.txt");
	assert_string_equal(a.title, CAIRO_TITLE);
	assert_string_equal(a.lang, "ar");
	assert_string_equal(a.dir, "rtl");
	assert_string_equal(a.author, "\xd8\xb9\xd8\xa8\xd8\xaf\xd8\xa7\xd9\x84\xd9\x84\xd9\x87 "
				      "\xd8\xb9\xd9\x84\xd9\x8a \xd8\xb9\xd8\xb3\xd9\x83\xd8\xb1");
	assert_non_null(a.summary);
	/* في عالم تسوده الابتكارات */
	static const char lead[] = "\xd9\x81\xd9\x8a \xd8\xb9\xd8\xa7\xd9\x84\xd9\x85 "
				   "\xd8\xaa\xd8\xb3\xd9\x88\xd8\xaf\xd9\x87 "
				   "\xd8\xa7\xd9\x84\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83\xd8\xa7\xd8\xb1\xd8\xa7\xd8\xaa";
	assert_true(strncmp(a.summary, lead, sizeof lead - 1) == 0);
	/* The first paragraph, whole: 291 characters (535 bytes), so not cut. */
	assert_int_equal(u8_mbsnlen((const uint8_t *)a.summary, strlen(a.summary)), 291);
	assert_null(strstr(a.summary, "\xe2\x80\xa6"));
	assert_str_null("date", a.date);
	assert_str_null("image", a.image);
	/* The rendered paragraphs: the image caption "ماسك وألتمان" (2 words)
	 * and the 484 words of the body, runs of letters and digits, so
	 * "97.4" and "9.74" are two words each (a whitespace split of the
	 * body gives 482). */
	assert_int_equal(a.words, 486);
	assert_int_equal(a.nremote, 0);
	assert_true(strncmp(a.text, CAIRO_TITLE "\n", strlen(CAIRO_TITLE) + 1) == 0);

	assert_non_null(strstr(page, "<html lang=\"ar\" dir=\"rtl\">"));
	assert_non_null(strstr(page, "<h1 dir=\"auto\">" CAIRO_TITLE "</h1>"));
	assert_int_equal(count(page, "<h1"), 1);
	assert_null(strstr(page, "post-title"));
	assert_null(strstr(page, "\xd9\x85\xd8\xb4\xd8\xa7\xd8\xb1\xd9\x83\xd8\xa9")); /* مشاركة */
	assert_null(strstr(page, "\xd8\xa7\xd9\x84\xd9\x85\xd9\x88\xd9\x82\xd8\xb9 "
				 "\xd8\xa7\xd9\x84\xd8\xb1\xd8\xb3\xd9\x85\xd9\x8a")); /* الموقع الرسمي */
	assert_non_null(strstr(page, "<p class=\"byline\" dir=\"auto\">"));
	assert_non_null(strstr(page, "<nav><a href=\"../index.html\" dir=\"auto\">Morning edition</a></nav>"));
	assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
	assert_null(strstr(page, "<script"));

	free(page);
	folio_article_release(&a);
	free(data);
	free(file);
}

/* ---- the edition fixtures --------------------------------------------------- */

static void fixture_articles(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	size_t len;
	char *data, *page;

	data = unit_read_file("fixtures/edition/articles/market-report.md", &len);
	read_ok(s->ctx, "articles/market-report.md", data, len, &a, &page);
	assert_string_equal(a.path, "articles/market-report.html");
	assert_string_equal(a.source, "articles/market-report.md");
	assert_string_equal(a.title, "Market report: cotton prices steady");
	assert_string_equal(a.lang, "en");
	assert_string_equal(a.dir, "ltr");
	assert_string_equal(a.summary, "Cotton prices held steady in Alexandria this week as "
				       "exporters waited for new orders from spinning mills abroad.");
	assert_str_null("image", a.image);
	assert_str_null("date", a.date);
	assert_int_equal(a.words, 52);
	/* The heading became the title and is not shown twice. */
	assert_int_equal(count(page, "<h1"), 1);
	assert_int_equal(count(page, "Market report: cotton prices steady"), 2); /* <title>, <h1> */
	assert_non_null(strstr(page, "<li>Medium-staple Giza 94: up 1.2%</li>"));
	assert_non_null(strstr(page, "<a href=\"../index.html\">morning edition</a>"));
	free(page);
	folio_article_release(&a);
	free(data);

	data = unit_read_file("fixtures/edition/articles/nile-water-talks.html", &len);
	read_ok(s->ctx, "articles/nile-water-talks.html", data, len, &a, &page);
	assert_null(page);
	assert_string_equal(a.path, "articles/nile-water-talks.html");
	assert_str_null("source", a.source);
	assert_string_equal(a.title, "Nile water talks resume in Addis Ababa");
	assert_string_equal(a.lang, "en");
	assert_string_equal(a.dir, "ltr");
	assert_string_equal(a.summary, "Delegations from Egypt, Sudan and Ethiopia met again on Tuesday.");
	/* nile.jpg, not the 64x64 section logo after it */
	assert_string_equal(a.image, "assets/img/nile.jpg");
	assert_int_equal(a.nremote, 0);
	folio_article_release(&a);
	free(data);

	data = unit_read_file("fixtures/edition/articles/metro-line-ar.html", &len);
	read_ok(s->ctx, "articles/metro-line-ar.html", data, len, &a, &page);
	assert_null(page);
	/* افتتاح محطة جديدة لمترو القاهرة */
	assert_string_equal(a.title, "\xd8\xa7\xd9\x81\xd8\xaa\xd8\xaa\xd8\xa7\xd8\xad "
				     "\xd9\x85\xd8\xad\xd8\xb7\xd8\xa9 \xd8\xac\xd8\xaf\xd9\x8a\xd8\xaf\xd8\xa9 "
				     "\xd9\x84\xd9\x85\xd8\xaa\xd8\xb1\xd9\x88 "
				     "\xd8\xa7\xd9\x84\xd9\x82\xd8\xa7\xd9\x87\xd8\xb1\xd8\xa9");
	assert_string_equal(a.lang, "ar");
	assert_string_equal(a.dir, "rtl");
	assert_non_null(a.summary);
	assert_true(strncmp(a.summary, "\xd8\xa7\xd9\x81\xd8\xaa\xd8\xaa\xd8\xad\xd8\xaa", 12) == 0); /* افتتحت */
	assert_str_null("image", a.image);
	assert_str_null("author", a.author);
	assert_int_equal(a.nremote, 0);
	folio_article_release(&a);
	free(data);
}

static void handbook_page(folio_ctx *ctx, const char *lang, const char *title,
			  const char *dir, const char *summary_start)
{
	char *file = unit_join("/usr/share/doc/debian-handbook/html/", lang, "/apt.html");
	char *path = unit_join("handbook/", lang, "/apt.html");
	struct folio_article a;
	size_t len;

	if (access(file, R_OK) != 0) {
		printf("[ NOTE     ] %s not installed (package debian-handbook): "
		       "that page is not checked\n", file);
		free(file);
		free(path);
		return;
	}
	char *data = unit_read_file(file, &len);
	read_ok(ctx, path, data, len, &a, NULL);
	assert_string_equal(a.title, title);
	assert_string_equal(a.dir, dir);
	/* no lang on <html> or <body>: the chapter <div> declares it */
	assert_string_equal(a.lang, lang);
	/* the only images are the masthead's Common_Content/images links */
	assert_str_null("image", a.image);
	assert_true(a.words > 2000);
	assert_int_equal(a.nremote, 0);
	/* no <p>, no description: the first <div class="para"> */
	assert_non_null(a.summary);
	if (strncmp(a.summary, summary_start, strlen(summary_start)) != 0)
		fail_msg("summary \"%s\" does not start with \"%s\"", a.summary, summary_start);
	folio_article_release(&a);
	free(data);
	free(file);
	free(path);
}

static void debian_handbook(void **state)
{
	struct unit_state *s = *state;

	/* فصل 6. الصيانة والتحديث: أدوات APT, dir="rtl" on <body> */
	handbook_page(s->ctx, "ar-MA",
		      "\xd9\x81\xd8\xb5\xd9\x84 6. \xd8\xa7\xd9\x84\xd8\xb5\xd9\x8a\xd8\xa7\xd9\x86\xd8\xa9 "
		      "\xd9\x88\xd8\xa7\xd9\x84\xd8\xaa\xd8\xad\xd8\xaf\xd9\x8a\xd8\xab: "
		      "\xd8\xa3\xd8\xaf\xd9\x88\xd8\xa7\xd8\xaa APT", "rtl",
		      "\xd9\x85\xd8\xa7 \xd9\x8a\xd8\xac\xd8\xb9\xd9\x84 \xd8\xaf\xd8\xa8\xd9\x8a\xd8\xa7\xd9\x86"); /* ما يجعل دبيان */
	handbook_page(s->ctx, "en-US", "Chapter 6. Maintenance and Updates: The APT Tools", "ltr",
		      "What makes Debian so popular with administrators");
}

/* The masthead rule on its own: images before the first <h1> of a page
 * without <main> or <article> are its masthead. */
static void lead_image_rules(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;

	read_str(s->ctx, "news/a.html",
		 "<html><body><p id=\"title\"><a href=\"/\"><img src=\"img/masthead.png\"></a></p>"
		 "<h1>Story</h1><div class=\"share-tools\"><img src=\"img/fb.png\"></div>"
		 "<header><img src=\"img/h.png\"></header>"
		 "<img src=\"img/small.png\" width=\"40\" height=\"300\">"
		 "<img src=\"data:image/png;base64,AAAA\">"
		 "<img src=\"https://cdn.example/x.jpg\">"
		 "<img src=\"photos/river%20bank.jpg?w=800#top\"></body></html>",
		 &a, NULL);
	assert_string_equal(a.image, "news/photos/river bank.jpg");
	folio_article_release(&a);

	/* <article> is preferred even when an image comes before it */
	read_str(s->ctx, "a.html",
		 "<body><div class=\"content\"><img src=\"first.jpg\"></div>"
		 "<article><h1>T</h1><figure><img src=\"./pics//lead.jpg\" width=\"600\"></figure>"
		 "</article></body>", &a, NULL);
	assert_string_equal(a.image, "pics/lead.jpg");
	folio_article_release(&a);

	/* og:image when it is relative; the root cannot be left */
	read_str(s->ctx, "x/y/a.html",
		 "<head><meta property=\"og:image\" content=\"../../img/o.jpg\"></head>"
		 "<body><article><img src=\"../../../up.jpg\"><img src=\"/rooted.jpg\">"
		 "<img src=\"//cdn.example/p.jpg\"><img src=\"..\\..\\..\\w.jpg\"></article></body>",
		 &a, NULL);
	assert_string_equal(a.image, "img/o.jpg");
	folio_article_release(&a);
	read_str(s->ctx, "x/y/a.html",
		 "<head><meta property=\"og:image\" content=\"http://example.com/o.jpg\"></head>"
		 "<body><article><img src=\"../../../up.jpg\"><img src=\"/rooted.jpg\">"
		 "<img src=\"//cdn.example/p.jpg\"><img src=\"..\\..\\..\\w.jpg\">"
		 "<img src=\"%2e%2e/%2e%2e/%2e%2e/pe.jpg\"><img src=\"a%00b.jpg\">"
		 "<img src=\"file:///etc/x.jpg\"></article></body>",
		 &a, NULL);
	assert_str_null("image", a.image);
	folio_article_release(&a);
}

/* ---- front matter and Markdown ---------------------------------------------- */

static void front_matter(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	char *page;

	read_str(s->ctx, "essays/one.md",
		 "\xef\xbb\xbf---\r\n"
		 "Title: \"Quoted: a title\"\r\n"
		 "LANGUAGE: 'fr'\r\n"
		 "dir: ltr\r\n"
		 "date: 2025-11-28T10:30:00+02:00\r\n"
		 "author: 'Nadia Ali'\r\n"
		 "description: A summary \"with\" quotes\r\n"
		 "image: img/cover%20one.jpg\r\n"
		 "colour: blue\r\n"
		 "---\r\n"
		 "# Another heading\r\n\r\nText.\r\n",
		 &a, &page);
	assert_string_equal(a.title, "Quoted: a title");
	assert_string_equal(a.lang, "fr");
	assert_string_equal(a.dir, "ltr");
	assert_string_equal(a.date, "2025-11-28T08:30:00Z");
	assert_string_equal(a.author, "Nadia Ali");
	assert_string_equal(a.summary, "A summary \"with\" quotes");
	assert_string_equal(a.image, "essays/img/cover one.jpg");
	/* a heading that is not the title stays */
	assert_non_null(strstr(page, "<h1>Another heading</h1>"));
	assert_non_null(strstr(page, "<h1 dir=\"auto\">Quoted: a title</h1>"));
	assert_non_null(strstr(page, "<p class=\"byline\" dir=\"auto\">Nadia Ali \xc2\xb7 "
				     "<time datetime=\"2025-11-28T08:30:00Z\">2025-11-28</time></p>"));
	assert_null(strstr(page, "colour"));
	assert_non_null(strstr(page, "<nav><a href=\"../index.html\""));
	free(page);
	folio_article_release(&a);

	/* never closed: not front matter, all of it is Markdown */
	read_str(s->ctx, "two.md", "---\ntitle: Not a title\nauthor: Nobody\n\nSome text.\n",
		 &a, &page);
	assert_string_not_equal(a.title, "Not a title");
	assert_str_null("author", a.author);
	assert_non_null(strstr(page, "title: Not a title"));
	assert_non_null(strstr(page, "<nav><a href=\"index.html\""));
	free(page);
	folio_article_release(&a);

	/* the same in a text file, with a date, a bad dir and a bad lang */
	read_str(s->ctx, "t.txt", "---\ntitle: From front matter\ndate: 2025-02-29\n"
				  "dir: sideways\nlang: \"en US\"\n---\nFrom front matter\n"
				  "Only line of text.\n", &a, &page);
	assert_string_equal(a.title, "From front matter");
	assert_str_null("date", a.date); /* 2025 is not a leap year */
	assert_str_null("lang", a.lang);
	assert_string_equal(a.dir, "ltr");
	assert_int_equal(count(page, "From front matter"), 2); /* <title>, <h1> */
	assert_non_null(strstr(page, "<p dir=\"auto\">Only line of text.</p>"));
	free(page);
	folio_article_release(&a);
}

static void markdown(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	char *page;

	read_str(s->ctx, "a/b/c.markdown",
		 "Setext title\n============\n\n"
		 "![remote](https://example.com/r.png) ![local](../pics/l.png)\n\n"
		 "<script>alert(1)</script>\n\n<img src=\"http://x.example/raw.png\">\n\n"
		 "A paragraph with *emphasis* and a [link](http://example.com), long enough "
		 "to be the summary of this little test file.\n",
		 &a, &page);
	assert_string_equal(a.path, "a/b/c.html");
	assert_string_equal(a.title, "Setext title");
	assert_int_equal(count(page, "<h1"), 1);
	assert_string_equal(a.image, "a/pics/l.png");
	/* raw HTML is text, never markup */
	assert_null(strstr(page, "<script>"));
	assert_null(strstr(page, "<img src=\"http://x.example/raw.png\">"));
	assert_non_null(strstr(page, "&lt;script&gt;"));
	assert_non_null(strstr(page, "<nav><a href=\"../../index.html\""));
	assert_string_equal(a.summary, "A paragraph with emphasis and a link, long enough to be "
				       "the summary of this little test file.");
	assert_int_equal(a.nremote, 1);
	assert_string_equal(a.remote[0], "https://example.com/r.png");
	free(page);
	folio_article_release(&a);

	/* no heading first: the first block's text, cut at 200 characters */
	char long_line[2000] = "";
	for (int i = 0; i < 60; i++)
		strcat(long_line, "word ");
	strcat(long_line, "\n");
	read_str(s->ctx, "long.md", long_line, &a, &page);
	assert_true(u8_mbsnlen((const uint8_t *)a.title, strlen(a.title)) <= 200);
	assert_true(strlen(a.title) > 150);
	assert_non_null(strstr(a.title, "word\xe2\x80\xa6"));
	assert_int_equal(a.words, 60);
	free(page);
	folio_article_release(&a);

	/* without an index there is no link to it */
	struct folio_render r = {.edition_title = "E", .has_index = false};
	size_t len;
	UNIT_OK(s->ctx, folio_article_read(s->ctx, "x.md", "# T\n", 4, &r, &a, &page, &len));
	assert_null(strstr(page, "<nav>"));
	assert_string_equal(a.title, "T");
	assert_int_equal(a.words, 0);
	free(page);
	folio_article_release(&a);
}

/* ---- HTML metadata ---------------------------------------------------------- */

/* The edition's image sizes for image_sizes(): "news/pics/a b.png" is
 * 640 x 480, "news/pics/q&'.jpg" 30 x 20; nothing else is known. */
static bool sample_sizes(void *arg, const char *path, unsigned *width, unsigned *height)
{
	size_t *calls = arg;

	(*calls)++;
	if (strcmp(path, "news/pics/a b.png") == 0) {
		*width = 640;
		*height = 480;
		return true;
	}
	if (strcmp(path, "news/pics/q&'.jpg") == 0) {
		*width = 30;
		*height = 20;
		return true;
	}
	return false;
}

static void image_sizes(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	size_t calls = 0, page_len = 0;
	char *page = NULL;
	struct folio_render r = {.edition_title = "E", .has_index = true,
				 .image_size = sample_sizes, .image_size_arg = &calls};
	const char *md =
		"# Title ![in the title](pics/a%20b.png)\n\n"
		"![A <b>&\"c\"</b>](pics/a%20b.png \"Tip\") and ![](<pics/a b.png>)\n\n"
		"![q](pics/q&'.jpg) ![unknown](pics/none.png) ![up](../../x.png) "
		"![remote](https://example.com/r.png)\n\n"
		"`<img src=\"pics/a b.png\">` &lt;img src=\"x\"&gt;\n";

	UNIT_OK(s->ctx, folio_article_read(s->ctx, "news/a.md", md, strlen(md), &r, &a, &page,
					   &page_len));
	assert_int_equal(strlen(page), page_len);
	/* sizes where known, after the attributes md4c writes */
	assert_non_null(strstr(page, "<img src=\"pics/a%20b.png\" alt=\"A &lt;b&gt;&amp;&quot;c&quot;&lt;/b&gt;\" "
				     "title=\"Tip\" width=\"640\" height=\"480\">"));
	assert_non_null(strstr(page, "<img src=\"pics/a%20b.png\" alt=\"\" width=\"640\" height=\"480\">"));
	assert_non_null(strstr(page, "alt=\"q\" width=\"30\" height=\"20\">"));
	assert_non_null(strstr(page, "alt=\"unknown\">"));
	assert_non_null(strstr(page, "alt=\"up\">"));
	assert_non_null(strstr(page, "alt=\"remote\">"));
	/* code and text that look like a tag are left alone */
	assert_non_null(strstr(page, "<code>&lt;img src=&quot;pics/a b.png&quot;&gt;</code>"));
	assert_int_equal(count(page, " width=\""), 3);
	/* the title's image went with the heading, and references that leave
	 * the edition or are remote are not asked about */
	assert_int_equal(calls, 4);
	free(page);
	folio_article_release(&a);
}

static void html_titles(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;

	read_str(s->ctx, "p.html",
		 "<head><title>Headline | Site</title>"
		 "<meta property=\"og:title\" content=\" The  og\ttitle \"></head><body></body>",
		 &a, NULL);
	assert_string_equal(a.title, "The og title");
	folio_article_release(&a);

	read_str(s->ctx, "p.html",
		 "<head><title>\n  Headline  of the\n day | The Site </title>"
		 "<meta property=\"og:site_name\" content=\"The Site\"></head><body><h1>H</h1></body>",
		 &a, NULL);
	assert_string_equal(a.title, "Headline of the day");
	folio_article_release(&a);

	read_str(s->ctx, "p.html",
		 "<head><title>Daily \xe2\x80\x94 Rates rise - again</title>"
		 "<meta name=\"application-name\" content=\"Daily\"></head>", &a, NULL);
	assert_string_equal(a.title, "Rates rise - again");
	folio_article_release(&a);

	/* no site name: the title as it is */
	read_str(s->ctx, "p.html", "<title>Headline | Site</title>", &a, NULL);
	assert_string_equal(a.title, "Headline | Site");
	folio_article_release(&a);

	read_str(s->ctx, "dir/the-story.htm", "<body><h1> First <em>h1</em></h1><h1>Second</h1>",
		 &a, NULL);
	assert_string_equal(a.title, "First h1");
	folio_article_release(&a);

	read_str(s->ctx, "dir/the-story.XHTML", "<body><p>no heading</p></body>", &a, NULL);
	assert_string_equal(a.title, "the-story");
	folio_article_release(&a);
}

static void html_metadata(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	char desc[1400] = "";

	for (int i = 0; i < 100; i++)
		strcat(desc, "\xd9\x83\xd9\x84\xd9\x85\xd8\xa9 "); /* كلمة, 4 characters */
	char *doc = unit_join("<html lang=\"ar\"><head>"
			      "<meta property=\"article:published_time\" content=\"2025-01-01T01:30:00+03:00\">"
			      "<meta name=\"author\" content=\"  Huda\nSaleh \">"
			      "<meta name=\"description\" content=\"", desc,
			      "\"></head><body><main><p>short</p></main></body></html>");
	read_str(s->ctx, "m.html", doc, &a, NULL);
	free(doc);
	assert_string_equal(a.lang, "ar");
	assert_string_equal(a.dir, "rtl"); /* from the language, not detected */
	assert_string_equal(a.date, "2024-12-31T22:30:00Z");
	assert_string_equal(a.author, "Huda Saleh");
	/* 500 characters cut at a word boundary to at most 300 with "…" */
	size_t chars = u8_mbsnlen((const uint8_t *)a.summary, strlen(a.summary));
	assert_true(chars <= 300 && chars > 280);
	assert_int_equal((chars - 1) % 5, 4); /* whole words only */
	assert_non_null(strstr(a.summary, "\xd9\x85\xd8\xa9\xe2\x80\xa6"));
	folio_article_release(&a);

	/* meta date, article:author that is a URL, first long <p> of <main> */
	read_str(s->ctx, "m.html",
		 "<html dir=\"rtl\"><head><meta name=\"DC.date.issued\" content=\"2025-03-04\">"
		 "<meta property=\"article:author\" content=\"https://example.com/people/x\">"
		 "</head><body><p>Outside main, a paragraph long enough to be taken as the summary if it were in main.</p>"
		 "<main><nav><p>In navigation, a paragraph long enough to be taken as the summary if it counted.</p></nav>"
		 "<p>Too short.</p><p>The   first paragraph\nof main that has at least eighty characters, "
		 "which this one has.</p></main></body></html>", &a, NULL);
	assert_string_equal(a.date, "2025-03-04");
	assert_str_null("author", a.author);
	assert_string_equal(a.summary, "The first paragraph of main that has at least eighty "
				       "characters, which this one has.");
	assert_string_equal(a.dir, "rtl");
	/* detected among right-to-left scripts only, as the markup says rtl:
	 * there are none */
	assert_str_null("lang", a.lang);
	folio_article_release(&a);
	read_str(s->ctx, "m.html",
		 "<body dir=\"rtl\"><p>apt-get install apt-get update apt-cache search "
		 "sources.list \xd8\xaa\xd8\xab\xd8\xa8\xd9\x8a\xd8\xaa</p></body>", &a, NULL);
	assert_string_equal(a.lang, "ar");
	assert_string_equal(a.dir, "rtl");
	folio_article_release(&a);
	read_str(s->ctx, "m.html",
		 "<body><p>The page says nothing, and this is the text that decides it.</p></body>",
		 &a, NULL);
	assert_string_equal(a.lang, "en");
	assert_string_equal(a.dir, "ltr");
	folio_article_release(&a);

	/* <time>, a date-time without a zone keeps its date, junk dates none */
	read_str(s->ctx, "m.html", "<body><time>x</time><time datetime=\"2025-06-01T12:00\">June</time>",
		 &a, NULL);
	assert_string_equal(a.date, "2025-06-01");
	folio_article_release(&a);
	read_str(s->ctx, "m.html", "<meta name=\"date\" content=\"yesterday\"><body>x</body>", &a, NULL);
	assert_str_null("date", a.date);
	folio_article_release(&a);
	read_str(s->ctx, "m.html", "<meta name=\"date\" content=\"2025-13-01\">", &a, NULL);
	assert_str_null("date", a.date);
	folio_article_release(&a);
	read_str(s->ctx, "m.html", "<meta name=\"pubdate\" content=\"2024-02-29T23:59:59.5Z\">", &a, NULL);
	assert_string_equal(a.date, "2024-02-29T23:59:59Z");
	folio_article_release(&a);

	/* body's dir and lang when <html> has none; main text and words */
	read_str(s->ctx, "m.html",
		 "<body lang=\"he\"><header>Menu words here</header><script>var x = 1;</script>"
		 "<div hidden>secret</div><p>one two<b>three</b></p><p>four</p><aside>no</aside></body>",
		 &a, NULL);
	assert_string_equal(a.lang, "he");
	assert_string_equal(a.dir, "rtl");
	assert_int_equal(a.words, 3); /* "one", "twothree", "four" */
	assert_null(strstr(a.text, "secret"));
	assert_null(strstr(a.text, "Menu"));
	assert_null(strstr(a.text, "var"));
	folio_article_release(&a);
}

static void remote_resources(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;

	read_str(s->ctx, "r.html",
		 "<html><head>"
		 "<link rel=\"stylesheet\" href=\"https://fonts.example/css?family=X\">"
		 "<link rel=\"stylesheet\" href=\"local.css\">"
		 "<link rel=\"canonical\" href=\"https://example.com/r.html\">"
		 "<link rel=\"shortcut icon\" href=\"//cdn.example/favicon.ico\">"
		 "<script src=\"https://js.example/a.js\"></script>"
		 "<style>body{background:url('http://img.example/bg.png')} @import \"https://css.example/i.css\";</style>"
		 "</head><body>"
		 "<a href=\"http://example.com/page\">a link is not loaded</a>"
		 "<img src=\"http://img.example/a.jpg\">"
		 "<img src=\"//cdn.example/b.jpg\">"
		 "<img src=\"data:image/gif;base64,R0lGOD\">"
		 "<img src=\"pics/local.jpg\" srcset=\"pics/l2.jpg 2x, https://img.example/c.jpg 3x,"
		 "https://img.example/d.jpg 4x\">"
		 "<img src=\" http://img.example/a.jpg \">"
		 "<div style=\"background-image: url(https://img.example/e.png)\"></div>"
		 "<video poster=\"https://v.example/p.jpg\"><source src=\"https://v.example/v.mp4\"></video>"
		 "<iframe src=\"about:blank\"></iframe>"
		 "<object data=\"HTTPS://obj.example/o.swf\"></object>"
		 "</body></html>", &a, NULL);
	const char *want[] = {
		"https://fonts.example/css?family=X", "//cdn.example/favicon.ico",
		"https://js.example/a.js", "http://img.example/bg.png",
		"https://css.example/i.css", "http://img.example/a.jpg",
		"//cdn.example/b.jpg", "https://img.example/c.jpg",
		"https://img.example/d.jpg", "https://img.example/e.png",
		"https://v.example/p.jpg", "https://v.example/v.mp4",
		"HTTPS://obj.example/o.swf",
	};
	for (size_t i = 0; i < a.nremote; i++)
		printf("[ INFO     ] remote %zu: %s\n", i, a.remote[i]);
	assert_int_equal(a.nremote, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < a.nremote; i++)
		assert_string_equal(a.remote[i], want[i]);
	folio_article_release(&a);

	/* at most 50 kept */
	struct unit_buf { char *p; size_t n; } b = {calloc(1, 100000), 0};
	assert_non_null(b.p);
	for (int i = 0; i < 80; i++)
		b.n += (size_t)sprintf(b.p + b.n, "<img src=\"https://x.example/%d.png\">", i);
	read_str(s->ctx, "r.html", b.p, &a, NULL);
	assert_int_equal(a.nremote, 50);
	assert_string_equal(a.remote[49], "https://x.example/49.png");
	folio_article_release(&a);
	free(b.p);
}

/* ---- text files --------------------------------------------------------------- */

static void text_files(void **state)
{
	struct unit_state *s = *state;
	struct folio_article a;
	char *page;

	/* a byline with "By", CRLF line ends, furniture lines dropped */
	read_str(s->ctx, "t.txt",
		 "Home | World | Africa\r\n"
		 "Nile dam talks resume after a pause of several months\r\n"
		 "Share:\r\n"
		 "By Amina Yusuf\r\n"
		 "\r\n"
		 "Delegations from Egypt, Sudan and Ethiopia met again on Tuesday to discuss "
		 "the filling schedule of the reservoir, after a pause of several months, "
		 "officials said.\r\n"
		 "Second <paragraph> & more.\r\n",
		 &a, &page);
	assert_string_equal(a.title, "Nile dam talks resume after a pause of several months");
	assert_string_equal(a.author, "Amina Yusuf");
	assert_string_equal(a.lang, "en");
	assert_true(strncmp(a.summary, "Delegations from Egypt", 22) == 0);
	assert_null(strstr(page, "Home"));
	assert_null(strstr(page, "Share:"));
	assert_non_null(strstr(page, "<p dir=\"auto\">Second &lt;paragraph&gt; &amp; more.</p>"));
	assert_non_null(strstr(page, "<p class=\"byline\" dir=\"auto\">Amina Yusuf</p>"));
	free(page);
	folio_article_release(&a);

	/* no head: the first line is already running text */
	read_str(s->ctx, "t.txt",
		 "This file starts right away with a long paragraph of running text that "
		 "goes on and on for more than twenty-five words, so there is no heading "
		 "line at all in it, and the title has to come from this line.\n", &a, &page);
	assert_true(strncmp(a.title, "This file starts right away", 27) == 0);
	assert_true(u8_mbsnlen((const uint8_t *)a.title, strlen(a.title)) <= 200);
	free(page);
	folio_article_release(&a);

	/* the fixture's weather note: short lines only */
	size_t len;
	char *data = unit_read_file("fixtures/edition/sections/world/weather and tides.txt", &len);
	read_ok(s->ctx, "sections/world/weather and tides.txt", data, len, &a, &page);
	assert_string_equal(a.path, "sections/world/weather and tides.html");
	assert_string_equal(a.title, "Weather and tides, Friday");
	assert_string_equal(a.summary, "Cairo: sunny, 24 C, light north wind.");
	assert_non_null(strstr(page, "<p dir=\"auto\">Aswan: clear, 29 C.</p>"));
	free(page);
	folio_article_release(&a);
	free(data);

	/* not UTF-8: refused, naming the file and the byte */
	UNIT_REJECTS(s->ctx, folio_article_read(s->ctx, "bad.txt", "ok\n\xff\xfe", 5, NULL,
						&a, &page, &len), "bad.txt");
	assert_non_null(strstr(folio_errmsg(s->ctx), "not UTF-8 text (byte 4)"));
	assert_null(page);
	UNIT_REJECTS(s->ctx, folio_article_read(s->ctx, "bad.md", "\xc0\xaf", 2, NULL,
						&a, &page, &len), "bad.md");
	/* HTML copes */
	read_ok(s->ctx, "bad.html", "<title>caf\xe9</title>", 19, &a, NULL);
	folio_article_release(&a);
}

/* ---- language and direction ---------------------------------------------------- */

static void detect(const char *text, const char *want_dir, const char *want_lang)
{
	const char *dir = "?", *lang = "?";

	folio_text_detect(text, strlen(text), &dir, &lang);
	if (strcmp(dir, want_dir) != 0 ||
	    (want_lang == NULL ? lang != NULL : lang == NULL || strcmp(lang, want_lang) != 0))
		fail_msg("\"%.40s...\": got %s/%s, want %s/%s", text, dir,
			 lang != NULL ? lang : "NULL", want_dir,
			 want_lang != NULL ? want_lang : "NULL");
}

static void text_detect(void **state)
{
	(void)state;
	/* Arabic */
	detect("\xd8\xa7\xd9\x81\xd8\xaa\xd8\xaa\xd8\xad\xd8\xaa \xd9\x88\xd8\xb2\xd8\xa7\xd8\xb1\xd8\xa9 "
	       "\xd8\xa7\xd9\x84\xd9\x86\xd9\x82\xd9\x84 \xd8\xb5\xd8\xa8\xd8\xa7\xd8\xad "
	       "\xd8\xa7\xd9\x84\xd9\x8a\xd9\x88\xd9\x85 \xd9\x85\xd8\xad\xd8\xb7\xd8\xa9 "
	       "\xd8\xac\xd8\xaf\xd9\x8a\xd8\xaf\xd8\xa9 OpenAI", "rtl", "ar");
	/* Persian: این یک متن فارسی است که برای آزمایش نوشته شده و چند واژه دارد */
	detect("\xd8\xa7\xdb\x8c\xd9\x86 \xdb\x8c\xda\xa9 \xd9\x85\xd8\xaa\xd9\x86 "
	       "\xd9\x81\xd8\xa7\xd8\xb1\xd8\xb3\xdb\x8c \xd8\xa7\xd8\xb3\xd8\xaa \xda\xa9\xd9\x87 "
	       "\xd8\xa8\xd8\xb1\xd8\xa7\xdb\x8c \xd8\xa2\xd8\xb2\xd9\x85\xd8\xa7\xdb\x8c\xd8\xb4 "
	       "\xd9\x86\xd9\x88\xd8\xb4\xd8\xaa\xd9\x87 \xd8\xb4\xd8\xaf\xd9\x87 \xd9\x88 "
	       "\xda\x86\xd9\x86\xd8\xaf \xd9\x88\xd8\xa7\xda\x98\xd9\x87 \xd8\xaf\xd8\xa7\xd8\xb1\xd8\xaf",
	       "rtl", "fa");
	/* Urdu: یہ ایک اردو جملہ ہے جو زبان کی شناخت کے لیے لکھا گیا ہے */
	detect("\xdb\x8c\xdb\x81 \xd8\xa7\xdb\x8c\xda\xa9 \xd8\xa7\xd8\xb1\xd8\xaf\xd9\x88 "
	       "\xd8\xac\xd9\x85\xd9\x84\xdb\x81 \xdb\x81\xdb\x92 \xd8\xac\xd9\x88 "
	       "\xd8\xb2\xd8\xa8\xd8\xa7\xd9\x86 \xda\xa9\xdb\x8c \xd8\xb4\xd9\x86\xd8\xa7\xd8\xae\xd8\xaa "
	       "\xda\xa9\xdb\x92 \xd9\x84\xdb\x8c\xdb\x92 \xd9\x84\xda\xa9\xda\xbe\xd8\xa7 "
	       "\xda\xaf\xdb\x8c\xd8\xa7 \xdb\x81\xdb\x92", "rtl", "ur");
	/* Hebrew: שלום עולם, זהו משפט בעברית */
	detect("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d, "
	       "\xd7\x96\xd7\x94\xd7\x95 \xd7\x9e\xd7\xa9\xd7\xa4\xd7\x98 "
	       "\xd7\x91\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa", "rtl", "he");
	detect("The committee said that it was ready to meet again in the spring, and that "
	       "this is the best way for the talks to continue.", "ltr", "en");
	detect("Le gouvernement a annonc\xc3\xa9 que la r\xc3\xa9" "forme des retraites est dans "
	       "une phase d\xc3\xa9" "cisive pour les syndicats et le pays.", "ltr", "fr");
	detect("Die Regierung hat angek\xc3\xbcndigt, dass die Reform nicht mit den "
	       "Gewerkschaften abgestimmt ist und sich auf das Land auswirkt.", "ltr", "de");
	detect("", "ltr", NULL);
	detect("12345 !!! ...", "ltr", NULL);
	detect("Cotton prices", "ltr", NULL); /* too few common words */
	/* Greek, Japanese, Chinese, Korean, Russian, Ukrainian */
	detect("\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1", "ltr", "el");
	detect("\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xaf\xe6\x99\xb4\xe3\x82\x8c", "ltr", "ja");
	detect("\xe5\x8c\x97\xe4\xba\xac\xe5\xa4\xa9\xe6\xb0\x94", "ltr", "zh");
	detect("\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94", "ltr", "ko");
	detect("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80", "ltr", NULL);
	detect("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd1\x96\xd1\x82 \xd1\x81\xd0\xb2\xd1\x96\xd1\x82", "ltr", "uk");
	/* letters decide, not digits or punctuation; RTL must outnumber */
	detect("abc \xd8\xa7\xd8\xa8", "ltr", NULL);
	folio_text_detect("x", 1, NULL, NULL);
}

static void kinds(void **state)
{
	(void)state;
	assert_int_equal(folio_article_kind("a.html"), 1);
	assert_int_equal(folio_article_kind("a/b.HTM"), 1);
	assert_int_equal(folio_article_kind("b.xhtml"), 1);
	assert_int_equal(folio_article_kind("c.md"), 2);
	assert_int_equal(folio_article_kind("c.MarkDown"), 2);
	assert_int_equal(folio_article_kind("d e.TXT"), 2);
	assert_int_equal(folio_article_kind("x.jpg"), 0);
	assert_int_equal(folio_article_kind("html"), 0);
	assert_int_equal(folio_article_kind(".html"), 0);
	assert_int_equal(folio_article_kind("a.html/b"), 0);
	assert_int_equal(folio_article_kind("a.txt.gz"), 0);
}

/* ---- hostile input --------------------------------------------------------------- */

static void read_any(folio_ctx *ctx, const char *path, const char *data, size_t len)
{
	struct folio_article a;
	char *page = NULL;
	size_t page_len;
	struct folio_render r = {.edition_title = "<E&>", .has_index = true};

	int rc = folio_article_read(ctx, path, data, len, &r, &a, &page, &page_len);
	if (rc == FOLIO_OK) {
		check_strings(&a);
		if (page != NULL)
			assert_true(folio_utf8_valid(page));
		folio_article_release(&a);
	} else {
		assert_int_equal(rc, FOLIO_EREJECT);
		assert_true(unit_message_ok(ctx, path));
	}
	free(page);
}

static void read_all_kinds(folio_ctx *ctx, const char *data, size_t len)
{
	read_any(ctx, "h/a.html", data, len);
	read_any(ctx, "h/a.md", data, len);
	read_any(ctx, "h/a.txt", data, len);
}

static void hostile(void **state)
{
	struct unit_state *s = *state;
	size_t big = 1u << 20;
	char *buf = malloc(2 * 10000 * 8 + 64);

	assert_non_null(buf);
	read_all_kinds(s->ctx, "", 0);
	read_all_kinds(s->ctx, NULL, 0);
	read_all_kinds(s->ctx, "\xef\xbb\xbf", 3);
	read_all_kinds(s->ctx, "---\n---\n", 8);
	read_all_kinds(s->ctx, "<", 1);
	read_all_kinds(s->ctx, "a\0b\0<p>c\0</p>\0", 14);
	read_all_kinds(s->ctx, "<title>\0x</title><img src=\"a\0b\">", 32);
	read_all_kinds(s->ctx, "\x01\x02\x1b[31m\x7f\xc2\x85 title\n", 13);

	char *lt = malloc(big);
	assert_non_null(lt);
	memset(lt, '<', big);
	read_all_kinds(s->ctx, lt, big);
	memset(lt, '[', big);
	read_all_kinds(s->ctx, lt, big);
	memset(lt, '>', big);
	read_all_kinds(s->ctx, lt, big);
	memset(lt, '\n', big);
	read_all_kinds(s->ctx, lt, big);
	memset(lt, 0, big);
	read_all_kinds(s->ctx, lt, big);
	/* one long line of words: summary and title cut, text capped */
	for (size_t i = 0; i + 4 <= big; i += 4)
		memcpy(lt + i, "\xd8\xa8\xd8\xa7", 4); /* با */
	for (size_t i = 1000; i < big; i += 1000)
		lt[i] = ' ', lt[i + 1] = ' ', lt[i + 2] = ' ', lt[i + 3] = ' ';
	read_all_kinds(s->ctx, lt, big);
	free(lt);

	size_t n = 0;
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(buf + n, "<div>");
	memcpy(buf + n, "x", 1);
	n++;
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(buf + n, "</div>");
	read_all_kinds(s->ctx, buf, n);
	n = 0;
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(buf + n, "<a><b>");
	read_all_kinds(s->ctx, buf, n);
	n = 0;
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(buf + n, "> - ");
	memcpy(buf + n, "x\n", 2);
	read_all_kinds(s->ctx, buf, n + 2);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		UNIT_TEST(cairo_news_text),
		UNIT_TEST(fixture_articles),
		UNIT_TEST(debian_handbook),
		UNIT_TEST(lead_image_rules),
		UNIT_TEST(front_matter),
		UNIT_TEST(markdown),
		UNIT_TEST(image_sizes),
		UNIT_TEST(html_titles),
		UNIT_TEST(html_metadata),
		UNIT_TEST(remote_resources),
		UNIT_TEST(text_files),
		UNIT_TEST(text_detect),
		UNIT_TEST(kinds),
		UNIT_TEST(hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
