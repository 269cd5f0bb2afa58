/* SPDX-License-Identifier: ISC */
/* The context: one error code and one message, and the reader's limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <jansson.h>
#include <sodium.h>
#include <zstd.h>

#include "folio-internal.h"

static const uint64_t default_limits[FOLIO_LIMIT__COUNT] = {
	[FOLIO_LIMIT_WINDOW_LOG] = 24,
	[FOLIO_LIMIT_MANIFEST_SIZE] = 16u << 20,
	[FOLIO_LIMIT_FILE_SIZE] = 4ull << 30,
	[FOLIO_LIMIT_TOTAL_SIZE] = 16ull << 30,
	[FOLIO_LIMIT_FILE_COUNT] = 200000,
	[FOLIO_LIMIT_PATH_LENGTH] = 1024,
	[FOLIO_LIMIT_PATH_DEPTH] = 32,
};

folio_ctx *folio_new(void)
{
	if (sodium_init() < 0)
		return NULL;
	folio_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	memcpy(ctx->limits, default_limits, sizeof(ctx->limits));
	ctx->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	return ctx;
}

void folio_free(folio_ctx *ctx)
{
	if (ctx != NULL && ctx->utf8 != (locale_t)0)
		freelocale(ctx->utf8);
	free(ctx);
}

locale_t folio_utf8_begin(folio_ctx *ctx)
{
	if (ctx->utf8 == (locale_t)0)
		return (locale_t)0;
	return uselocale(ctx->utf8);
}

void folio_utf8_end(locale_t previous)
{
	if (previous != (locale_t)0)
		uselocale(previous);
}

const char *folio_errmsg(const folio_ctx *ctx)
{
	return ctx != NULL ? ctx->msg : "out of memory";
}

int folio_errcode(const folio_ctx *ctx)
{
	return ctx != NULL ? ctx->code : FOLIO_ESYSTEM;
}

void folio_clear_error(folio_ctx *ctx)
{
	ctx->code = FOLIO_OK;
	ctx->msg[0] = '\0';
	ctx->needs_base = 0;
	ctx->delta_channel[0] = '\0';
	ctx->delta_edition = 0;
}

/* Names in messages come from hostile bundles and source trees: control
 * characters are shown as \xNN, so a message stays one harmless line. */
static void escape_controls(char *msg, size_t size)
{
	char copy[sizeof(((folio_ctx *)0)->msg)];
	snprintf(copy, sizeof(copy), "%s", msg);
	size_t out = 0;
	for (const unsigned char *p = (const unsigned char *)copy; *p && out + 5 < size; p++) {
		if (*p < 0x20 || *p == 0x7f)
			out += (size_t)snprintf(msg + out, size - out, "\\x%02x", *p);
		else
			msg[out++] = (char)*p;
	}
	msg[out] = '\0';
}

__attribute__((format(printf, 3, 0)))
static void set_message(folio_ctx *ctx, int code, const char *fmt, va_list ap)
{
	ctx->code = code;
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	escape_controls(ctx->msg, sizeof(ctx->msg));
}

int folio_fail(folio_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(ctx, code, fmt, ap);
	va_end(ap);
	return code;
}

int folio_fail_errno(folio_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(ctx, FOLIO_ESYSTEM, fmt, ap);
	va_end(ap);
	size_t used = strlen(ctx->msg);
	snprintf(ctx->msg + used, sizeof(ctx->msg) - used, ": %s", strerror(err));
	return FOLIO_ESYSTEM;
}

int folio_set_limit(folio_ctx *ctx, enum folio_limit which, uint64_t value)
{
	if ((unsigned)which >= FOLIO_LIMIT__COUNT)
		return folio_fail(ctx, FOLIO_EUSAGE, "unknown limit %d", (int)which);
	if (which == FOLIO_LIMIT_WINDOW_LOG && (value < 10 || value > 31))
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "window log %llu is out of range 10..31",
				  (unsigned long long)value);
	if (value < 1)
		return folio_fail(ctx, FOLIO_EUSAGE, "a limit must be at least 1");
	ctx->limits[which] = value;
	return FOLIO_OK;
}

void folio_set_progress(folio_ctx *ctx, void (*fn)(void *arg, const struct folio_progress *progress),
			void *arg)
{
	ctx->progress_fn = fn;
	ctx->progress_arg = arg;
}

void folio_progress_start(folio_ctx *ctx, enum folio_phase phase, uint64_t files_total,
			  uint64_t bytes_total)
{
	if (ctx->progress_fn == NULL)
		return;
	ctx->progress = (struct folio_progress){.phase = phase, .files_total = files_total,
						.bytes_total = bytes_total};
	ctx->progress_fn(ctx->progress_arg, &ctx->progress);
}

void folio_progress_add(folio_ctx *ctx, uint64_t files, uint64_t bytes)
{
	if (ctx->progress_fn == NULL)
		return;
	ctx->progress.files_done += files;
	ctx->progress.bytes_done += bytes;
	ctx->progress_fn(ctx->progress_arg, &ctx->progress);
}

void folio_progress_set(folio_ctx *ctx, uint64_t files_done, uint64_t bytes_done)
{
	if (ctx->progress_fn == NULL)
		return;
	ctx->progress.files_done = files_done;
	ctx->progress.bytes_done = bytes_done;
	ctx->progress_fn(ctx->progress_arg, &ctx->progress);
}

uint64_t folio_get_limit(const folio_ctx *ctx, enum folio_limit which)
{
	if ((unsigned)which >= FOLIO_LIMIT__COUNT)
		return 0;
	return ctx->limits[which];
}

const char *folio_version_string(void)
{
	static char line[256];
	if (line[0] == '\0')
		snprintf(line, sizeof(line),
			 "folio %s (zstd %s, %s, libsodium %s, jansson %s)",
			 FOLIO_VERSION, ZSTD_versionString(),
			 archive_version_string(), sodium_version_string(),
			 JANSSON_VERSION);
	return line;
}

void folio_hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case only, exactly 2n digits: the manifest has one spelling. */
int folio_unhex(uint8_t *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
