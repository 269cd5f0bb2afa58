/* SPDX-License-Identifier: ISC */
/* Articles: the metadata of HTML pages, and Markdown and text files rendered
 * to pages.  The rules are documented in docs/FORMAT.md ("Articles"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <md4c-html.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include "folio-internal.h"

#define TEXT_MAX (1u << 20)      /* bytes of text kept per article for search */
#define AUTHOR_MAX 256
#define SUMMARY_MAX_BYTES 600
#define SUMMARY_MAX_CHARS 300
#define TEXT_TITLE_CHARS 200     /* a title taken from a line of text */
#define REMOTE_MAX 50
#define URL_MAX 2048
#define PARAGRAPH_PROBE 8192     /* bytes of a <p> read to judge it as summary */
#define LEAD_PARAGRAPH_CHARS 80
#define BODY_LINE_WORDS 25       /* a text line this long starts the body */
#define BODY_LINE_CHARS 150
#define BYLINE_WORDS 8
#define IMAGE_MIN_SIZE 100
#define BEFORE_H1_MAX 256

/* One call of folio_article_read: out of memory anywhere is remembered here
 * and reported once at the end. */
struct job {
	folio_ctx *ctx;
	const char *path;
	bool oom;
};

static char *job_take(struct job *j, struct folio_buf *b)
{
	if (b->oom) {
		j->oom = true;
		free(b->p);
		return NULL;
	}
	if (b->p == NULL) {
		b->p = malloc(1);
		if (b->p == NULL) {
			j->oom = true;
			return NULL;
		}
		b->p[0] = '\0';
	}
	return b->p;
}

static char *job_strdup(struct job *j, const char *s)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		j->oom = true;
	return d;
}

/* ---- characters ----------------------------------------------------------- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

static bool ascii_prefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (ascii_lower(*s) != ascii_lower(*prefix))
			return false;
	return true;
}

/* Whether the ASCII-lowered s contains word. */
static bool ascii_contains(const char *s, const char *word)
{
	for (; *s != '\0'; s++)
		if (ascii_prefix(s, word))
			return true;
	return false;
}

/* Spaces, line breaks and controls all become one space in stored strings,
 * so that every field is one line a reader can show. */
static bool is_blank(ucs4_t uc)
{
	return uc < 0x20 || (uc >= 0x7f && uc < 0xa0) ||
	       uc_is_property_white_space(uc);
}

static bool is_word_start(ucs4_t uc)
{
	return uc_is_general_category(uc, UC_CATEGORY_L) ||
	       uc_is_general_category(uc, UC_CATEGORY_N);
}

/* Combining marks continue a word: Arabic tashkeel or Devanagari vowel
 * signs must not split one. */
static bool is_word_part(ucs4_t uc)
{
	return is_word_start(uc) || uc_is_general_category(uc, UC_CATEGORY_M);
}

static size_t next_char(const char *s, size_t n, ucs4_t *uc)
{
	int k = u8_mbtouc(uc, (const uint8_t *)s, n);

	return k > 0 ? (size_t)k : 1;
}

struct word_count {
	uint64_t words;
	bool in;
};

static void count_words(struct word_count *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		ucs4_t uc;
		i += next_char(s + i, n - i, &uc);
		if (w->in ? is_word_part(uc) : is_word_start(uc)) {
			if (!w->in)
				w->words++;
			w->in = true;
		} else {
			w->in = false;
		}
	}
}

static uint64_t words_in(const char *s, size_t n)
{
	struct word_count w = {0, false};

	count_words(&w, s, n);
	return w.words;
}

/* s[0..n) without blanks at either end. */
static void trim(const char **s, size_t *n)
{
	while (*n > 0) {
		ucs4_t uc;
		size_t k = next_char(*s, *n, &uc);
		if (!is_blank(uc))
			break;
		*s += k;
		*n -= k;
	}
	while (*n > 0) {
		size_t k = 1;
		while (k < *n && k < 4 && ((unsigned char)(*s)[*n - k] & 0xc0) == 0x80)
			k++;
		ucs4_t uc;
		next_char(*s + *n - k, k, &uc);
		if (!is_blank(uc))
			break;
		*n -= k;
	}
}

/* s[0..n) as one line of valid UTF-8: invalid bytes become U+FFFD, runs of
 * blanks one space, no blank at either end, at most max bytes (cut at a
 * character boundary).  NULL when nothing is left (or out of memory,
 * recorded on j). */
static char *clean_line(struct job *j, const char *s, size_t n, size_t max)
{
	struct folio_buf b = {0};
	bool space = false, cut = false;

	for (size_t i = 0; i < n && !cut;) {
		ucs4_t uc;
		i += next_char(s + i, n - i, &uc);
		if (is_blank(uc)) {
			space = b.len > 0;
			continue;
		}
		if (uc == 0xfeff)
			continue;
		uint8_t enc[6];
		int m = u8_uctomb(enc, uc, sizeof enc);
		if (m <= 0)
			continue;
		if (b.len + (space ? 1 : 0) + (size_t)m > max) {
			cut = true;
			break;
		}
		if (space)
			folio_buf_addn(&b, " ", 1);
		space = false;
		folio_buf_addn(&b, enc, (size_t)m);
	}
	if (b.len == 0 && !b.oom) {
		free(b.p);
		return NULL;
	}
	return job_take(j, &b);
}

/* Cuts a clean line to at most max_chars characters and max_bytes bytes,
 * at a word boundary when there is one in the second half, ending in "…"
 * when cut.  Takes s. */
static char *cut_words(struct job *j, char *s, size_t max_chars, size_t max_bytes)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t len, chars = 0, i = 0, keep_chars, keep_bytes;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len <= max_bytes && u8_mbsnlen((const uint8_t *)s, len) <= max_chars)
		return s;
	keep_chars = max_chars - 1;
	keep_bytes = max_bytes - (sizeof ellipsis - 1);
	while (i < len && chars < keep_chars) {
		ucs4_t uc;
		size_t k = next_char(s + i, len - i, &uc);
		if (i + k > keep_bytes)
			break;
		i += k;
		chars++;
	}
	size_t end = i;
	if (s[end] != ' ') { /* inside a word: back to its start if not too far */
		size_t sp = end;
		while (sp > 0 && s[sp - 1] != ' ')
			sp--;
		if (sp > end / 2)
			end = sp;
	}
	while (end > 0 && s[end - 1] == ' ')
		end--;
	char *t = realloc(s, end + sizeof ellipsis);
	if (t == NULL) {
		free(s);
		j->oom = true;
		return NULL;
	}
	memcpy(t + end, ellipsis, sizeof ellipsis);
	return t;
}

static char *summary_from(struct job *j, const char *s, size_t n)
{
	return cut_words(j, clean_line(j, s, n, 4 * SUMMARY_MAX_BYTES),
			 SUMMARY_MAX_CHARS, SUMMARY_MAX_BYTES);
}

/* ---- language and direction ---------------------------------------------- */

static bool is_rtl_letter(ucs4_t uc)
{
	return (uc >= 0x0590 && uc <= 0x05ff) || (uc >= 0x0600 && uc <= 0x06ff) ||
	       (uc >= 0x0700 && uc <= 0x074f) || /* Syriac */
	       (uc >= 0x0750 && uc <= 0x077f) ||
	       (uc >= 0x0780 && uc <= 0x07bf) || /* Thaana */
	       (uc >= 0x07c0 && uc <= 0x07ff) || /* NKo */
	       (uc >= 0x08a0 && uc <= 0x08ff) || (uc >= 0xfb1d && uc <= 0xfdff) ||
	       (uc >= 0xfe70 && uc <= 0xfeff);
}

enum script {
	S_OTHER, S_LATIN, S_ARABIC, S_HEBREW, S_GREEK, S_THAI, S_ARMENIAN,
	S_GEORGIAN, S_HANGUL, S_HIRAGANA, S_KATAKANA, S_HAN, S_DEVANAGARI,
	S_BENGALI, S_ETHIOPIC, S_TAMIL, S_CYRILLIC, S__COUNT
};

static const char *const script_names[S__COUNT] = {
	NULL, "Latin", "Arabic", "Hebrew", "Greek", "Thai", "Armenian",
	"Georgian", "Hangul", "Hiragana", "Katakana", "Han", "Devanagari",
	"Bengali", "Ethiopic", "Tamil", "Cyrillic",
};

/* A script that names its language, as the majority script. */
static const char *const script_langs[S__COUNT] = {
	NULL, NULL, NULL, "he", "el", "th", "hy", "ka", "ko", "ja", "ja", NULL,
	"hi", "bn", "am", "ta", NULL,
};

/* Common words that are frequent in one language and rare in the others'
 * running text: a handful of hits is a strong vote. */
static const char *const latin_words[][15] = {
	{"en", "the", "and", "of", "to", "is", "that", "it", "was", "for", "with", "are", "this", "have", NULL},
	{"fr", "le", "la", "les", "et", "des", "est", "une", "du", "dans", "pour", "qui", "au", "sur", "avec"},
	{"es", "el", "los", "las", "del", "y", "por", "una", "con", "para", "es", "se", "como", "su", NULL},
	{"de", "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "den", "von", "zu", "auf", "sich"},
	{"pt", "o", "os", "do", "da", "dos", "n\xc3\xa3o", "uma", "com", "em", "\xc3\xa9", "ao", "mais", "pelo", NULL},
	{"it", "il", "di", "che", "della", "non", "per", "sono", "gli", "anche", "nel", "alla", "\xc3\xa8", "questo", NULL},
	{"nl", "het", "een", "en", "van", "niet", "dat", "op", "te", "zijn", "met", "voor", "ook", "wordt", NULL},
	{"id", "yang", "dan", "ini", "itu", "dengan", "untuk", "tidak", "dari", "dalam", "akan", "ke", "adalah", "pada", NULL},
	{"sw", "na", "ya", "wa", "kwa", "ni", "katika", "za", "kuwa", "hii", "cha", "watu", "hiyo", "lakini", NULL},
	{"tr", "ve", "bir", "bu", "i\xc3\xa7in", "ile", "olarak", "\xc3\xa7ok", "daha", "gibi", "olan", "ama", "kadar", "sonra", NULL},
};
#define LATIN_LANGS (sizeof latin_words / sizeof latin_words[0])
#define LATIN_VOTE_WORDS 20000

static const char *latin_vote(const char *text, size_t len)
{
	unsigned hits[LATIN_LANGS] = {0};
	size_t voted = 0;

	for (size_t i = 0; i < len && voted < LATIN_VOTE_WORDS;) {
		ucs4_t uc;
		size_t k = next_char(text + i, len - i, &uc);
		if (!is_word_start(uc)) {
			i += k;
			continue;
		}
		size_t start = i;
		while (i < len) {
			k = next_char(text + i, len - i, &uc);
			if (!is_word_part(uc))
				break;
			i += k;
		}
		voted++;
		uint8_t low[32];
		size_t lown = sizeof low - 1;
		if (i - start > 16 ||
		    u8_tolower((const uint8_t *)text + start, i - start, NULL,
			       NULL, low, &lown) != low)
			continue;
		low[lown] = '\0';
		for (size_t l = 0; l < LATIN_LANGS; l++)
			for (size_t w = 1; w < 15 && latin_words[l][w] != NULL; w++)
				if (strcmp((const char *)low, latin_words[l][w]) == 0)
					hits[l]++;
	}
	size_t best = 0, second = SIZE_MAX;
	for (size_t l = 1; l < LATIN_LANGS; l++)
		if (hits[l] > hits[best])
			best = l;
	for (size_t l = 0; l < LATIN_LANGS; l++)
		if (l != best && (second == SIZE_MAX || hits[l] > hits[second]))
			second = l;
	if (hits[best] >= 3 && 2 * hits[best] >= 3 * hits[second] &&
	    hits[best] > hits[second])
		return latin_words[best][0];
	return NULL;
}

struct detection {
	const char *dir, *lang;
	enum script major;
};

/* want_dir, when the page declares its direction, leaves out the scripts
 * written the other way: a right-to-left page quoting much English is not
 * an English page. */
static void detect(const char *text, size_t len, const char *want_dir,
		   struct detection *d)
{
	const uc_script_t *known[S__COUNT] = {NULL};
	uint64_t count[S__COUNT] = {0};
	uint64_t rtl = 0, ltr = 0, persian = 0, urdu = 0, ukrainian = 0;
	const uc_script_t *last = NULL;
	enum script last_s = S_OTHER;

	for (int s = 1; s < S__COUNT; s++)
		known[s] = uc_script_byname(script_names[s]);
	for (size_t i = 0; i < len;) {
		ucs4_t uc;
		i += next_char(text + i, len - i, &uc);
		if (!uc_is_general_category(uc, UC_CATEGORY_L))
			continue;
		if (is_rtl_letter(uc))
			rtl++;
		else
			ltr++;
		const uc_script_t *sc = uc_script(uc);
		if (sc != last) {
			last = sc;
			last_s = S_OTHER;
			for (int s = 1; s < S__COUNT; s++)
				if (sc != NULL && sc == known[s])
					last_s = (enum script)s;
		}
		count[last_s]++;
		switch (uc) {
		case 0x067e: case 0x0686: case 0x0698: case 0x06af: case 0x06a9: case 0x06cc:
			persian++;
			break;
		case 0x0679: case 0x0688: case 0x0691: case 0x06ba: case 0x06d2: case 0x06be:
			urdu++;
			break;
		case 0x0456: case 0x0457: case 0x0454: case 0x0491:
		case 0x0406: case 0x0407: case 0x0404: case 0x0490:
			ukrainian++;
			break;
		default:
			break;
		}
	}
	d->dir = rtl > ltr ? "rtl" : "ltr";
	d->lang = NULL;
	/* Chinese and Japanese share Han: one group, kana decides. */
	uint64_t kana = count[S_HIRAGANA] + count[S_KATAKANA];
	uint64_t cjk = count[S_HAN] + kana;
	enum script major = S_OTHER;
	uint64_t most = 0;
	for (int s = 1; s < S__COUNT; s++) {
		uint64_t c = s == S_HAN ? cjk : s == S_HIRAGANA || s == S_KATAKANA ? 0 : count[s];
		bool rtl_script = s == S_ARABIC || s == S_HEBREW;
		if (want_dir != NULL && rtl_script != (strcmp(want_dir, "rtl") == 0))
			continue;
		if (c > most) {
			most = c;
			major = (enum script)s;
		}
	}
	if (count[S_OTHER] > most && want_dir == NULL)
		major = S_OTHER;
	d->major = major;
	switch (major) {
	case S_ARABIC: {
		uint64_t n = count[S_ARABIC];
		if (urdu * 100 >= n)
			d->lang = "ur";
		else if (persian * 100 >= n)
			d->lang = "fa";
		else
			d->lang = "ar";
		break;
	}
	case S_HAN:
		d->lang = kana > 0 ? "ja" : "zh";
		break;
	case S_LATIN:
		d->lang = latin_vote(text, len);
		break;
	case S_CYRILLIC:
		d->lang = ukrainian > 0 ? "uk" : NULL;
		break;
	default:
		d->lang = script_langs[major];
		break;
	}
}

void folio_text_detect(const char *text, size_t len, const char **dir, const char **lang)
{
	struct detection d;

	detect(text != NULL ? text : "", text != NULL ? len : 0, NULL, &d);
	if (dir != NULL)
		*dir = d.dir;
	if (lang != NULL)
		*lang = d.lang;
}

/* A language tag's shape (BCP 47 subtags), so markup cannot put anything
 * else in the manifest. */
static bool lang_valid(const char *s)
{
	size_t n = 0, sub = 0;

	if (s == NULL || !ascii_alpha(s[0]))
		return false;
	for (; s[n] != '\0'; n++) {
		if (s[n] == '-') {
			if (sub == 0)
				return false;
			sub = 0;
		} else if (ascii_alpha(s[n]) || ascii_digit(s[n])) {
			if (++sub > 8)
				return false;
		} else {
			return false;
		}
	}
	return sub > 0 && n <= 35;
}

static const char *dir_for_lang(const char *lang)
{
	static const char *const rtl[] = {"ar", "fa", "ur", "he", "ps", "sd", "ug",
					  "yi", "dv", "ckb", "iw"};
	size_t n = strcspn(lang, "-_");

	for (size_t i = 0; i < sizeof rtl / sizeof rtl[0]; i++)
		if (strlen(rtl[i]) == n && ascii_prefix(lang, rtl[i]))
			return "rtl";
	return "ltr";
}

static const char *dir_valid(const char *s)
{
	if (s == NULL)
		return NULL;
	if (ascii_caseeq(s, "rtl"))
		return "rtl";
	if (ascii_caseeq(s, "ltr"))
		return "ltr";
	return NULL;
}

/* ---- dates ---------------------------------------------------------------- */

static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!ascii_digit(s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DD" as it is; a date and time with a zone (Z or +HH:MM) in UTC;
 * a date and time without a zone keeps its date only, the zone being
 * unknown; anything else NULL. */
static char *normalise_date(struct job *j, const char *in)
{
	const char *s;
	size_t n;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	char out[32];

	if (in == NULL)
		return NULL;
	s = in;
	n = strlen(in);
	trim(&s, &n);
	if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo))
		return NULL;
	if (n == 10 || (n > 10 && s[10] != 'T' && s[10] != 't' && s[10] != ' ')) {
		if (n != 10)
			return NULL;
		snprintf(out, sizeof out, "%04d-%02d-%02d", y, mo, d);
		return job_strdup(j, out);
	}
	size_t i = 11;
	if (n < i + 5 || !digits(s + i, 2, &h) || s[i + 2] != ':' ||
	    !digits(s + i + 3, 2, &mi) || h > 23 || mi > 59)
		return NULL;
	i += 5;
	if (i < n && s[i] == ':') {
		if (n < i + 3 || !digits(s + i + 1, 2, &sec) || sec > 60)
			return NULL;
		i += 3;
		if (sec == 60)
			sec = 59;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			i++;
			if (i >= n || !ascii_digit(s[i]))
				return NULL;
			while (i < n && ascii_digit(s[i]))
				i++;
		}
	}
	if (i < n && s[i] == ' ')
		i++;
	if (i == n) {
		snprintf(out, sizeof out, "%04d-%02d-%02d", y, mo, d);
		return job_strdup(j, out);
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		sign = 0;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		i++;
		if (n < i + 2 || !digits(s + i, 2, &oh))
			return NULL;
		i += 2;
		if (i < n && s[i] == ':')
			i++;
		if (i < n) {
			if (n != i + 2 || !digits(s + i, 2, &om))
				return NULL;
		}
		if (oh > 23 || om > 59)
			return NULL;
	} else {
		return NULL;
	}
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
		    sign * (oh * 3600 + om * 60);
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t rest = t - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999)
		return NULL;
	snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
		 (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60));
	return job_strdup(j, out);
}

/* ---- references ----------------------------------------------------------- */

static int hex_value(char c)
{
	if (ascii_digit(c))
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Length of the URL scheme ("https" in "https://x"), 0 if there is none. */
static size_t scheme_length(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !ascii_alpha(s[0]))
		return 0;
	while (i < n && (ascii_alpha(s[i]) || ascii_digit(s[i]) || s[i] == '+' ||
			 s[i] == '-' || s[i] == '.'))
		i++;
	return i < n && s[i] == ':' ? i : 0;
}

/* A reference as a browser reads it: no blanks at either end, no tab or line
 * break inside, backslashes as slashes. */
static char *url_normalise(const char *ref)
{
	size_t n = strlen(ref), start = 0;
	char *out;

	while (start < n && (unsigned char)ref[start] <= 0x20)
		start++;
	while (n > start && (unsigned char)ref[n - 1] <= 0x20)
		n--;
	out = malloc(n - start + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = start; i < n; i++) {
		char c = ref[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		out[o++] = c == '\\' ? '/' : c;
	}
	out[o] = '\0';
	return out;
}

/* The edition path an article at `article` refers to with ref, or NULL when
 * ref is absolute, data:, empty, or leaves the edition. */
static char *resolve_ref(struct job *j, const char *article, const char *ref)
{
	char *u, *dec = NULL, *out = NULL;
	size_t n, i, o;

	if (ref == NULL)
		return NULL;
	u = url_normalise(ref);
	if (u == NULL) {
		j->oom = true;
		return NULL;
	}
	n = strcspn(u, "?#");
	u[n] = '\0';
	if (n == 0 || u[0] == '/' || scheme_length(u, n) > 0)
		goto done;
	dec = malloc(n + 1);
	if (dec == NULL) {
		j->oom = true;
		goto done;
	}
	for (i = 0, o = 0; i < n; i++) {
		int hi, lo;
		if (u[i] == '%' && i + 2 < n && (hi = hex_value(u[i + 1])) >= 0 &&
		    (lo = hex_value(u[i + 2])) >= 0) {
			dec[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			dec[o++] = u[i];
		}
	}
	dec[o] = '\0';
	if (strlen(dec) != o || u8_check((const uint8_t *)dec, o) != NULL)
		goto done;

	/* Components of the article's folder, then of the reference. */
	size_t dirlen = 0;
	const char *slash = strrchr(article, '/');
	if (slash != NULL)
		dirlen = (size_t)(slash - article);
	size_t cap = dirlen + o + 2;
	out = malloc(cap);
	if (out == NULL) {
		j->oom = true;
		goto done;
	}
	size_t len = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass == 0 ? article : dec;
		const char *end = pass == 0 ? article + dirlen : dec + o;
		while (p < end) {
			const char *q = memchr(p, '/', (size_t)(end - p));
			if (q == NULL)
				q = end;
			size_t cl = (size_t)(q - p);
			if (cl == 0 || (cl == 1 && p[0] == '.')) {
				/* "a//b" and "a/./b" are "a/b" to a browser */
			} else if (cl == 2 && p[0] == '.' && p[1] == '.') {
				if (len == 0) {
					free(out);
					out = NULL;
					goto done;
				}
				while (len > 0 && out[len - 1] != '/')
					len--;
				if (len > 0)
					len--;
			} else {
				if (len > 0)
					out[len++] = '/';
				memcpy(out + len, p, cl);
				len += cl;
			}
			p = q < end ? q + 1 : q;
		}
	}
	out[len] = '\0';
	if (len == 0 || folio_path_problem(out, 4096, 64) != NULL) {
		free(out);
		out = NULL;
	}
done:
	free(u);
	free(dec);
	return out;
}

/* Loaded from the network when the page opens: a scheme-relative reference
 * or a scheme other than those that name local or inline content. */
static bool url_is_remote(const char *u)
{
	size_t n = strlen(u), s;

	if (n >= 2 && u[0] == '/' && u[1] == '/')
		return true;
	s = scheme_length(u, n);
	if (s == 0)
		return false;
	static const char *const local[] = {"data", "file", "about", "javascript", "blob"};
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
		if (strlen(local[i]) == s && ascii_prefix(u, local[i]))
			return false;
	return true;
}

struct remote_list {
	char **v;
	size_t n;
};

static void remote_add(struct job *j, struct remote_list *r, const char *s, size_t n)
{
	char *raw, *u, *clean;

	if (r->n >= REMOTE_MAX)
		return;
	raw = strndup(s, n);
	if (raw == NULL) {
		j->oom = true;
		return;
	}
	u = url_normalise(raw);
	free(raw);
	if (u == NULL) {
		j->oom = true;
		return;
	}
	if (!url_is_remote(u)) {
		free(u);
		return;
	}
	clean = clean_line(j, u, strlen(u), URL_MAX);
	free(u);
	if (clean == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i], clean) == 0) {
			free(clean);
			return;
		}
	}
	if (r->v == NULL) {
		r->v = calloc(REMOTE_MAX, sizeof *r->v);
		if (r->v == NULL) {
			free(clean);
			j->oom = true;
			return;
		}
	}
	r->v[r->n++] = clean;
}

static void remote_add_srcset(struct job *j, struct remote_list *r, const char *s)
{
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == ',')
			s++;
		size_t n = strcspn(s, " \t\n\r\f");
		/* A candidate's URL may itself end in commas it does not own. */
		size_t u = n;
		while (u > 0 && s[u - 1] == ',')
			u--;
		if (u > 0)
			remote_add(j, r, s, u);
		s += n;
		if (u == n)
			s += strcspn(s, ",");
	}
}

/* url(...) and @import "..." in CSS. */
static void remote_add_css(struct job *j, struct remote_list *r, const char *css)
{
	for (const char *p = css; *p != '\0' && r->n < REMOTE_MAX; p++) {
		const char *v = NULL;
		if (ascii_prefix(p, "url(")) {
			v = p + 4;
		} else if (ascii_prefix(p, "@import")) {
			v = p + 7;
			while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
				v++;
			if (*v != '"' && *v != '\'')
				continue;
		} else {
			continue;
		}
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		char quote = *v == '"' || *v == '\'' ? *v : 0;
		if (quote)
			v++;
		size_t n = quote ? strcspn(v, quote == '"' ? "\"" : "'") : strcspn(v, ")");
		remote_add(j, r, v, n);
		p = v + n; /* the loop steps over the closing quote or ")" */
		if (*p == '\0')
			break;
	}
}

/* ---- front matter --------------------------------------------------------- */

enum { FM_TITLE, FM_LANG, FM_DIR, FM_DATE, FM_AUTHOR, FM_SUMMARY, FM_IMAGE, FM__COUNT };

struct front_matter {
	char *v[FM__COUNT]; /* raw values, NUL-terminated copies */
};

static void front_matter_release(struct front_matter *fm)
{
	for (int i = 0; i < FM__COUNT; i++)
		free(fm->v[i]);
	memset(fm, 0, sizeof *fm);
}

/* Length of the line at s (without its "\n"). */
static size_t line_length(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);

	return nl != NULL ? (size_t)(nl - s) : n;
}

static bool is_fence(const char *s, size_t n)
{
	while (n > 3 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 3 && memcmp(s, "---", 3) == 0;
}

/* Parses a front matter block at the start of s[0..n) (LF line ends) and
 * returns the offset of what follows it, 0 when there is none. */
static size_t front_matter_parse(struct job *j, const char *s, size_t n,
				 struct front_matter *fm)
{
	static const struct {
		const char *key;
		int field;
	} keys[] = {
		{"title", FM_TITLE}, {"lang", FM_LANG}, {"language", FM_LANG},
		{"dir", FM_DIR}, {"date", FM_DATE}, {"author", FM_AUTHOR},
		{"summary", FM_SUMMARY}, {"description", FM_SUMMARY},
		{"image", FM_IMAGE},
	};
	size_t l = line_length(s, n), pos, end = 0;

	memset(fm, 0, sizeof *fm);
	if (!is_fence(s, l) || l == n)
		return 0;
	for (pos = l + 1; pos < n;) {
		size_t ll = line_length(s + pos, n - pos);
		if (is_fence(s + pos, ll)) {
			end = pos + ll < n ? pos + ll + 1 : n;
			break;
		}
		pos += ll + 1;
	}
	if (end == 0)
		return 0;
	for (pos = l + 1; pos < n;) {
		const char *line = s + pos;
		size_t ll = line_length(line, n - pos);
		if (is_fence(line, ll))
			break;
		pos += ll + 1;
		const char *colon = memchr(line, ':', ll);
		if (colon == NULL)
			continue;
		const char *k = line, *v = colon + 1;
		size_t kn = (size_t)(colon - line), vn = ll - kn - 1;
		trim(&k, &kn);
		trim(&v, &vn);
		if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
			v++;
			vn -= 2;
		}
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			if (kn != strlen(keys[i].key) || !ascii_prefix(k, keys[i].key))
				continue;
			int f = keys[i].field;
			if (fm->v[f] == NULL) {
				fm->v[f] = strndup(v, vn);
				if (fm->v[f] == NULL)
					j->oom = true;
			}
			break;
		}
	}
	return end;
}

/* ---- HTML documents ------------------------------------------------------- */

static bool is_el(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->name != NULL &&
	       xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static bool is_el_in(const xmlNode *n, const char *const *names)
{
	for (; *names != NULL; names++)
		if (is_el(n, *names))
			return true;
	return false;
}

/* An attribute's value, borrowed; "" for one without a value, NULL when
 * absent. */
static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (a->name == NULL ||
		    xmlStrcasecmp(a->name, (const xmlChar *)name) != 0)
			continue;
		if (a->children != NULL && a->children->type == XML_TEXT_NODE &&
		    a->children->content != NULL)
			return (const char *)a->children->content;
		return "";
	}
	return NULL;
}

/* The node after n in document order within root; its children are
 * skipped unless descend.  Iterative: hostile nesting must not exhaust the
 * stack. */
static xmlNode *next_node(xmlNode *n, const xmlNode *root, bool descend)
{
	if (descend && n->children != NULL)
		return n->children;
	while (n != NULL && n != root) {
		if (n->next != NULL)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static const char *const excluded_elements[] = {
	"script", "style", "noscript", "template", "nav", "header", "footer",
	"aside", "head", "title", NULL,
};

static bool excluded(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE &&
	       (is_el_in(n, excluded_elements) || attr(n, "hidden") != NULL);
}

static const char *const inline_elements[] = {
	"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em",
	"font", "i", "kbd", "mark", "q", "s", "samp", "small", "span",
	"strong", "sub", "sup", "time", "u", "var", "wbr", NULL,
};

/* Text of the subtree at root without excluded elements (and without
 * `skip`), at most max bytes kept; a space between blocks so that words
 * of adjacent paragraphs do not run together.  Words are counted over all
 * of it when w is not NULL. */
static void gather_text(struct folio_buf *b, xmlNode *root, const xmlNode *skip,
			size_t max, struct word_count *w)
{
	xmlNode *n = root;

	while (n != NULL) {
		bool descend = true;
		if (n->type == XML_ELEMENT_NODE) {
			if (n != root && (excluded(n) || n == skip)) {
				descend = false;
			} else if (!is_el_in(n, inline_elements)) {
				if (b->len < max)
					folio_buf_addn(b, " ", 1);
				if (w != NULL)
					w->in = false;
			}
		} else if ((n->type == XML_TEXT_NODE ||
			    n->type == XML_CDATA_SECTION_NODE) &&
			   n->content != NULL) {
			const char *t = (const char *)n->content;
			size_t tn = strlen(t);
			if (w != NULL)
				count_words(w, t, tn);
			if (b->len < max) {
				size_t k = tn < max - b->len ? tn : max - b->len;
				while (k < tn && k > 0 && ((unsigned char)t[k] & 0xc0) == 0x80)
					k--;
				folio_buf_addn(b, t, k);
			} else if (w == NULL) {
				return;
			}
		}
		n = next_node(n, root, descend);
	}
}

/* The gathered text in b as one clean line of at most max bytes (NULL when
 * empty or out of memory); b's memory is freed. */
static char *take_line(struct job *j, struct folio_buf *b, size_t max)
{
	char *s = NULL;
	if (b->oom)
		j->oom = true;
	else if (b->p != NULL)
		s = clean_line(j, b->p, b->len, max);
	free(b->p);
	b->p = NULL;
	return s;
}

static char *node_line(struct job *j, xmlNode *n, size_t max)
{
	struct folio_buf b = {0};

	gather_text(&b, n, NULL, 4 * max + 64, NULL);
	return take_line(j, &b, max);
}

struct html_scan {
	/* meta, borrowed from the document */
	const char *og_title, *site_name, *app_name, *published, *date_meta,
		*author, *article_author, *description, *og_description, *og_image;
	xmlNode *html, *body, *title, *h1, *main, *article, *time;
	xmlNode *before_h1[BEFORE_H1_MAX]; /* images before the first h1 or h2 */
	size_t nbefore_h1;
	bool before_h1_overflow;
	bool heading_seen; /* an h1 or h2: section pages (DocBook's) have no h1 */
};

static const char *const date_names[] = {"date", "dc.date", "dc.date.issued", "pubdate", NULL};

static void scan_meta(struct html_scan *h, const xmlNode *n)
{
	const char *name = attr(n, "name"), *prop = attr(n, "property");
	const char *content = attr(n, "content");

	if (content == NULL)
		return;
	if (prop == NULL)
		prop = name; /* og: tags often come as name= */
	if (prop != NULL) {
		if (ascii_caseeq(prop, "og:title") && h->og_title == NULL)
			h->og_title = content;
		else if (ascii_caseeq(prop, "og:site_name") && h->site_name == NULL)
			h->site_name = content;
		else if (ascii_caseeq(prop, "og:description") && h->og_description == NULL)
			h->og_description = content;
		else if (ascii_caseeq(prop, "og:image") && h->og_image == NULL)
			h->og_image = content;
		else if (ascii_caseeq(prop, "article:published_time") && h->published == NULL)
			h->published = content;
		else if (ascii_caseeq(prop, "article:author") && h->article_author == NULL)
			h->article_author = content;
	}
	if (name == NULL)
		return;
	if (ascii_caseeq(name, "application-name") && h->app_name == NULL)
		h->app_name = content;
	else if (ascii_caseeq(name, "author") && h->author == NULL)
		h->author = content;
	else if (ascii_caseeq(name, "description") && h->description == NULL)
		h->description = content;
	for (int i = 0; date_names[i] != NULL; i++)
		if (ascii_caseeq(name, date_names[i]) && h->date_meta == NULL)
			h->date_meta = content;
}

static const char *const src_elements[] = {
	"img", "script", "iframe", "frame", "audio", "video", "source", "embed",
	"track", "input", NULL,
};
static const char *const link_loads[] = {
	"stylesheet", "icon", "preload", "prefetch", "manifest", NULL,
};

static void scan_remote(struct job *j, struct remote_list *r, xmlNode *n)
{
	const char *v;

	if (is_el_in(n, src_elements) && (v = attr(n, "src")) != NULL)
		remote_add(j, r, v, strlen(v));
	if ((is_el(n, "img") || is_el(n, "source")) && (v = attr(n, "srcset")) != NULL)
		remote_add_srcset(j, r, v);
	if (is_el(n, "link") && (v = attr(n, "rel")) != NULL) {
		for (int i = 0; link_loads[i] != NULL; i++) {
			const char *href = attr(n, "href");
			if (ascii_contains(v, link_loads[i]) && href != NULL) {
				remote_add(j, r, href, strlen(href));
				break;
			}
		}
	}
	if (is_el(n, "object") && (v = attr(n, "data")) != NULL)
		remote_add(j, r, v, strlen(v));
	if (is_el(n, "video") && (v = attr(n, "poster")) != NULL)
		remote_add(j, r, v, strlen(v));
	if ((v = attr(n, "background")) != NULL)
		remote_add(j, r, v, strlen(v));
	if ((v = attr(n, "style")) != NULL)
		remote_add_css(j, r, v);
	if (is_el(n, "style")) {
		for (xmlNode *c = n->children; c != NULL; c = c->next)
			if (c->content != NULL)
				remote_add_css(j, r, (const char *)c->content);
	}
}

/* One pass over the whole document for what is found anywhere. */
static void scan_document(struct job *j, xmlDoc *doc, struct html_scan *h,
			  struct remote_list *r)
{
	xmlNode *root = xmlDocGetRootElement(doc);

	memset(h, 0, sizeof *h);
	for (xmlNode *n = root; n != NULL; n = next_node(n, root, true)) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (r != NULL)
			scan_remote(j, r, n);
		if (is_el(n, "meta"))
			scan_meta(h, n);
		else if (is_el(n, "html") && h->html == NULL)
			h->html = n;
		else if (is_el(n, "body") && h->body == NULL)
			h->body = n;
		else if (is_el(n, "title") && h->title == NULL)
			h->title = n;
		else if (is_el(n, "h1") && h->h1 == NULL)
			h->h1 = n;
		else if (is_el(n, "main") && h->main == NULL)
			h->main = n;
		else if (is_el(n, "article") && h->article == NULL)
			h->article = n;
		else if (is_el(n, "time") && h->time == NULL && attr(n, "datetime") != NULL)
			h->time = n;
		else if (is_el(n, "img") && !h->heading_seen) {
			if (h->nbefore_h1 < BEFORE_H1_MAX)
				h->before_h1[h->nbefore_h1++] = n;
			else
				h->before_h1_overflow = true;
		}
		if (is_el(n, "h1") || is_el(n, "h2"))
			h->heading_seen = true;
	}
}

static const char *const furniture_words[] = {
	"banner", "logo", "nav", "menu", "header", "footer", "sidebar", "share",
	"social", "icon", "avatar", "advert", NULL,
};

static bool furniture_marked(const xmlNode *n)
{
	const char *v[2] = {attr(n, "id"), attr(n, "class")};

	for (int k = 0; k < 2; k++)
		for (int i = 0; v[k] != NULL && furniture_words[i] != NULL; i++)
			if (ascii_contains(v[k], furniture_words[i]))
				return true;
	return false;
}

static bool small_dimension(const char *v)
{
	int x = 0, i = 0;

	if (v == NULL)
		return false;
	while (v[i] == ' ')
		i++;
	if (!ascii_digit(v[i]))
		return false;
	for (; ascii_digit(v[i]) && x < 100000; i++)
		x = x * 10 + (v[i] - '0');
	return x < IMAGE_MIN_SIZE;
}

/* The first image in scope that is content, not page furniture, and lies
 * in the edition. */
static char *find_lead_image(struct job *j, const struct html_scan *h,
			     xmlNode *scope, const char *path, bool skip_before_h1)
{
	static const char *const furniture_elements[] = {
		"header", "nav", "footer", "aside", "script", "noscript",
		"template", NULL,
	};
	unsigned looked = 0;

	for (xmlNode *n = scope; n != NULL && looked < 1000;) {
		bool descend = true;
		if (n->type == XML_ELEMENT_NODE && n != scope &&
		    (is_el_in(n, furniture_elements) || attr(n, "hidden") != NULL)) {
			descend = false;
		} else if (is_el(n, "img")) {
			bool skip = false;
			looked++;
			if (skip_before_h1 && !h->before_h1_overflow)
				for (size_t i = 0; i < h->nbefore_h1 && !skip; i++)
					skip = h->before_h1[i] == n;
			if (small_dimension(attr(n, "width")) || small_dimension(attr(n, "height")))
				skip = true;
			for (const xmlNode *p = n; !skip && p != NULL && p != scope; p = p->parent)
				skip = furniture_marked(p);
			if (!skip) {
				char *img = resolve_ref(j, path, attr(n, "src"));
				if (img != NULL)
					return img;
			}
		}
		n = next_node(n, scope, descend);
	}
	return NULL;
}

/* The first <p> of at least LEAD_PARAGRAPH_CHARS characters in scope. */
/* A <p>, or a <div> holding only text and inline elements: DocBook and
 * many CMSs write their paragraphs as <div class="para">. */
static bool is_paragraph(const xmlNode *n)
{
	static const char *const blocks[] = {
		"p", "div", "ul", "ol", "dl", "table", "pre", "blockquote", "section",
		"article", "aside", "header", "footer", "nav", "main", "figure", "form",
		"hr", "h1", "h2", "h3", "h4", "h5", "h6", "address", "details", NULL,
	};
	if (is_el(n, "p"))
		return true;
	if (!is_el(n, "div"))
		return false;
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (is_el_in(c, blocks))
			return false;
	return true;
}

static char *find_lead_paragraph(struct job *j, xmlNode *scope, const xmlNode *skip)
{
	for (xmlNode *n = scope; n != NULL;) {
		bool descend = true;
		if (n->type == XML_ELEMENT_NODE && n != scope && (excluded(n) || n == skip)) {
			descend = false;
		} else if (is_paragraph(n)) {
			struct folio_buf b = {0};
			gather_text(&b, n, NULL, PARAGRAPH_PROBE, NULL);
			char *s = take_line(j, &b, PARAGRAPH_PROBE);
			if (j->oom) {
				free(s);
				return NULL;
			}
			if (s != NULL && u8_mbsnlen((const uint8_t *)s, strlen(s)) >= LEAD_PARAGRAPH_CHARS) {
				char *sum = summary_from(j, s, strlen(s));
				free(s);
				return sum;
			}
			free(s);
			descend = false;
		}
		n = next_node(n, scope, descend);
	}
	return NULL;
}

static const char *const title_separators[] = {
	" | ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", " - ", NULL,
};

static bool same_text(const char *a, size_t an, const char *b)
{
	int cmp;

	return u8_casecmp((const uint8_t *)a, an, (const uint8_t *)b, strlen(b),
			  NULL, NULL, &cmp) == 0 && cmp == 0;
}

/* "Headline | Site" and "Site - Headline" without the site's name. */
static void drop_site_name(char *title, const char *site)
{
	size_t n = strlen(title), first = SIZE_MAX, last = 0, firstlen = 0, lastlen = 0;

	if (site == NULL || *site == '\0')
		return;
	for (int i = 0; title_separators[i] != NULL; i++) {
		const char *sep = title_separators[i];
		size_t sl = strlen(sep);
		for (const char *p = strstr(title, sep); p != NULL; p = strstr(p + 1, sep)) {
			size_t at = (size_t)(p - title);
			if (at < first) {
				first = at;
				firstlen = sl;
			}
			if (at >= last) {
				last = at;
				lastlen = sl;
			}
		}
	}
	if (first == SIZE_MAX)
		return;
	if (same_text(title + last + lastlen, n - last - lastlen, site)) {
		title[last] = '\0';
	} else if (same_text(title, first, site)) {
		memmove(title, title + first + firstlen, n - first - firstlen + 1);
	}
}

/* The file's name without folder and extension: the title of last resort. */
static char *name_title(struct job *j, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	char *t = clean_line(j, base, n, FOLIO_TITLE_MAX);

	return t != NULL ? t : job_strdup(j, "untitled");
}

static xmlDoc *parse_html(const char *data, size_t len, const char *encoding)
{
	if (len > INT32_MAX)
		len = INT32_MAX;
	return htmlReadMemory(len > 0 ? data : " ", len > 0 ? (int)len : 1, NULL, encoding,
			      HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				      HTML_PARSE_NONET | HTML_PARSE_RECOVER);
}

/* "UTF-8" unless the document names its own encoding near its start, as
 * browsers would look for it. */
static const char *html_encoding(const char *data, size_t len)
{
	size_t n = len < 1024 ? len : 1024;

	for (size_t i = 0; i + 9 <= n; i++) {
		if (ascii_prefix(data + i, "charset=") || ascii_prefix(data + i, "encoding=")) {
			const char *v = data + i + (data[i] == 'c' || data[i] == 'C' ? 8 : 9);
			size_t left = n - (size_t)(v - data);
			while (left > 0 && (*v == '"' || *v == '\'' || *v == ' ')) {
				v++;
				left--;
			}
			if (left >= 5 && ascii_prefix(v, "utf-8"))
				return "UTF-8";
			if (left >= 4 && ascii_prefix(v, "utf8"))
				return "UTF-8";
			return NULL;
		}
	}
	return "UTF-8";
}

/* text = title "\n" main text, at most TEXT_MAX bytes. */
static char *article_text(struct job *j, const char *title, const char *main_text)
{
	struct folio_buf b = {0};
	size_t room;

	folio_buf_add(&b, title);
	folio_buf_addn(&b, "\n", 1);
	if (main_text != NULL && b.len < TEXT_MAX) {
		size_t mn = strlen(main_text);
		room = TEXT_MAX - b.len;
		if (mn > room) {
			mn = room;
			while (mn > 0 && ((unsigned char)main_text[mn] & 0xc0) == 0x80)
				mn--;
		}
		folio_buf_addn(&b, main_text, mn);
	}
	return job_take(j, &b);
}

/* The main text of a page (whitespace collapsed) and its words. */
static char *main_text_of(struct job *j, xmlNode *scope, const xmlNode *skip,
			  uint64_t *words)
{
	struct folio_buf b = {0};
	struct word_count w = {0, false};

	if (scope != NULL)
		gather_text(&b, scope, skip, TEXT_MAX, &w);
	*words = w.words;
	return take_line(j, &b, TEXT_MAX);
}

static void set_lang_dir(struct job *j, struct folio_article *a, const char *lang,
			 const char *dir)
{
	struct detection d = {NULL, NULL, S_OTHER};

	if (lang == NULL || dir == NULL)
		detect(a->text != NULL ? a->text : "", a->text != NULL ? strlen(a->text) : 0,
		       dir, &d);
	if (dir == NULL)
		dir = lang != NULL ? dir_for_lang(lang) : d.dir;
	if (lang == NULL)
		lang = d.lang;
	a->lang = job_strdup(j, lang);
	a->dir = job_strdup(j, dir);
}

/* The language markup gives the element, inherited as HTML inherits it:
 * DocBook pages declare it on the chapter, not on <html>. */
static const char *declared_lang(const xmlNode *n)
{
	for (; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
		const char *l = attr(n, "lang");
		if (lang_valid(l))
			return l;
		l = attr(n, "xml:lang");
		if (lang_valid(l))
			return l;
	}
	return NULL;
}

static void read_html(struct job *j, const char *data, size_t len, struct folio_article *a)
{
	xmlDoc *doc = parse_html(data, len, html_encoding(data, len));
	struct html_scan h;
	struct remote_list r = {NULL, 0};
	const char *lang = NULL, *dir = NULL;

	if (doc == NULL) {
		a->title = name_title(j, j->path);
		a->text = article_text(j, a->title != NULL ? a->title : "", NULL);
		set_lang_dir(j, a, NULL, NULL);
		return;
	}
	scan_document(j, doc, &h, &r);
	a->remote = r.v;
	a->nremote = r.n;

	/* title */
	if (h.og_title != NULL)
		a->title = clean_line(j, h.og_title, strlen(h.og_title), FOLIO_TITLE_MAX);
	if (a->title == NULL && h.title != NULL) {
		a->title = node_line(j, h.title, FOLIO_TITLE_MAX);
		if (a->title != NULL) {
			const char *site = h.site_name != NULL ? h.site_name : h.app_name;
			char *s = site != NULL ? clean_line(j, site, strlen(site), FOLIO_TITLE_MAX) : NULL;
			drop_site_name(a->title, s);
			free(s);
			if (a->title[0] == '\0') {
				free(a->title);
				a->title = NULL;
			}
		}
	}
	if (a->title == NULL && h.h1 != NULL)
		a->title = node_line(j, h.h1, FOLIO_TITLE_MAX);
	if (a->title == NULL)
		a->title = name_title(j, j->path);

	/* main text */
	xmlNode *scope = h.main != NULL ? h.main : h.article;
	xmlNode *body = h.body != NULL ? h.body : xmlDocGetRootElement(doc);
	char *main_text = main_text_of(j, scope != NULL ? scope : body, NULL, &a->words);
	a->text = article_text(j, a->title != NULL ? a->title : "", main_text);
	free(main_text);

	/* language and direction: markup first */
	if (h.html != NULL) {
		lang = attr(h.html, "lang");
		if (!lang_valid(lang))
			lang = attr(h.html, "xml:lang");
		dir = dir_valid(attr(h.html, "dir"));
	}
	if (!lang_valid(lang) && h.body != NULL) {
		lang = attr(h.body, "lang");
		if (!lang_valid(lang))
			lang = attr(h.body, "xml:lang");
	}
	if (dir == NULL && h.body != NULL)
		dir = dir_valid(attr(h.body, "dir"));
	if (!lang_valid(lang))
		lang = declared_lang(scope != NULL ? scope : h.h1);
	set_lang_dir(j, a, lang_valid(lang) ? lang : NULL, dir);

	/* date */
	a->date = normalise_date(j, h.published);
	if (a->date == NULL)
		a->date = normalise_date(j, h.date_meta);
	if (a->date == NULL && h.time != NULL)
		a->date = normalise_date(j, attr(h.time, "datetime"));

	/* author */
	if (h.author != NULL)
		a->author = clean_line(j, h.author, strlen(h.author), AUTHOR_MAX);
	if (a->author == NULL && h.article_author != NULL) {
		char *u = url_normalise(h.article_author);
		if (u == NULL)
			j->oom = true;
		else if (!url_is_remote(u) && scheme_length(u, strlen(u)) == 0 && u[0] != '/')
			a->author = clean_line(j, h.article_author,
					       strlen(h.article_author), AUTHOR_MAX);
		free(u);
	}

	/* summary */
	const char *desc = h.description != NULL && *h.description != '\0'
				   ? h.description : h.og_description;
	if (desc != NULL)
		a->summary = summary_from(j, desc, strlen(desc));
	if (a->summary == NULL)
		a->summary = find_lead_paragraph(j, scope != NULL ? scope : body, NULL);

	/* lead image */
	if (h.og_image != NULL)
		a->image = resolve_ref(j, a->path, h.og_image);
	if (a->image == NULL && scope != NULL)
		a->image = find_lead_image(j, &h, scope, a->path, false);
	if (a->image == NULL && body != NULL)
		a->image = find_lead_image(j, &h, body, a->path, true);

	xmlFreeDoc(doc);
}

/* ---- rendered pages ------------------------------------------------------- */

#define PAGE_CSP "default-src 'none'; img-src 'self' file: data:; " \
	"media-src 'self' file: data:; style-src 'unsafe-inline'"

static const char page_css[] =
	"html{color-scheme:light dark}"
	"body{margin:0 auto;max-width:38em;padding:1em 1.2em 3em;line-height:1.7;"
	"font-family:system-ui,\"Noto Naskh Arabic\",\"Noto Sans Arabic\",Tahoma,"
	"\"DejaVu Sans\",sans-serif;color:#1d1d1b;background:#fdfcf8}"
	"h1{line-height:1.3;margin:.4em 0}"
	"img{max-width:100%;height:auto;position:relative}"
	/* A missing image (the text layer alone): a box of the image's shape
	 * holding its alt text.  Width and height make the box; a broken image
	 * would otherwise be a line of text.  ::after shows only when the
	 * image is not drawn, so nothing covers one that loads. */
	"img[width][height]{display:inline-block;vertical-align:bottom}"
	"img[width][height]::after{content:attr(alt);position:absolute;top:0;left:0;"
	"width:100%;height:100%;box-sizing:border-box;overflow:hidden;padding:.5em .8em;"
	"border:1px solid #c9c5b9;background:#f1efe8;color:#66645e;font-size:.9em;"
	"line-height:1.5;text-align:start;unicode-bidi:plaintext}"
	"a{color:#0b57a4}"
	"nav{font-size:.9em}"
	".byline{color:#66645e;font-size:.92em}"
	"pre{overflow-x:auto;padding:.6em;background:#f1efe8}"
	"code{font-size:.92em}"
	"blockquote{margin:1em 0;padding-inline-start:1em;"
	"border-inline-start:3px solid #c9c5b9;color:#45433e}"
	"table{border-collapse:collapse}th,td{border:1px solid #c9c5b9;padding:.2em .5em}"
	"@media (prefers-color-scheme:dark){body{color:#e6e4de;background:#1a1a18}"
	"a{color:#8ab4f8}.byline{color:#a19e95}pre{background:#262624}"
	"blockquote{color:#c8c5bd;border-color:#55524b}"
	"img[width][height]::after{background:#262624;border-color:#55524b;color:#a19e95}}";

static void render_page(struct folio_buf *b, const struct folio_article *a,
			const struct folio_render *r, const char *body, size_t body_len)
{
	folio_buf_add(b, "<!DOCTYPE html>\n<html");
	if (a->lang != NULL) {
		folio_buf_add(b, " lang=\"");
		folio_buf_html(b, a->lang);
		folio_buf_add(b, "\"");
	}
	folio_buf_add(b, " dir=\"");
	folio_buf_html(b, a->dir);
	folio_buf_add(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"");
	folio_buf_add(b, PAGE_CSP); /* constant, without '"' or '&' */
	folio_buf_add(b, "\">\n<title>");
	folio_buf_html(b, a->title);
	folio_buf_add(b, "</title>\n<style>");
	folio_buf_add(b, page_css);
	folio_buf_add(b, "</style>\n</head>\n<body>\n");
	if (r != NULL && r->has_index) {
		folio_buf_add(b, "<nav><a href=\"");
		for (const char *p = strchr(a->path, '/'); p != NULL; p = strchr(p + 1, '/'))
			folio_buf_add(b, "../");
		folio_buf_add(b, "index.html\" dir=\"auto\">");
		folio_buf_html(b, r->edition_title != NULL && *r->edition_title != '\0'
				       ? r->edition_title : "index");
		folio_buf_add(b, "</a></nav>\n");
	}
	folio_buf_add(b, "<article>\n<h1 dir=\"auto\">");
	folio_buf_html(b, a->title);
	folio_buf_add(b, "</h1>\n");
	if (a->author != NULL || a->date != NULL) {
		folio_buf_add(b, "<p class=\"byline\" dir=\"auto\">");
		if (a->author != NULL)
			folio_buf_html(b, a->author);
		if (a->author != NULL && a->date != NULL)
			folio_buf_add(b, " \xc2\xb7 ");
		if (a->date != NULL) {
			folio_buf_add(b, "<time datetime=\"");
			folio_buf_html(b, a->date);
			folio_buf_add(b, "\">");
			folio_buf_addn(b, a->date, strnlen(a->date, 10));
			folio_buf_add(b, "</time>");
		}
		folio_buf_add(b, "</p>\n");
	}
	folio_buf_addn(b, body, body_len);
	folio_buf_add(b, "</article>\n</body>\n</html>\n");
}

/* md4c's HTML with width and height added to each image whose size the
 * edition knows, so that a page whose images are missing (the text layer
 * alone) keeps its layout and its placeholders their shape.  With raw HTML
 * off, every "<img src=\"" is md4c's own, written as
 * <img src="URL" alt="TEXT"[ title="TEXT"]>, "&<>\"" escaped in the values:
 * the first '>' ends the tag. */
static void add_image_sizes(struct job *j, const char *article, const struct folio_render *r,
			    const char *html, size_t n, struct folio_buf *out)
{
	static const char img_open[] = "<img src=\"";
	const char *p = html, *end = html + n;

	while (p < end) {
		const char *tag = memmem(p, (size_t)(end - p), img_open, sizeof img_open - 1);
		const char *src = tag != NULL ? tag + sizeof img_open - 1 : NULL;
		const char *quote = src != NULL ? memchr(src, '"', (size_t)(end - src)) : NULL;
		const char *close = quote != NULL ? memchr(quote, '>', (size_t)(end - quote)) : NULL;
		if (close == NULL) {
			folio_buf_addn(out, p, (size_t)(end - p));
			break;
		}
		folio_buf_addn(out, p, (size_t)(close - p));
		p = close;
		/* The URL as md4c escaped it: percent-encoded bytes (resolve_ref
		 * decodes them), '&' and '\'' as references. */
		struct folio_buf url = {0};
		for (const char *c = src; c < quote; c++) {
			if (*c == '&' && quote - c >= 5 && memcmp(c, "&amp;", 5) == 0) {
				folio_buf_addc(&url, '&');
				c += 4;
			} else if (*c == '&' && quote - c >= 6 && memcmp(c, "&#x27;", 6) == 0) {
				folio_buf_addc(&url, '\'');
				c += 5;
			} else {
				folio_buf_addc(&url, *c);
			}
		}
		folio_buf_addc(&url, '\0');
		if (url.oom) {
			j->oom = true;
			free(url.p);
			return;
		}
		char *path = resolve_ref(j, article, url.p);
		unsigned w, h;
		free(url.p);
		if (path != NULL && r->image_size(r->image_size_arg, path, &w, &h)) {
			folio_buf_add(out, " width=\"");
			folio_buf_addu(out, w);
			folio_buf_add(out, "\" height=\"");
			folio_buf_addu(out, h);
			folio_buf_addc(out, '"');
		}
		free(path);
	}
}

/* The edition path of the page rendered from path. */
static char *rendered_path(struct job *j, const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base != NULL ? base : path, '.');
	size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
	char *p = malloc(n + 6);

	if (p == NULL) {
		j->oom = true;
		return NULL;
	}
	memcpy(p, path, n);
	memcpy(p + n, ".html", 6);
	return p;
}

/* Front matter values into a, cleaned and checked. */
static void apply_front_matter(struct job *j, const struct front_matter *fm,
			       struct folio_article *a, const char **lang, const char **dir)
{
	const char *const *v = (const char *const *)fm->v;

	if (v[FM_TITLE] != NULL)
		a->title = clean_line(j, v[FM_TITLE], strlen(v[FM_TITLE]), FOLIO_TITLE_MAX);
	if (v[FM_AUTHOR] != NULL)
		a->author = clean_line(j, v[FM_AUTHOR], strlen(v[FM_AUTHOR]), AUTHOR_MAX);
	if (v[FM_SUMMARY] != NULL)
		a->summary = summary_from(j, v[FM_SUMMARY], strlen(v[FM_SUMMARY]));
	a->date = normalise_date(j, v[FM_DATE]);
	if (v[FM_IMAGE] != NULL)
		a->image = resolve_ref(j, a->path, v[FM_IMAGE]);
	*lang = lang_valid(v[FM_LANG]) ? v[FM_LANG] : NULL;
	*dir = dir_valid(v[FM_DIR]);
}

static void md_output(const MD_CHAR *s, MD_SIZE n, void *userdata)
{
	folio_buf_addn(userdata, s, n);
}

static void read_markdown(struct job *j, const char *s, size_t n,
			  const struct folio_render *r, struct folio_article *a,
			  struct folio_buf *page)
{
	struct front_matter fm;
	const char *lang, *dir;
	struct folio_buf html = {0};
	size_t at = front_matter_parse(j, s, n, &fm);

	apply_front_matter(j, &fm, a, &lang, &dir);
	if (md_html(s + at, (MD_SIZE)(n - at), md_output, &html,
		    MD_DIALECT_GITHUB | MD_FLAG_NOHTML, 0) != 0)
		html.oom = true;
	if (html.oom) {
		j->oom = true;
		goto out;
	}
	if (html.p == NULL)
		folio_buf_addn(&html, "", 0);

	xmlDoc *doc = parse_html(html.p, html.len, "UTF-8");
	struct html_scan h;
	struct remote_list rl = {NULL, 0};
	xmlNode *body = NULL, *first = NULL, *lead_h1 = NULL;
	const char *shown = html.p;
	size_t shown_len = html.len;

	if (doc != NULL) {
		scan_document(j, doc, &h, &rl);
		a->remote = rl.v;
		a->nremote = rl.n;
		body = h.body != NULL ? h.body : xmlDocGetRootElement(doc);
		for (first = body != NULL ? body->children : NULL;
		     first != NULL && first->type != XML_ELEMENT_NODE; first = first->next)
			;
	}
	if (first != NULL && is_el(first, "h1") && strncmp(html.p, "<h1>", 4) == 0) {
		char *t = node_line(j, first, FOLIO_TITLE_MAX);
		const char *close = strstr(html.p, "</h1>\n");
		if (close != NULL && t != NULL &&
		    (a->title == NULL || strcmp(a->title, t) == 0)) {
			lead_h1 = first;
			shown = close + 6;
			shown_len = html.len - (size_t)(shown - html.p);
		}
		if (a->title == NULL)
			a->title = t;
		else
			free(t);
	}
	/* Else the text of the first block that has any (a rule has none). */
	for (xmlNode *x = first; a->title == NULL && x != NULL && !j->oom; x = x->next)
		if (x->type == XML_ELEMENT_NODE)
			a->title = cut_words(j, node_line(j, x, 4 * TEXT_TITLE_CHARS),
					     TEXT_TITLE_CHARS, FOLIO_TITLE_MAX);
	if (a->title == NULL)
		a->title = name_title(j, j->path);

	char *main_text = body != NULL ? main_text_of(j, body, lead_h1, &a->words) : NULL;
	a->text = article_text(j, a->title != NULL ? a->title : "", main_text);
	free(main_text);
	set_lang_dir(j, a, lang, dir);
	if (a->summary == NULL && body != NULL)
		a->summary = find_lead_paragraph(j, body, lead_h1);
	if (a->image == NULL && body != NULL) {
		/* Every image of the body, in order: the first in the edition. */
		for (xmlNode *x = body; x != NULL && a->image == NULL; x = next_node(x, body, true))
			if (is_el(x, "img"))
				a->image = resolve_ref(j, a->path, attr(x, "src"));
	}
	if (doc != NULL)
		xmlFreeDoc(doc);
	struct folio_buf sized = {0};
	if (r != NULL && r->image_size != NULL && !j->oom) {
		add_image_sizes(j, a->path, r, shown, shown_len, &sized);
		if (sized.oom)
			j->oom = true;
		shown = sized.p != NULL ? sized.p : "";
		shown_len = sized.len;
	}
	if (!j->oom && a->title != NULL && a->dir != NULL)
		render_page(page, a, r, shown, shown_len);
	free(sized.p);
out:
	free(html.p);
	front_matter_release(&fm);
}

/* ---- plain text ----------------------------------------------------------- */

struct text_line {
	const char *s;
	size_t n;
	uint64_t words;
	size_t chars;
	enum { L_TEXT, L_PIPE, L_BULLET, L_COLON, L_ID, L_BYLINE, L_BYLINE_WEAK } kind;
	const char *name; /* of a byline */
	size_t name_n;
	bool shown;       /* rendered as a paragraph */
};

static bool starts_with_bullet(const char *s, size_t n)
{
	ucs4_t uc;

	next_char(s, n, &uc);
	return uc == '*' || uc == '-' || uc == 0x2022 || uc == 0x00b7 ||
	       uc == 0x25aa || uc == 0x2023 || uc == 0x25e6 || uc == 0x25cf;
}

/* "post-title", "share_btn": one ASCII token, a widget's name left in the
 * text by whatever copied it from a page. */
static bool is_identifier(const char *s, size_t n)
{
	bool letter = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (ascii_alpha(c))
			letter = true;
		else if (!ascii_digit(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return letter;
}

static const char *const byline_prefixes[] = {
	"By ", "by ", "Par ", "\xd8\xa8\xd9\x82\xd9\x84\xd9\x85", /* بقلم */
	"\xd9\x83\xd8\xaa\xd8\xa8\xd8\xaa",                       /* كتبت */
	"\xd9\x83\xd8\xaa\xd8\xa8",                               /* كتب */
	NULL,
};

static const char *const byline_separators[] = {" - ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", NULL};

static void classify_byline(struct text_line *l)
{
	if (l->words > BYLINE_WORDS)
		return;
	for (int i = 0; byline_prefixes[i] != NULL; i++) {
		size_t pn = strlen(byline_prefixes[i]);
		if (l->n <= pn || memcmp(l->s, byline_prefixes[i], pn) != 0)
			continue;
		const char *v = l->s + pn;
		size_t vn = l->n - pn;
		/* An Arabic verb must stand alone: كتبه is not كتب. */
		if (byline_prefixes[i][pn - 1] != ' ' && v[0] != ' ' && v[0] != ':')
			continue;
		while (vn > 0 && (v[0] == ' ' || v[0] == ':')) {
			v++;
			vn--;
		}
		if (vn == 0 || words_in(v, vn) == 0)
			continue;
		l->kind = L_BYLINE;
		l->name = v;
		l->name_n = vn;
		return;
	}
	const char *at = NULL;
	size_t sl = 0;
	for (int i = 0; byline_separators[i] != NULL; i++) {
		const char *sep = byline_separators[i];
		for (const char *p = memmem(l->s, l->n, sep, strlen(sep)); p != NULL;
		     p = memmem(p + 1, l->n - (size_t)(p + 1 - l->s), sep, strlen(sep)))
			if (at == NULL || p > at) {
				at = p;
				sl = strlen(sep);
			}
	}
	if (at == NULL)
		return;
	const char *v = at + sl;
	size_t vn = l->n - (size_t)(v - l->s);
	if (words_in(l->s, (size_t)(at - l->s)) == 0 || words_in(v, vn) == 0 ||
	    words_in(v, vn) > 4)
		return;
	for (size_t i = 0; i < vn; i++)
		if (ascii_digit(v[i]))
			return;
	l->kind = L_BYLINE_WEAK;
	l->name = v;
	l->name_n = vn;
}

static void render_paragraph(struct folio_buf *b, const char *s, size_t n)
{
	folio_buf_add(b, "<p dir=\"auto\">");
	folio_buf_htmln(b, s, n);
	folio_buf_add(b, "</p>\n");
}

static void read_text(struct job *j, const char *s, size_t n,
		      const struct folio_render *r, struct folio_article *a,
		      struct folio_buf *page)
{
	struct front_matter fm;
	const char *lang, *dir;
	struct text_line *lines = NULL;
	size_t nlines = 0, cap = 0, at = front_matter_parse(j, s, n, &fm);
	struct folio_buf body = {0}, text = {0};
	struct detection d;

	apply_front_matter(j, &fm, a, &lang, &dir);
	detect(s + at, n - at, NULL, &d);

	for (size_t pos = at; pos < n;) {
		size_t ll = line_length(s + pos, n - pos);
		const char *ls = s + pos;
		size_t ln = ll;
		pos += ll + 1;
		trim(&ls, &ln);
		if (ln == 0)
			continue;
		if (nlines == cap) {
			size_t nc = cap * 2 + 64;
			struct text_line *nl = realloc(lines, nc * sizeof *nl);
			if (nl == NULL) {
				j->oom = true;
				goto out;
			}
			lines = nl;
			cap = nc;
		}
		struct text_line *l = &lines[nlines++];
		memset(l, 0, sizeof *l);
		l->s = ls;
		l->n = ln;
		l->words = words_in(ls, ln);
		l->chars = u8_mbsnlen((const uint8_t *)ls, ln);
		l->kind = L_TEXT;
	}

	/* The head: the lines before the first paragraph of running text. */
	size_t first_body = nlines, title_at = SIZE_MAX, author_at = SIZE_MAX;
	for (size_t i = 0; i < nlines; i++)
		if (lines[i].words >= BODY_LINE_WORDS || lines[i].chars >= BODY_LINE_CHARS) {
			first_body = i;
			break;
		}
	size_t head = first_body;
	if (a->title != NULL)
		head = 0;
	else if (first_body == nlines)
		head = nlines > 0 ? 1 : 0; /* no running text: a heading, then lines */

	bool candidate_seen = false;
	for (size_t i = 0; i < head; i++) {
		struct text_line *l = &lines[i];
		if (memmem(l->s, l->n, " | ", 3) != NULL)
			l->kind = L_PIPE;
		else if (starts_with_bullet(l->s, l->n))
			l->kind = L_BULLET;
		else if (l->s[l->n - 1] == ':')
			l->kind = L_COLON;
		else if (d.major != S_LATIN && is_identifier(l->s, l->n))
			l->kind = L_ID;
		else
			classify_byline(l);
		/* "Outlet - Name" is a byline only after something else:
		 * a first line like that is more likely the headline. */
		if (l->kind == L_BYLINE_WEAK && !candidate_seen)
			l->kind = L_TEXT;
		if (l->kind == L_TEXT)
			candidate_seen = true;
	}
	if (head == 1 && first_body == nlines)
		lines[0].kind = L_TEXT;
	for (size_t i = 0; i < head; i++)
		if (lines[i].kind == L_TEXT &&
		    (title_at == SIZE_MAX || lines[i].words > lines[title_at].words))
			title_at = i;
	if (a->title == NULL && title_at != SIZE_MAX) {
		a->title = cut_words(j, clean_line(j, lines[title_at].s, lines[title_at].n,
						   4 * TEXT_TITLE_CHARS),
				     TEXT_TITLE_CHARS, FOLIO_TITLE_MAX);
	}
	if (a->title == NULL) {
		/* Only furniture: the longest part of a "Site | Section" line. */
		const char *best = NULL;
		size_t best_n = 0;
		for (size_t i = 0; i < head; i++) {
			if (lines[i].kind != L_PIPE)
				continue;
			const char *p = lines[i].s, *end = p + lines[i].n;
			while (p < end) {
				const char *q = memmem(p, (size_t)(end - p), " | ", 3);
				size_t pn = q != NULL ? (size_t)(q - p) : (size_t)(end - p);
				if (pn > best_n) {
					best = p;
					best_n = pn;
				}
				p = q != NULL ? q + 3 : end;
			}
		}
		if (best != NULL)
			a->title = clean_line(j, best, best_n, FOLIO_TITLE_MAX);
	}
	if (a->title == NULL && head == 0 && nlines > 0)
		a->title = cut_words(j, clean_line(j, lines[0].s, lines[0].n, 4 * TEXT_TITLE_CHARS),
				     TEXT_TITLE_CHARS, FOLIO_TITLE_MAX);
	if (a->title == NULL && nlines > 0)
		a->title = cut_words(j, clean_line(j, lines[0].s, lines[0].n, 4 * TEXT_TITLE_CHARS),
				     TEXT_TITLE_CHARS, FOLIO_TITLE_MAX);
	if (a->title == NULL)
		a->title = name_title(j, j->path);
	for (size_t i = title_at != SIZE_MAX ? title_at + 1 : 0; i < head; i++)
		if (lines[i].kind == L_BYLINE || lines[i].kind == L_BYLINE_WEAK) {
			author_at = i;
			break;
		}
	if (a->author == NULL && author_at != SIZE_MAX)
		a->author = clean_line(j, lines[author_at].name, lines[author_at].name_n,
				       AUTHOR_MAX);

	/* What is shown: head lines that are not furniture, then the rest. */
	struct word_count w = {0, false};
	const struct text_line *lead = NULL;
	for (size_t i = 0; i < nlines; i++) {
		struct text_line *l = &lines[i];
		if (i < head && (l->kind != L_TEXT || i == title_at))
			continue;
		if (i == 0 && head == 0 && a->title != NULL && nlines > 1 &&
		    l->n == strlen(a->title) && memcmp(l->s, a->title, l->n) == 0)
			continue; /* the title again, as the front matter gave it */
		render_paragraph(&body, l->s, l->n);
		w.in = false;
		count_words(&w, l->s, l->n);
		if (text.len < TEXT_MAX) {
			folio_buf_addn(&text, " ", 1);
			folio_buf_addn(&text, l->s, l->n < TEXT_MAX ? l->n : TEXT_MAX);
		}
		if (i >= first_body && lead == NULL)
			lead = l;
	}
	if (lead == NULL && first_body == nlines) {
		for (size_t i = head; i < nlines && lead == NULL; i++)
			lead = &lines[i];
	}
	a->words = w.words;
	if (a->summary == NULL && lead != NULL)
		a->summary = summary_from(j, lead->s, lead->n);
	if (text.oom || body.oom) {
		j->oom = true;
		goto out;
	}
	char *main_text = text.p != NULL ? clean_line(j, text.p, text.len, TEXT_MAX) : NULL;
	a->text = article_text(j, a->title != NULL ? a->title : "", main_text);
	free(main_text);
	set_lang_dir(j, a, lang, dir);
	if (!j->oom && a->title != NULL && a->dir != NULL)
		render_page(page, a, r, body.p != NULL ? body.p : "", body.len);
out:
	free(lines);
	free(body.p);
	free(text.p);
	front_matter_release(&fm);
}

/* ---- entry points --------------------------------------------------------- */

int folio_article_kind(const char *path)
{
	static const char *const html[] = {"html", "htm", "xhtml", NULL};
	static const char *const text[] = {"md", "markdown", "txt", NULL};
	const char *base, *dot;

	if (path == NULL)
		return 0;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return 0;
	for (int i = 0; html[i] != NULL; i++)
		if (ascii_caseeq(dot + 1, html[i]))
			return 1;
	for (int i = 0; text[i] != NULL; i++)
		if (ascii_caseeq(dot + 1, text[i]))
			return 2;
	return 0;
}

/* A copy of Markdown or text input fit for the parsers: LF line ends, and
 * controls (NUL included) as spaces, since nothing stored or shown may
 * hold one. */
static char *plain_copy(const char *s, size_t n, size_t *out_n)
{
	char *c = malloc(n + 1);
	size_t o = 0;

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			c[o++] = '\n';
		} else if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
			c[o++] = ' ';
		} else if (ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
			   (unsigned char)s[i + 1] < 0xa0) {
			c[o++] = ' '; /* a C1 control */
			c[o++] = ' ';
			i++;
		} else {
			c[o++] = (char)ch;
		}
	}
	c[o] = '\0';
	*out_n = o;
	return c;
}

int folio_article_read(folio_ctx *ctx, const char *path, const char *data,
		       size_t len, const struct folio_render *r,
		       struct folio_article *a, char **page, size_t *page_len)
{
	struct job j = {ctx, path, false};
	struct folio_buf out = {0};
	size_t skip = 0;
	int kind;

	memset(a, 0, sizeof *a);
	if (page != NULL)
		*page = NULL;
	if (page_len != NULL)
		*page_len = 0;
	if (path == NULL || (data == NULL && len > 0))
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot read an article: no path or data");
	kind = folio_article_kind(path);
	if (kind == 0)
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "cannot read '%s': not an article (html, md or txt)", path);
	if (data == NULL)
		data = "";
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		skip = 3;

	if (kind == 1) {
		a->path = job_strdup(&j, path);
		if (a->path != NULL)
			read_html(&j, data + skip, len - skip, a);
	} else {
		const uint8_t *bad = u8_check((const uint8_t *)data + skip, len - skip);
		if (bad != NULL)
			return folio_fail(ctx, FOLIO_EREJECT,
					  "cannot read '%s': not UTF-8 text (byte %zu)",
					  r != NULL && r->name != NULL ? r->name : path,
					  (size_t)(bad - (const uint8_t *)data) + 1);
		size_t n;
		char *copy = plain_copy(data + skip, len - skip, &n);
		a->source = job_strdup(&j, path);
		a->path = rendered_path(&j, path);
		if (copy == NULL) {
			j.oom = true;
		} else if (a->path != NULL && a->source != NULL) {
			const char *ext = strrchr(path, '.');
			if (ascii_caseeq(ext, ".txt"))
				read_text(&j, copy, n, r, a, &out);
			else
				read_markdown(&j, copy, n, r, a, &out);
		}
		free(copy);
	}
	if (!j.oom && (a->title == NULL || a->dir == NULL))
		j.oom = true;
	if (j.oom || out.oom) {
		folio_article_release(a);
		free(out.p);
		return folio_fail(ctx, FOLIO_ESYSTEM, "cannot read '%s': out of memory", path);
	}
	if (kind == 2) {
		if (page != NULL) {
			*page = out.p;
			if (page_len != NULL)
				*page_len = out.len;
		} else {
			free(out.p);
		}
	}
	return FOLIO_OK;
}
