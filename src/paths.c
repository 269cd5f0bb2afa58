/* SPDX-License-Identifier: ISC */
/* What a path inside an edition may look like, and what a file is. */
#include <string.h>
#include <strings.h>

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
