/* SPDX-License-Identifier: ISC */
/* What a path inside an edition may look like, and what a file is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicase.h>
#include <unistr.h>
#include <uninorm.h>

#include "folio-internal.h"

#define COMPONENT_MAX 255

/* Length of the valid UTF-8 sequence at s (shortest form, no surrogates,
 * at most U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool folio_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		size_t n = utf8_sequence(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

const char *folio_path_problem(const char *path, size_t max_len,
			       unsigned max_depth)
{
	size_t len = strlen(path);
	if (len == 0)
		return "empty path";
	if (len > max_len)
		return "path too long";
	if (path[0] == '/')
		return "absolute path";
	if (strcmp(path, FOLIO_RESERVED_DIR) == 0 ||
	    strncmp(path, FOLIO_RESERVED_DIR "/", sizeof(FOLIO_RESERVED_DIR)) == 0)
		return "reserved name .folio";

	const unsigned char *p = (const unsigned char *)path;
	unsigned depth = 0;
	while (*p != '\0') {
		const unsigned char *start = p;
		while (*p != '\0' && *p != '/') {
			if (*p < 0x20 || *p == 0x7f)
				return "control character in name";
			if (*p == '\\')
				return "backslash in name";
			size_t n = utf8_sequence(p);
			if (n == 0)
				return "invalid UTF-8 in name";
			/* C1 controls (U+0080-U+009F): a terminal may act on them */
			if (p[0] == 0xc2 && p[1] <= 0x9f)
				return "control character in name";
			p += n;
		}
		size_t clen = (size_t)(p - start);
		if (clen == 0)
			return "empty component";
		if (clen > COMPONENT_MAX)
			return "name component longer than 255 bytes";
		if ((clen == 1 && start[0] == '.') ||
		    (clen == 2 && start[0] == '.' && start[1] == '.'))
			return "'.' or '..' component";
		if (++depth > max_depth)
			return "path too deep";
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return "trailing slash";
		}
	}
	return NULL;
}

struct media_type {
	const char *ext;
	const char *type;
};

/* Types a browser needs to show an edition offline; sorted by extension. */
static const struct media_type media_types[] = {
	{"avif", "image/avif"},
	{"bmp", "image/bmp"},
	{"css", "text/css"},
	{"csv", "text/csv"},
	{"gif", "image/gif"},
	{"gz", "application/gzip"},
	{"htm", "text/html"},
	{"html", "text/html"},
	{"ico", "image/vnd.microsoft.icon"},
	{"jpeg", "image/jpeg"},
	{"jpg", "image/jpeg"},
	{"js", "text/javascript"},
	{"json", "application/json"},
	{"m4a", "audio/mp4"},
	{"markdown", "text/markdown"},
	{"md", "text/markdown"},
	{"mjs", "text/javascript"},
	{"mp3", "audio/mpeg"},
	{"mp4", "video/mp4"},
	{"oga", "audio/ogg"},
	{"ogg", "audio/ogg"},
	{"ogv", "video/ogg"},
	{"opus", "audio/opus"},
	{"otf", "font/otf"},
	{"pdf", "application/pdf"},
	{"png", "image/png"},
	{"svg", "image/svg+xml"},
	{"ttf", "font/ttf"},
	{"txt", "text/plain"},
	{"webm", "video/webm"},
	{"webp", "image/webp"},
	{"woff", "font/woff"},
	{"woff2", "font/woff2"},
	{"xhtml", "application/xhtml+xml"},
	{"xml", "application/xml"},
	{"zip", "application/zip"},
};

const char *folio_media_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	const char *dot = strrchr(name, '.');
	if (dot != NULL && dot != name) {
		for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
			if (strcasecmp(dot + 1, media_types[i].ext) == 0)
				return media_types[i].type;
	}
	return "application/octet-stream";
}

const char *folio_layer_for_type(const char *type)
{
	static const char *const media_prefixes[] = {"image/", "audio/", "video/", "font/"};
	for (size_t i = 0; i < sizeof(media_prefixes) / sizeof(media_prefixes[0]); i++)
		if (strncmp(type, media_prefixes[i], strlen(media_prefixes[i])) == 0)
			return "media";
	return "text";
}

bool folio_type_compressed(const char *type)
{
	static const char *const packed[] = {
		"image/avif", "image/gif", "image/jpeg", "image/png", "image/webp", "font/woff",
		"font/woff2", "application/gzip", "application/zip", "application/pdf",
	};
	if (strncmp(type, "audio/", 6) == 0 || strncmp(type, "video/", 6) == 0)
		return true;
	for (size_t i = 0; i < sizeof(packed) / sizeof(packed[0]); i++)
		if (strcmp(type, packed[i]) == 0)
			return true;
	return false;
}

/* One name a path set would create on disk: a file (a whole path) or a
 * folder (a path's leading components), with its case-folded NFC form. */
struct disk_name {
	const char *orig;
	const uint8_t *fold;
	size_t olen, flen;
	bool folder;
};

static int compare_disk_names(const void *a, const void *b)
{
	const struct disk_name *x = a, *y = b;
	size_t n = x->flen < y->flen ? x->flen : y->flen;
	int c = memcmp(x->fold, y->fold, n);
	if (c != 0 || x->flen != y->flen)
		return c != 0 ? c : (x->flen < y->flen ? -1 : 1);
	n = x->olen < y->olen ? x->olen : y->olen;
	c = memcmp(x->orig, y->orig, n);
	if (c != 0 || x->olen != y->olen)
		return c != 0 ? c : (x->olen < y->olen ? -1 : 1);
	return (int)x->folder - (int)y->folder;
}

static size_t count_slashes(const void *s, size_t len)
{
	size_t k = 0;
	for (const char *p = s; (p = memchr(p, '/', len - (size_t)(p - (const char *)s))) != NULL; p++)
		k++;
	return k;
}

int folio_path_set_check(char *const *paths, size_t n, struct folio_path_clash *clash)
{
	uint8_t **folds = calloc(n + 1, sizeof(*folds));
	size_t total = 0;
	int rc = folds == NULL ? -1 : 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(paths[i]), flen = 0;
		folds[i] = u8_casefold((const uint8_t *)paths[i], len, NULL, UNINORM_NFC, NULL, &flen);
		if (folds[i] == NULL) {
			rc = -1;
			break;
		}
		/* Folding never makes or removes a '/'; room for a NUL after it. */
		uint8_t *f = realloc(folds[i], flen + 1);
		if (f == NULL) {
			rc = -1;
			break;
		}
		f[flen] = '\0';
		folds[i] = f;
		size_t k = count_slashes(paths[i], len);
		if (k != count_slashes(f, flen)) {
			clash->kind = FOLIO_CLASH_CASE;
			clash->a = clash->b = paths[i];
			clash->alen = clash->blen = (int)len;
			rc = 1;
		}
		total += k + 1;
	}
	struct disk_name *names = rc == 0 ? malloc((total + 1) * sizeof(*names)) : NULL;
	if (rc == 0 && names == NULL)
		rc = -1;
	size_t k = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *o = paths[i];
		const uint8_t *f = folds[i];
		const char *os = o;
		const uint8_t *fs = f;
		for (;;) {
			const char *oe = strchr(os, '/');
			const uint8_t *fe = (const uint8_t *)strchr((const char *)fs, '/');
			names[k++] = (struct disk_name){
				.orig = o,
				.fold = f,
				.olen = oe != NULL ? (size_t)(oe - o) : strlen(o),
				.flen = fe != NULL ? (size_t)(fe - f) : strlen((const char *)f),
				.folder = oe != NULL,
			};
			if (oe == NULL)
				break;
			os = oe + 1;
			fs = fe + 1;
		}
	}
	if (rc == 0) {
		qsort(names, k, sizeof(*names), compare_disk_names);
		for (size_t i = 1; i < k && rc == 0; i++) {
			const struct disk_name *x = &names[i - 1], *y = &names[i];
			if (x->flen != y->flen || memcmp(x->fold, y->fold, x->flen) != 0)
				continue;
			bool same = x->olen == y->olen && memcmp(x->orig, y->orig, x->olen) == 0;
			if (same && x->folder && y->folder)
				continue;
			clash->kind = !same ? FOLIO_CLASH_CASE
				      : x->folder == y->folder ? FOLIO_CLASH_TWICE
				      : FOLIO_CLASH_FILE_FOLDER;
			clash->a = x->orig;
			clash->alen = (int)x->olen;
			clash->b = y->orig;
			clash->blen = (int)y->olen;
			rc = 1;
		}
	}
	free(names);
	if (folds != NULL)
		for (size_t i = 0; i < n; i++)
			free(folds[i]);
	free(folds);
	return rc;
}

void folio_path_clash_describe(const struct folio_path_clash *c, char *buf, size_t size)
{
	if (c->kind == FOLIO_CLASH_CASE) {
		/* Names that differ in normalisation look the same when printed:
		 * name the first characters that differ. */
		const uint8_t *a = (const uint8_t *)c->a, *b = (const uint8_t *)c->b;
		size_t an = (size_t)c->alen, bn = (size_t)c->blen;
		ucs4_t ua = 0, ub = 0;
		while (an > 0 && bn > 0) {
			int la = u8_mbtouc(&ua, a, an), lb = u8_mbtouc(&ub, b, bn);
			if (ua != ub)
				break;
			a += la, an -= (size_t)la;
			b += lb, bn -= (size_t)lb;
		}
		char diff[48] = "";
		if (an > 0 && bn > 0)
			snprintf(diff, sizeof(diff), " (U+%04X against U+%04X)", (unsigned)ua, (unsigned)ub);
		snprintf(buf, size, "'%.*s' and '%.*s' differ only in case or Unicode normalisation%s",
			 c->alen, c->a, c->blen, c->b, diff);
	} else {
		snprintf(buf, size, "'%.*s' %s", c->alen, c->a,
			 c->kind == FOLIO_CLASH_TWICE ? "is listed twice" : "is both a file and a folder");
	}
}
