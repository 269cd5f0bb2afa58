/* SPDX-License-Identifier: ISC */
/* The metadata cleaner (folio_image_clean): the first byte picks the media
 * type (JPEG, PNG or WebP, by its value mod 3); the rest is the file.  A
 * cleaned image must be clean: cleaning it again removes nothing.  Images
 * whose header declares a small size (THUMB_PIXELS at most, when this
 * harness can read it) also go through folio_image_thumbnail(), which
 * decodes them with libvips; larger ones would only make the fuzzer slow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define THUMB_PIXELS (256u * 256u)

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The first frame header's width and height in a JPEG (0 x 0 if none). */
static void jpeg_size(const uint8_t *d, size_t n, uint64_t *w, uint64_t *h)
{
	size_t pos = 2;
	while (pos + 4 <= n && d[pos] == 0xff) {
		uint8_t m = d[pos + 1];
		if (m == 0xff) {
			pos++;
			continue;
		}
		if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
			pos += 2;
			continue;
		}
		bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
		if (sof && pos + 9 <= n) {
			*h = be16(d + pos + 5);
			*w = be16(d + pos + 7);
			return;
		}
		if (m == 0xd9 || m == 0xda)
			return;
		pos += 2 + be16(d + pos + 2);
	}
}

/* Width and height as the image's header declares them; false when this
 * cannot tell (libvips would then most likely refuse it anyway). */
static bool declared_size(const uint8_t *d, size_t n, uint64_t *w, uint64_t *h)
{
	*w = *h = 0;
	if (n >= 24 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(d + 12, "IHDR", 4) == 0) {
		*w = be32(d + 16);
		*h = be32(d + 20);
	} else if (n >= 4 && d[0] == 0xff && d[1] == 0xd8) {
		jpeg_size(d, n, w, h);
	} else if (n >= 30 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) {
		if (memcmp(d + 12, "VP8X", 4) == 0) {
			*w = le24(d + 24) + 1;
			*h = le24(d + 27) + 1;
		} else if (memcmp(d + 12, "VP8L", 4) == 0 && d[20] == 0x2f) {
			uint32_t bits = (uint32_t)d[21] | (uint32_t)d[22] << 8 |
					(uint32_t)d[23] << 16 | (uint32_t)d[24] << 24;
			*w = (bits & 0x3fff) + 1;
			*h = (bits >> 14 & 0x3fff) + 1;
		} else if (memcmp(d + 12, "VP8 ", 4) == 0) {
			*w = le16(d + 26) & 0x3fff;
			*h = le16(d + 28) & 0x3fff;
		}
	}
	return *w > 0 && *h > 0;
}

static void thumbnail(const uint8_t *data, size_t size)
{
	static const int allowed[] = {FOLIO_EREJECT, FOLIO_ESYSTEM, 0};
	uint64_t w, h;
	if (!declared_size(data, size, &w, &h) || w * h > THUMB_PIXELS)
		return;
	folio_ctx *ctx = fuzz_ctx();
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rc = folio_image_thumbnail(ctx, "fuzz", data, size, 64, 64, &out, &out_len);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, allowed);
		FUZZ_ASSERT(out == NULL && out_len == 0);
		return;
	}
	/* a JPEG, whatever went in */
	FUZZ_ASSERT(out != NULL && out_len >= 4);
	FUZZ_ASSERT(out[0] == 0xff && out[1] == 0xd8);
	fuzz_note("thumbnail of %llu x %llu: %zu bytes", (unsigned long long)w,
		  (unsigned long long)h, out_len);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"image/jpeg", "image/png", "image/webp"};
	static const int allowed[] = {FOLIO_EREJECT, FOLIO_ESYSTEM, 0};
	if (size == 0)
		return 0;
	const char *type = types[data[0] % 3];
	data++;
	size--;

	folio_ctx *ctx = fuzz_ctx();
	uint8_t *out = NULL;
	size_t out_len = 0;
	unsigned removed = 0;
	int rc = folio_image_clean(ctx, "fuzz", type, data, size, &out, &out_len, &removed);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, allowed);
		FUZZ_ASSERT(out == NULL && out_len == 0 && removed == 0);
	} else if (out == NULL) {
		FUZZ_ASSERT(out_len == 0 && removed == 0);
	} else {
		FUZZ_ASSERT(out_len > 0);
		/* what is left is clean: a second pass removes nothing */
		uint8_t *again = NULL;
		size_t again_len = 0;
		unsigned removed_again = 0;
		rc = folio_image_clean(ctx, "cleaned", type, out, out_len, &again, &again_len,
				       &removed_again);
		if (rc != FOLIO_OK || again != NULL)
			fprintf(stderr, "fuzz: cleaning again (removed %#x): %d %s, removed %#x\n",
				removed, rc, folio_errmsg(ctx), removed_again);
		FUZZ_ASSERT(rc == FOLIO_OK);
		FUZZ_ASSERT(again == NULL && again_len == 0 && removed_again == 0);
		fuzz_note("%s: cleaned, removed %#x, %zu -> %zu bytes", type, removed, size,
			  out_len);
		free(out);
	}
	thumbnail(data, size);
	return 0;
}
