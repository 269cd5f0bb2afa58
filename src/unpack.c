/* SPDX-License-Identifier: ISC */
/* Reading a bundle: hostile until verified.  zstd is decoded here, with a
 * window limit and an output cap; libarchive parses the tar, tar format
 * only; every entry must be the next file the signed manifest expects. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef FOLIO_FUZZING /* FUZZ BUILDS ONLY (make fuzz, check-fuzz); never defined otherwise */
/* Fuzzed bytes never match a content hash or a zstd checksum: both are
 * ignored, so that fuzzed bundles reach the code behind them. */
#define ZSTD_STATIC_LINKING_ONLY /* for ZSTD_d_forceIgnoreChecksum */
#define FUZZING_IGNORES_HASHES 1
#else
#define FUZZING_IGNORES_HASHES 0
#endif

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "folio-internal.h"

#define FUTURE_MARGIN 86400   /* creation time may be this far past the clock */
#define ENTRY_OVERHEAD 8192   /* tar and pax header bytes allowed per entry */
#define END_OF_ARCHIVE 1024

struct folio_bundle {
	folio_ctx *ctx;
	char *name;
	int fd;
	bool input_eof;
	bool frame_start;   /* the next input byte begins a frame */
	bool used;          /* verify or unpack has run */
	ZSTD_DCtx *dctx;
	uint8_t *inbuf;
	size_t in_size;
	ZSTD_inBuffer in;
	uint8_t *outbuf;
	size_t out_size;
	uint64_t decoded;   /* tar bytes produced so far */
	uint64_t frame_out; /* of them, in the current frame */
	uint64_t cap;       /* the most tar bytes this bundle may hold */
	int read_rc;        /* a failure inside the read callback */
	struct archive *tar;
	struct folio_manifest m;
	char *manifest;
	size_t manifest_len;
	char *sig;
	size_t sig_len;
	struct folio_keylist *keys; /* the key list the bundle carries, or NULL */
	/* The header after entry 2, read by open_head to see whether a key
	 * list follows; when it is not one, the first file's header (or the
	 * end), waiting here for stream_body. */
	struct {
		bool pending;
		int r;                /* archive_read_next_header's result */
		struct archive_entry *e;
		la_int64_t before;    /* archive_filter_bytes before and after it */
		la_int64_t after;
		char *read_msg;       /* a failure of the read callback, replayed */
	} peek;
	char key_id[17];    /* the key that signed the manifest */
	char root_id[17];   /* the trusted key the signature chain starts from */
	int64_t now_floor;  /* "now" is never earlier than this */
	int64_t future_margin;
	bool current;       /* unpack found dest already holding this edition */
	const char *dest;   /* unpack: DEST as given, for messages */
};

static int reject(folio_bundle *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reject(folio_bundle *b, const char *fmt, ...)
{
	char what[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return folio_fail(b->ctx, FOLIO_EREJECT, "cannot verify '%s': %s", b->name, what);
}

/* ---- zstd ------------------------------------------------------------------ */

static int fill_input(folio_bundle *b)
{
	if (b->in.pos > 0) { /* keep the unread tail at the front */
		size_t left = b->in.size - b->in.pos;
		memmove(b->inbuf, b->inbuf + b->in.pos, left);
		b->in.size = left;
		b->in.pos = 0;
	}
	while (b->in.size < b->in_size) {
		ssize_t n = read(b->fd, b->inbuf + b->in.size, b->in_size - b->in.size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return folio_fail_errno(b->ctx, errno, "cannot read '%s'", b->name);
		if (n == 0) {
			b->input_eof = true;
			break;
		}
		b->in.size += (size_t)n;
		break;
	}
	return FOLIO_OK;
}

/* The frame header bits that zstd itself would let pass with any value, as
 * folio writes them (docs/FORMAT.md): the unused bit clear, no dictionary,
 * a checksum, and a window that is a power of two (mantissa 0).  So every
 * bit of a frame header is checked by someone. */
static bool canonical_frame_header(uint8_t fhd, uint8_t window)
{
	bool single_segment = (fhd >> 5) & 1;
	if ((fhd & 0x10) != 0 || (fhd & 0x03) != 0 || (fhd & 0x04) == 0)
		return false;
	return single_segment || (window & 0x07) == 0;
}

/* Decodes the next piece of the tar stream into outbuf.  *len 0 means the
 * zstd stream ended cleanly after a whole frame. */
static int decode_some(folio_bundle *b, size_t *len)
{
	*len = 0;
	for (;;) {
		size_t avail = b->in.size - b->in.pos;
		if (b->frame_start && avail < 6 && !b->input_eof) {
			int rc = fill_input(b);
			if (rc != FOLIO_OK)
				return rc;
			continue;
		}
		if (b->frame_start && avail == 0 && b->input_eof) {
			if (b->decoded == 0)
				return reject(b, "empty file");
			return FOLIO_OK;
		}
		if (b->frame_start) {
			const uint8_t *p = b->inbuf + b->in.pos;
			if (avail < 4 || ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
					  (uint32_t)p[3] << 24) != ZSTD_MAGICNUMBER)
				return reject(b, "%s", b->decoded == 0 ? "not a folio bundle (no zstd frame)"
								       : "trailing bytes after the last zstd frame");
			if (avail >= 6 && !canonical_frame_header(p[4], p[5]))
				return reject(b, "zstd frame header is not as folio writes it");
		}
		if (avail == 0) {
			if (b->input_eof)
				return reject(b, "truncated (the zstd stream ends inside a frame)");
			int rc = fill_input(b);
			if (rc != FOLIO_OK)
				return rc;
			continue;
		}
		ZSTD_outBuffer out = {b->outbuf, b->out_size, 0};
		size_t r = ZSTD_decompressStream(b->dctx, &out, &b->in);
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
				char limit[32];
				snprintf(limit, sizeof(limit), "2^%llu",
					 (unsigned long long)b->ctx->limits[FOLIO_LIMIT_WINDOW_LOG]);
				return reject(b, "zstd window larger than the limit of %s bytes", limit);
			}
			return reject(b, "corrupt zstd data: %s", ZSTD_getErrorName(r));
		}
		b->frame_out += out.pos;
		if (r == 0) { /* a frame ended: folio never writes an empty one */
			if (b->frame_out == 0)
				return reject(b, "empty zstd frame");
			b->frame_out = 0;
		}
		b->frame_start = r == 0;
		if (out.pos > 0) {
			b->decoded += out.pos;
			if (b->decoded > b->cap)
				return reject(b, "more data than the manifest declares");
			*len = out.pos;
			return FOLIO_OK;
		}
	}
}

static la_ssize_t tar_read_cb(struct archive *a, void *arg, const void **buf)
{
	(void)a;
	folio_bundle *b = arg;
	size_t len;
	if (b->read_rc != FOLIO_OK)
		return -1;
	b->read_rc = decode_some(b, &len);
	if (b->read_rc != FOLIO_OK)
		return -1;
	*buf = b->outbuf;
	return (la_ssize_t)len;
}

/* The failure of the read callback.  One met while peeking (in open_head)
 * is told when the header is taken, as if it had just happened. */
static int read_failure(folio_bundle *b)
{
	if (b->peek.read_msg != NULL) {
		folio_fail(b->ctx, b->read_rc, "%s", b->peek.read_msg);
		free(b->peek.read_msg);
		b->peek.read_msg = NULL;
	}
	return b->read_rc;
}

/* The failure of a libarchive call: ours from the callback if there was
 * one, else libarchive's own words. */
static int tar_failed(folio_bundle *b, const char *what)
{
	if (b->read_rc != FOLIO_OK)
		return read_failure(b);
	const char *msg = archive_error_string(b->tar);
	char detail[600];
	snprintf(detail, sizeof(detail), "%s: %s", what, msg ? msg : "truncated");
	return reject(b, "malformed tar: %s", detail);
}

/* ---- the signed head ------------------------------------------------------- */

/* archive_read_next_header, or the header open_head peeked at. */
static int take_header(folio_bundle *b, struct archive_entry **e)
{
	if (!b->peek.pending)
		return archive_read_next_header(b->tar, e);
	b->peek.pending = false;
	*e = b->peek.e;
	return b->peek.r;
}

static int next_header(folio_bundle *b, struct archive_entry **e, const char *expect)
{
	int r = take_header(b, e);
	if (r == ARCHIVE_EOF) {
		if (b->read_rc != FOLIO_OK)
			return read_failure(b);
		return reject(b, "truncated: '%s' is missing", expect);
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return tar_failed(b, expect);
	if (archive_entry_filetype(*e) != AE_IFREG || archive_entry_hardlink(*e) != NULL ||
	    archive_entry_symlink(*e) != NULL)
		return reject(b, "entry where '%s' belongs is not a regular file", expect);
	if (archive_entry_sparse_count(*e) > 0)
		return reject(b, "sparse entry where '%s' belongs", expect);
	const char *path = archive_entry_pathname_utf8(*e);
	if (path == NULL || strcmp(path, expect) != 0)
		return reject(b, "unexpected entry where '%s' belongs", expect);
	if (!archive_entry_size_is_set(*e) || archive_entry_size(*e) < 0)
		return reject(b, "entry '%s' has no size", expect);
	return FOLIO_OK;
}

static int read_small_entry(folio_bundle *b, const char *expect, size_t max,
			    char **out, size_t *len)
{
	struct archive_entry *e;
	int rc = next_header(b, &e, expect);
	if (rc != FOLIO_OK)
		return rc;
	la_int64_t size = archive_entry_size(e);
	if ((uint64_t)size > max)
		return reject(b, "'%s' is larger than its limit", expect);
	char *buf = malloc((size_t)size + 1);
	if (buf == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	size_t got = 0;
	while (got < (size_t)size) {
		la_ssize_t n = archive_read_data(b->tar, buf + got, (size_t)size - got);
		if (n <= 0) {
			free(buf);
			return n < 0 ? tar_failed(b, expect) : reject(b, "truncated in '%s'", expect);
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return FOLIO_OK;
}

/* "1 day", "90 minutes", "45 seconds". */
static void format_duration(char *out, size_t size, int64_t s)
{
	static const struct { int64_t unit; const char *one, *many; } units[] = {
		{86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"},
		{1, "second", "seconds"},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s % units[i].unit == 0 || units[i].unit == 1) {
			int64_t n = s / units[i].unit;
			snprintf(out, size, "%lld %s", (long long)n, n == 1 ? units[i].one : units[i].many);
			return;
		}
}

/* Reads the header after entry 2 into the peek slot.  A failure is not
 * told now: it belongs to whatever the header turns out to be, and is told
 * when the header is taken (a damaged body does not stop `list`). */
static void peek_header(folio_bundle *b)
{
	b->peek.pending = true;
	b->peek.e = NULL;
	/* entry 2's padding first, so that the bytes counted are the header's */
	b->peek.r = archive_read_data_skip(b->tar);
	if (b->peek.r == ARCHIVE_OK) {
		b->peek.before = archive_filter_bytes(b->tar, 0);
		b->peek.r = archive_read_next_header(b->tar, &b->peek.e);
		b->peek.after = archive_filter_bytes(b->tar, 0);
	}
	if (b->read_rc != FOLIO_OK && (b->peek.read_msg = strdup(folio_errmsg(b->ctx))) != NULL)
		folio_clear_error(b->ctx);
}

static bool peeked_key_list(const folio_bundle *b)
{
	if (!b->peek.pending || (b->peek.r != ARCHIVE_OK && b->peek.r != ARCHIVE_WARN))
		return false;
	const char *path = archive_entry_pathname_utf8(b->peek.e);
	return path != NULL && strcmp(path, FOLIO_KEYS_PATH) == 0;
}

static int check_policy(folio_bundle *b, const char *channel)
{
	const struct folio_manifest *m = &b->m;
	int64_t clock = (int64_t)time(NULL);
	int64_t now = clock;
	bool floored = now < b->now_floor;
	if (floored)
		now = b->now_floor;
	char when[32], now_s[32], clock_s[32];
	folio_time_format(now_s, now);
	folio_time_format(clock_s, clock);
	if (channel != NULL && strcmp(channel, m->channel) != 0)
		return folio_fail(b->ctx, FOLIO_EREJECT,
				  "cannot verify '%s': bundle is for channel '%s', not '%s'",
				  b->name, m->channel, channel);
	if (now >= m->expires) {
		folio_time_format(when, m->expires);
		if (floored)
			return reject(b, "edition expired at %s (this device's time is taken as %s, "
				      "when the newest edition accepted was made, because its clock says %s)",
				      when, now_s, clock_s);
		return reject(b, "edition expired at %s", when);
	}
	if (m->created > now + b->future_margin) {
		folio_time_format(when, m->created);
		if (b->now_floor > 0) { /* the library's words */
			char margin[48];
			format_duration(margin, sizeof(margin), b->future_margin);
			return reject(b, "edition %llu says it was made at %s, more than %s after this "
				      "device's time %s%s; if the device's clock is wrong, set it, or allow "
				      "more with --future-margin",
				      (unsigned long long)m->edition, when, margin, now_s,
				      floored ? " (when the newest edition accepted was made: its clock is behind)" : "");
		}
		return reject(b, "created in the future (%s); check the clock", when);
	}
	return FOLIO_OK;
}

/* Tar bytes the whole bundle may decode to: every declared byte, its
 * headers and padding. */
static uint64_t tar_cap(const folio_bundle *b)
{
	uint64_t cap = b->decoded + END_OF_ARCHIVE + 2 * ENTRY_OVERHEAD;
	for (size_t i = 0; i < b->m.nfiles; i++)
		if (b->m.files[i].same_as == i)
			cap += ENTRY_OVERHEAD + b->m.files[i].size;
	return cap + b->out_size; /* libarchive reads ahead by one buffer */
}

/* The trusted key verifies the key list, when there is one, and a key the
 * list names for the edition verifies the manifest; else the trusted key
 * verifies the manifest itself.  Nothing of the manifest is read before
 * its signature verifies. */
/* The signed head, held in memory: see folio-internal.h. */
int folio_head_verify(folio_ctx *ctx, const char *name, const folio_pubkey *root,
		      const struct folio_head *h, struct folio_manifest *m, char signer[17],
		      struct folio_keylist **kl_out)
{
	struct folio_sig sig;
	struct folio_keylist *kl = NULL;
	int rc = folio_sig_parse(ctx, name, h->sig, h->sig_len, &sig);
	if (rc != FOLIO_OK)
		return rc;
	folio_keyid_format(signer, sig.keyid);
	const folio_pubkey *key = root;
	if (h->keys != NULL) {
		rc = folio_keylist_parse(ctx, name, h->keys, h->keys_len, h->keys_sig, h->keys_sig_len,
					 root, &kl);
		if (rc != FOLIO_OK)
			return rc;
		key = folio_keylist_find(kl, signer, NULL, NULL, NULL);
		if (key == NULL) { /* says that the list does not name it */
			rc = folio_keylist_allows(ctx, name, kl, signer, 0);
			goto out;
		}
	}
	rc = folio_sig_verify(ctx, name, &sig, key, h->manifest, h->manifest_len);
	if (rc != FOLIO_OK)
		goto out;
	/* Signed from here on; still checked as if the key were stolen. */
	rc = folio_manifest_decode(ctx, name, h->manifest, h->manifest_len, m);
	if (rc != FOLIO_OK)
		goto out;
	char *comment = folio_trusted_comment(m);
	if (comment == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", name);
		goto out;
	}
	bool same = strcmp(comment, sig.comment) == 0;
	free(comment);
	if (!same) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': trusted comment does not match the manifest", name);
		goto out;
	}
	if (kl != NULL) {
		const char *channel = folio_keylist_channel(kl);
		if (strcmp(channel, m->channel) != 0) {
			rc = folio_fail(ctx, FOLIO_EREJECT,
					"cannot verify '%s': the key list is for channel '%s', not '%s'",
					name, channel, m->channel);
			goto out;
		}
		rc = folio_keylist_allows(ctx, name, kl, key->id, m->edition);
	}
out:
	if (rc == FOLIO_OK && kl_out != NULL)
		*kl_out = kl;
	else
		folio_keylist_free(kl);
	return rc;
}

static int verify_head(folio_bundle *b, const struct folio_open_opts *o, const char *keys,
		       size_t keys_len, const char *keys_sig, size_t keys_sig_len)
{
	folio_ctx *ctx = b->ctx;
	const folio_pubkey *root = o->key;
	if (o->lookup != NULL) {
		/* the root is the key that signed the key list, or the manifest */
		char id[17];
		int rc;
		if (keys != NULL) {
			rc = folio_keylist_sig_keyid(ctx, b->name, keys_sig, keys_sig_len, id);
		} else {
			struct folio_sig sig;
			rc = folio_sig_parse(ctx, b->name, b->sig, b->sig_len, &sig);
			folio_keyid_format(id, sig.keyid);
		}
		if (rc != FOLIO_OK)
			return rc;
		root = o->lookup(o->lookup_arg, id);
		if (root == NULL)
			return keys != NULL
				? reject(b, "its key list is signed by key %s, which is trusted for no channel here", id)
				: reject(b, "signed by key %s, which is trusted for no channel here", id);
	}
	struct folio_head h = {
		.manifest = b->manifest, .manifest_len = b->manifest_len,
		.sig = b->sig, .sig_len = b->sig_len,
		.keys = keys, .keys_len = keys_len, .keys_sig = keys_sig, .keys_sig_len = keys_sig_len,
	};
	int rc = folio_head_verify(ctx, b->name, root, &h, &b->m, b->key_id, &b->keys);
	if (rc != FOLIO_OK)
		return rc;
	memcpy(b->root_id, root->id, sizeof(b->root_id));
	return check_policy(b, o->channel);
}

static int open_head(folio_bundle *b, const struct folio_open_opts *o)
{
	folio_ctx *ctx = b->ctx;
	b->in_size = ZSTD_DStreamInSize();
	b->out_size = ZSTD_DStreamOutSize();
	b->inbuf = malloc(b->in_size);
	b->outbuf = malloc(b->out_size);
	b->dctx = ZSTD_createDCtx();
	b->tar = archive_read_new();
	if (b->inbuf == NULL || b->outbuf == NULL || b->dctx == NULL || b->tar == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", b->name);
	b->in = (ZSTD_inBuffer){b->inbuf, 0, 0};
	b->frame_start = true;
	size_t r = ZSTD_DCtx_setParameter(b->dctx, ZSTD_d_windowLogMax,
					  (int)ctx->limits[FOLIO_LIMIT_WINDOW_LOG]);
	if (ZSTD_isError(r))
		return folio_fail(ctx, FOLIO_EUSAGE, "window limit: %s", ZSTD_getErrorName(r));
#ifdef FOLIO_FUZZING /* see the top of the file */
	ZSTD_DCtx_setParameter(b->dctx, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
#endif
	/* Until the signature is checked, only the head may be decoded: the
	 * manifest, its signature, a key list and its signature, and the
	 * header after them. */
	b->cap = ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE] + FOLIO_SIGNATURE_MAX + FOLIO_KEYS_MAX +
		 FOLIO_SIGNATURE_MAX + 6 * ENTRY_OVERHEAD + b->out_size;
	if (archive_read_support_format_tar(b->tar) != ARCHIVE_OK ||
	    archive_read_support_filter_none(b->tar) != ARCHIVE_OK ||
	    archive_read_open(b->tar, b, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
		return tar_failed(b, "start");

	int rc = read_small_entry(b, FOLIO_MANIFEST_PATH, ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE],
				  &b->manifest, &b->manifest_len);
	if (rc == FOLIO_OK)
		rc = read_small_entry(b, FOLIO_SIGNATURE_PATH, FOLIO_SIGNATURE_MAX, &b->sig, &b->sig_len);
	/* Entries 3 and 4 may be a key list and its signature. */
	char *keys = NULL, *keys_sig = NULL;
	size_t keys_len = 0, keys_sig_len = 0;
	if (rc == FOLIO_OK) {
		peek_header(b);
		if (peeked_key_list(b))
			rc = read_small_entry(b, FOLIO_KEYS_PATH, FOLIO_KEYS_MAX, &keys, &keys_len);
		if (rc == FOLIO_OK && keys != NULL)
			rc = read_small_entry(b, FOLIO_KEYS_SIGNATURE_PATH, FOLIO_SIGNATURE_MAX,
					      &keys_sig, &keys_sig_len);
	}
	if (rc == FOLIO_OK)
		rc = verify_head(b, o, keys, keys_len, keys_sig, keys_sig_len);
	free(keys);
	free(keys_sig);
	if (rc == FOLIO_OK)
		b->cap = tar_cap(b);
	return rc;
}

int folio_bundle_open(folio_ctx *ctx, const char *path, const folio_pubkey *key,
		      const char *channel, folio_bundle **out)
{
	struct folio_open_opts o = {.key = key, .channel = channel, .future_margin = -1};
	return folio_bundle_open_opts(ctx, path, &o, out);
}

int folio_bundle_open_opts(folio_ctx *ctx, const char *path, const struct folio_open_opts *o,
			   folio_bundle **out)
{
	folio_clear_error(ctx);
	*out = NULL;
	if ((o->key == NULL && o->lookup == NULL) || path == NULL)
		return folio_fail(ctx, FOLIO_EUSAGE, "a bundle and a public key are needed");
	folio_bundle *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot open '%s'", path);
	b->ctx = ctx;
	b->fd = -1;
	b->now_floor = o->now_floor;
	b->future_margin = o->future_margin >= 0 ? o->future_margin : FUTURE_MARGIN;
	bool is_stdin = strcmp(path, "-") == 0;
	b->name = strdup(is_stdin ? "(standard input)" : path);
	if (b->name == NULL) {
		free(b);
		return folio_fail_errno(ctx, ENOMEM, "cannot open '%s'", path);
	}
	int rc = FOLIO_OK;
	if (is_stdin) {
		b->fd = dup(STDIN_FILENO);
	} else {
		b->fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (b->fd >= 0 && fstat(b->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			folio_bundle_free(b);
			return folio_fail(ctx, FOLIO_EUSAGE, "cannot open '%s': it is a folder", path);
		}
	}
	if (b->fd < 0)
		rc = folio_fail_errno(ctx, errno, "cannot open '%s'", path);
	if (rc == FOLIO_OK) {
		locale_t previous = folio_utf8_begin(ctx);
		rc = open_head(b, o);
		folio_utf8_end(previous);
	}
	if (rc != FOLIO_OK) {
		folio_bundle_free(b);
		return rc;
	}
	*out = b;
	return FOLIO_OK;
}

void folio_bundle_free(folio_bundle *b)
{
	if (b == NULL)
		return;
	archive_read_free(b->tar);
	ZSTD_freeDCtx(b->dctx);
	if (b->fd >= 0)
		close(b->fd);
	free(b->inbuf);
	free(b->outbuf);
	free(b->manifest);
	free(b->sig);
	free(b->peek.read_msg);
	folio_keylist_free(b->keys);
	free(b->name);
	folio_manifest_release(&b->m);
	free(b);
}

const char *folio_bundle_channel(const folio_bundle *b) { return b->m.channel; }
const char *folio_bundle_title(const folio_bundle *b) { return b->m.title; }
uint64_t folio_bundle_edition(const folio_bundle *b) { return b->m.edition; }
int64_t folio_bundle_created(const folio_bundle *b) { return b->m.created; }
int64_t folio_bundle_expires(const folio_bundle *b) { return b->m.expires; }
const char *folio_bundle_key_id(const folio_bundle *b) { return b->key_id; }
const char *folio_bundle_root_id(const folio_bundle *b) { return b->root_id; }
const struct folio_keylist *folio_bundle_keylist(const folio_bundle *b) { return b->keys; }

uint64_t folio_bundle_keys_version(const folio_bundle *b)
{
	return b->keys != NULL ? folio_keylist_version(b->keys) : 0;
}

const char *folio_bundle_keylist_json(const folio_bundle *b, size_t *len)
{
	if (b->keys == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	return folio_keylist_json(b->keys, len);
}

const char *folio_bundle_keylist_sig(const folio_bundle *b, size_t *len)
{
	if (b->keys == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	return folio_keylist_sig(b->keys, len);
}
size_t folio_bundle_file_count(const folio_bundle *b) { return b->m.nfiles; }

size_t folio_bundle_article_count(const folio_bundle *b)
{
	return b->m.narticles;
}

int folio_bundle_article(const folio_bundle *b, size_t i, struct folio_article_info *out)
{
	if (i >= b->m.narticles)
		return FOLIO_EUSAGE;
	const struct folio_article *a = &b->m.articles[i];
	*out = (struct folio_article_info){
		.path = a->path, .source = a->source, .title = a->title, .lang = a->lang,
		.dir = a->dir, .date = a->date, .author = a->author, .summary = a->summary,
		.image = a->image, .thumbnail = a->thumbnail, .words = a->words,
	};
	return FOLIO_OK;
}

int folio_bundle_file(const folio_bundle *b, size_t i, const char **path, uint64_t *size,
		      const char **media_type, const char **blake2b_hex, unsigned *mode)
{
	if (i >= b->m.nfiles)
		return FOLIO_EUSAGE;
	const struct folio_file *f = &b->m.files[i];
	if (path != NULL)
		*path = f->path;
	if (size != NULL)
		*size = f->size;
	if (media_type != NULL)
		*media_type = f->type;
	if (blake2b_hex != NULL)
		*blake2b_hex = f->hex;
	if (mode != NULL)
		*mode = f->mode;
	return FOLIO_OK;
}

const char *folio_bundle_manifest_json(const folio_bundle *b, size_t *len)
{
	if (len != NULL)
		*len = b->manifest_len;
	return b->manifest;
}

/* ---- the body: one streaming pass, writing or not -------------------------- */

struct staging {
	int parentfd;       /* the folder that holds dest */
	char *dest_base;    /* dest's last component */
	char *name;         /* staging folder's name in parentfd */
	int fd;             /* the staging folder */
};

/* Opens (creating as needed) the folder holding path inside root; returns
 * an fd and points *base at the last component. */
static int open_parent(int root, const char *path, const char **base)
{
	char comp[256];
	int fd = dup(root);
	const char *p = path;
	for (const char *slash; fd >= 0 && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		size_t n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(fd, comp, 0755) != 0 && errno != EEXIST) {
			close(fd);
			return -errno;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		fd = next;
		errno = err;
	}
	*base = p;
	return fd >= 0 ? fd : -errno;
}

/* fchmod, except on a file system that keeps no modes (FAT: the kernel's
 * vfat says EPERM, a FUSE one ENOSYS), where the mount decides them. */
static int set_mode(int fd, unsigned mode)
{
	if (fchmod(fd, mode) == 0)
		return 0;
	return errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
}

static int create_file(folio_bundle *b, struct staging *s, const char *path, unsigned mode)
{
	const char *base;
	int dirfd = open_parent(s->fd, path, &base);
	if (dirfd < 0)
		return folio_fail_errno(b->ctx, -dirfd, "cannot unpack into '%s': '%s'", b->dest, path);
	int fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = errno;
	close(dirfd);
	if (fd < 0)
		return folio_fail_errno(b->ctx, err, "cannot unpack into '%s': '%s'", b->dest, path);
	if (set_mode(fd, mode) != 0) {
		err = errno;
		close(fd);
		return folio_fail_errno(b->ctx, err, "cannot unpack into '%s': '%s'", b->dest, path);
	}
	return fd;
}

static int write_all(folio_bundle *b, int fd, const void *buf, size_t len, const char *path)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, path);
		p += n;
		len -= (size_t)n;
	}
	return FOLIO_OK;
}

/* One stored entry: checked against f as it streams; written to s when s is
 * not NULL.  The bytes written are the bytes hashed. */
static int take_entry(folio_bundle *b, struct staging *s, const struct folio_file *f)
{
	struct archive_entry *e;
	int rc = next_header(b, &e, f->path);
	if (rc != FOLIO_OK)
		return rc;
	if ((uint64_t)archive_entry_size(e) != f->size)
		return reject(b, "'%s' has a different size than the manifest says", f->path);
	int fd = -1;
	if (s != NULL && (fd = create_file(b, s, f->path, f->mode)) < 0)
		return fd;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, FOLIO_HASH_BYTES);
	uint64_t pos = 0;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t offset;
		int r = archive_read_data_block(b->tar, &buf, &len, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = tar_failed(b, f->path);
			break;
		}
		if ((uint64_t)offset != pos || len > f->size - pos) {
			rc = reject(b, "'%s' does not match its declared size", f->path);
			break;
		}
		crypto_generichash_update(&st, buf, len);
		if (fd >= 0 && (rc = write_all(b, fd, buf, len, f->path)) != FOLIO_OK)
			break;
		pos += len;
	}
	if (fd >= 0 && close(fd) != 0 && rc == FOLIO_OK)
		rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, f->path);
	if (rc == FOLIO_OK && pos != f->size)
		rc = reject(b, "'%s' is shorter than its declared size", f->path);
	uint8_t hash[FOLIO_HASH_BYTES];
	crypto_generichash_final(&st, hash, sizeof(hash));
	if (rc == FOLIO_OK && !FUZZING_IGNORES_HASHES &&
	    sodium_memcmp(hash, f->hash, sizeof(hash)) != 0)
		rc = reject(b, "'%s' does not match its hash", f->path);
	return rc;
}

/* After the last file: the tar must end, and the zstd stream right there. */
static int take_end(folio_bundle *b)
{
	struct archive_entry *e;
	la_int64_t before, after;
	int r;
	if (b->peek.pending) { /* an edition without files: open_head read it */
		b->peek.pending = false;
		e = b->peek.e;
		r = b->peek.r;
		before = b->peek.before;
		after = b->peek.after;
	} else {
		/* the last entry's padding, so that what follows is the end marker */
		if (archive_read_data_skip(b->tar) != ARCHIVE_OK)
			return tar_failed(b, "end of archive");
		before = archive_filter_bytes(b->tar, 0);
		r = archive_read_next_header(b->tar, &e);
		after = archive_filter_bytes(b->tar, 0);
	}
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return reject(b, "entry '%s' is not in the manifest",
			      archive_entry_pathname_utf8(e) ? archive_entry_pathname_utf8(e) : "?");
	if (r != ARCHIVE_EOF)
		return tar_failed(b, "end of archive");
	if (b->read_rc != FOLIO_OK)
		return read_failure(b);
	if (after - before != END_OF_ARCHIVE)
		return reject(b, "truncated: the tar archive does not end with two zero blocks");
	size_t len;
	do {
		int rc = decode_some(b, &len);
		if (rc != FOLIO_OK)
			return rc;
	} while (len > 0);
	if ((uint64_t)archive_filter_bytes(b->tar, 0) != b->decoded)
		return reject(b, "trailing data after the end of the tar archive");
	return FOLIO_OK;
}

/* A file whose content is an earlier file's: copied inside staging, and
 * hashed again on the way. */
static int copy_duplicate(folio_bundle *b, struct staging *s, const struct folio_file *f,
			  const struct folio_file *from, uint8_t *buf)
{
	int in = openat(s->fd, from->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, from->path);
	int out = create_file(b, s, f->path, f->mode);
	if (out < 0) {
		close(in);
		return out;
	}
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, FOLIO_HASH_BYTES);
	int rc = FOLIO_OK;
	for (;;) {
		ssize_t n = read(in, buf, b->out_size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, from->path);
		if (n <= 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
		if ((rc = write_all(b, out, buf, (size_t)n, f->path)) != FOLIO_OK)
			break;
	}
	close(in);
	if (close(out) != 0 && rc == FOLIO_OK)
		rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, f->path);
	uint8_t hash[FOLIO_HASH_BYTES];
	crypto_generichash_final(&st, hash, sizeof(hash));
	if (rc == FOLIO_OK && !FUZZING_IGNORES_HASHES &&
	    sodium_memcmp(hash, f->hash, sizeof(hash)) != 0)
		rc = reject(b, "'%s' does not match its hash", f->path);
	return rc;
}

static int write_meta(folio_bundle *b, struct staging *s, const char *path,
		      const char *data, size_t len)
{
	int fd = create_file(b, s, path, 0644);
	if (fd < 0)
		return fd;
	int rc = write_all(b, fd, data, len, path);
	if (close(fd) != 0 && rc == FOLIO_OK)
		rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, path);
	return rc;
}

static int stream_body(folio_bundle *b, struct staging *s)
{
	int rc = FOLIO_OK;
	for (size_t i = 0; i < b->m.nfiles && rc == FOLIO_OK; i++)
		if (b->m.files[i].same_as == i)
			rc = take_entry(b, s, &b->m.files[i]);
	if (rc == FOLIO_OK)
		rc = take_end(b);
	if (rc != FOLIO_OK || s == NULL)
		return rc;
	for (size_t i = 0; i < b->m.nfiles && rc == FOLIO_OK; i++) {
		const struct folio_file *f = &b->m.files[i];
		if (f->same_as != i)
			rc = copy_duplicate(b, s, f, &b->m.files[f->same_as], b->outbuf);
	}
	if (rc == FOLIO_OK)
		rc = write_meta(b, s, FOLIO_MANIFEST_PATH, b->manifest, b->manifest_len);
	if (rc == FOLIO_OK)
		rc = write_meta(b, s, FOLIO_SIGNATURE_PATH, b->sig, b->sig_len);
	size_t len;
	const char *data;
	if (rc == FOLIO_OK && (data = folio_bundle_keylist_json(b, &len)) != NULL)
		rc = write_meta(b, s, FOLIO_KEYS_PATH, data, len);
	if (rc == FOLIO_OK && (data = folio_bundle_keylist_sig(b, &len)) != NULL)
		rc = write_meta(b, s, FOLIO_KEYS_SIGNATURE_PATH, data, len);
	return rc;
}

int folio_bundle_verify(folio_bundle *b)
{
	folio_clear_error(b->ctx);
	if (b->used)
		return folio_fail(b->ctx, FOLIO_EUSAGE, "'%s' was already read", b->name);
	b->used = true;
	locale_t previous = folio_utf8_begin(b->ctx);
	int rc = stream_body(b, NULL);
	folio_utf8_end(previous);
	return rc;
}

/* ---- staging and the final rename ------------------------------------------ */

/* Removes name below dirfd, a tree folio made itself; never follows links. */
void folio_remove_tree(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		DIR *dir = fdopendir(fd);
		if (dir != NULL) {
			struct dirent *de;
			while ((de = readdir(dir)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
					continue;
				if (unlinkat(fd, de->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM))
					folio_remove_tree(fd, de->d_name);
			}
			closedir(dir);
		} else {
			close(fd);
		}
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno == ENOTDIR)
		unlinkat(dirfd, name, 0);
}

static int split_dest(folio_bundle *b, const char *dest, int flags, struct staging *s)
{
	char *copy = strdup(dest);
	if (copy == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot unpack '%s'", b->name);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	const char *parent = ".";
	char *base = copy;
	if (slash != NULL) {
		*slash = '\0';
		parent = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		free(copy);
		return folio_fail(b->ctx, FOLIO_EUSAGE, "cannot unpack into '%s': name a new folder", dest);
	}
	s->parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					   ((flags & FOLIO_UNPACK_PARENT_NOFOLLOW) ? O_NOFOLLOW : 0));
	int err = errno;
	s->dest_base = strdup(base);
	free(copy);
	if (s->parentfd < 0)
		return folio_fail_errno(b->ctx, err, "cannot unpack into '%s'", dest);
	if (s->dest_base == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot unpack '%s'", b->name);
	return FOLIO_OK;
}

/* Staging folders left by a run that was killed: named like ours and not
 * locked by a live process (flock dies with its holder). */
static void remove_stale_staging(struct staging *s)
{
	int fd = dup(s->parentfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t blen = strlen(s->dest_base);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		const char *n = de->d_name;
		if (n[0] != '.' || strncmp(n + 1, s->dest_base, blen) != 0 ||
		    strncmp(n + 1 + blen, ".folio-", 7) != 0 || strlen(n + 1 + blen + 7) != 8 ||
		    strspn(n + 1 + blen + 7, "0123456789abcdef") != 8)
			continue;
		int sfd = openat(s->parentfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		if (flock(sfd, LOCK_EX | LOCK_NB) == 0)
			folio_remove_tree(s->parentfd, n);
		close(sfd);
	}
	closedir(dir);
}

static int make_staging(folio_bundle *b, const char *dest, struct staging *s)
{
	remove_stale_staging(s);
	size_t size = strlen(s->dest_base) + 32;
	s->name = malloc(size);
	if (s->name == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot unpack '%s'", b->name);
	for (int attempt = 0; attempt < 100; attempt++) {
		uint32_t r = randombytes_random();
		snprintf(s->name, size, ".%s.folio-%08x", s->dest_base, r);
		if (mkdirat(s->parentfd, s->name, 0700) != 0) {
			if (errno != EEXIST)
				return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s'", dest);
			continue;
		}
		s->fd = openat(s->parentfd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->fd < 0 && errno != ENOENT) {
			int err = errno;
			unlinkat(s->parentfd, s->name, AT_REMOVEDIR);
			return folio_fail_errno(b->ctx, err, "cannot unpack into '%s'", dest);
		}
		/* The lock is held while this run lives and tells other runs the
		 * folder is not stale.  Another run's sweep may take the folder
		 * for stale between mkdirat and flock and remove it: then it is
		 * gone (or going), and another name is tried. */
		struct stat st;
		if (s->fd >= 0 && flock(s->fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstat(s->fd, &st) == 0 && st.st_nlink > 0)
			return FOLIO_OK;
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
	}
	return folio_fail(b->ctx, FOLIO_ESYSTEM, "cannot unpack into '%s': no staging name free", dest);
}

/* File systems without renameat2's flags (FUSE ones such as fusefat say
 * EINVAL): look, then rename.  Under the library's lock nothing else makes
 * dest in between; for a plain unpack there is a small window in which a
 * dest made by another process would be replaced (docs/FORMAT.md 16.7). */
static int rename_noreplace_fallback(struct staging *s)
{
	struct stat st;
	if (fstatat(s->parentfd, s->dest_base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(s->parentfd, s->name, s->parentfd, s->dest_base);
}

/* The exchange in two renames: the old dest moves to a name of its own that
 * the next run sweeps as a stale staging folder, then the new one takes its
 * place.  Killed between the two, dest is missing (not damaged); the library
 * finds the edition gone and re-installs it with --force. */
static int rename_exchange_fallback(struct staging *s)
{
	size_t size = strlen(s->dest_base) + 32;
	char *old = malloc(size);
	if (old == NULL)
		return -1;
	int r = -1;
	for (int attempt = 0; attempt < 100 && r != 0; attempt++) {
		snprintf(old, size, ".%s.folio-%08x", s->dest_base, randombytes_random());
		struct stat st;
		if (fstatat(s->parentfd, old, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		r = renameat(s->parentfd, s->dest_base, s->parentfd, old);
		if (r != 0 && errno == ENOENT) { /* no dest after all */
			r = renameat(s->parentfd, s->name, s->parentfd, s->dest_base);
			free(old);
			return r;
		}
		if (r != 0)
			break;
	}
	if (r == 0) {
		r = renameat(s->parentfd, s->name, s->parentfd, s->dest_base);
		int err = errno;
		if (r == 0)
			folio_remove_tree(s->parentfd, old);
		else
			(void)renameat(s->parentfd, old, s->parentfd, s->dest_base); /* back */
		errno = err;
	}
	free(old);
	return r;
}

static int commit(folio_bundle *b, const char *dest, struct staging *s, bool replace)
{
	if (syncfs(s->fd) != 0 || set_mode(s->fd, 0755) != 0)
		return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s'", dest);
	int r;
	if (!replace) {
		r = renameat2(s->parentfd, s->name, s->parentfd, s->dest_base, RENAME_NOREPLACE);
		if (r != 0 && errno == EINVAL)
			r = rename_noreplace_fallback(s);
		if (r != 0 && errno == EEXIST)
			return folio_fail(b->ctx, FOLIO_EUSAGE,
					  "cannot unpack into '%s': it exists (use --force to replace it)", dest);
	} else {
		/* Swap in one step; the old edition leaves under the staging name. */
		r = renameat2(s->parentfd, s->name, s->parentfd, s->dest_base, RENAME_EXCHANGE);
		if (r != 0 && errno == EINVAL)
			r = rename_exchange_fallback(s);
		else if (r != 0 && errno == ENOENT)
			r = renameat2(s->parentfd, s->name, s->parentfd, s->dest_base, RENAME_NOREPLACE);
		else if (r == 0)
			folio_remove_tree(s->parentfd, s->name);
		if (r != 0 && errno == EINVAL) /* ENOENT above, on a file system without renameat2 */
			r = rename_noreplace_fallback(s);
	}
	if (r != 0)
		return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s'", dest);
	free(s->name);
	s->name = NULL;
	if (fsync(s->parentfd) != 0)
		return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s'", dest);
	return FOLIO_OK;
}

/* The edition dest already holds, if it is one of this channel: never go
 * back to an older one (rollback); the same one is nothing to do (once
 * verified); and its creation time is a floor for the clock, so a device
 * whose clock is behind is not fed an edition that expired before the one
 * it has was made.  A dest that holds no readable edition is replaced. */
static int check_installed(folio_bundle *b, const char *dest)
{
	folio_ctx *quiet = folio_new(); /* failures to read dest are not errors */
	char *path = NULL, *json = NULL;
	size_t len;
	struct folio_manifest old = {0};
	if (quiet == NULL || asprintf(&path, "%s/" FOLIO_MANIFEST_PATH, dest) < 0) {
		folio_free(quiet);
		return folio_fail_errno(b->ctx, ENOMEM, "cannot unpack '%s'", b->name);
	}
	memcpy(quiet->limits, b->ctx->limits, sizeof(quiet->limits));
	int rc = FOLIO_OK;
	if (folio_read_small_file(quiet, path, quiet->limits[FOLIO_LIMIT_MANIFEST_SIZE], &json, &len) == FOLIO_OK &&
	    folio_manifest_decode(quiet, path, json, len, &old) == FOLIO_OK &&
	    strcmp(old.channel, b->m.channel) == 0) {
		char when[32];
		if (b->m.edition < old.edition) {
			rc = folio_fail(b->ctx, FOLIO_EREJECT,
					"cannot unpack '%s': edition %llu of channel '%s' is older than edition %llu in '%s'",
					b->name, (unsigned long long)b->m.edition, b->m.channel,
					(unsigned long long)old.edition, dest);
		} else if (b->m.edition == old.edition) {
			b->current = true;
		} else if (b->m.expires <= old.created) {
			folio_time_format(when, b->m.expires);
			rc = reject(b, "edition expired at %s, before edition %llu in '%s' was made",
				    when, (unsigned long long)old.edition, dest);
		}
	}
	folio_manifest_release(&old);
	free(json);
	free(path);
	folio_free(quiet);
	return rc;
}

int folio_bundle_current(const folio_bundle *b) { return b->current; }

int folio_bundle_unpack(folio_bundle *b, const char *dest, int flags)
{
	return folio_bundle_unpack_hook(b, dest, flags, NULL, NULL);
}

int folio_bundle_unpack_hook(folio_bundle *b, const char *dest, int flags,
			     int (*before_commit)(void *arg, folio_bundle *b, int stagingfd),
			     void *arg)
{
	folio_clear_error(b->ctx);
	if (b->used)
		return folio_fail(b->ctx, FOLIO_EUSAGE, "'%s' was already read", b->name);
	b->used = true;
	struct staging s = {.parentfd = -1, .fd = -1};
	b->dest = dest;
	int rc = split_dest(b, dest, flags, &s);
	bool replace = (flags & FOLIO_FORCE) != 0;
	struct stat st;
	if (rc == FOLIO_OK && fstatat(s.parentfd, s.dest_base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!replace)
			rc = folio_fail(b->ctx, FOLIO_EUSAGE,
					"cannot unpack into '%s': it exists (use --force to replace it)", dest);
		else if (!S_ISDIR(st.st_mode))
			rc = folio_fail(b->ctx, FOLIO_EUSAGE,
					"cannot unpack into '%s': it exists and is not a folder", dest);
		else if ((flags & FOLIO_UNPACK_REPLACE_ANY) == 0)
			rc = check_installed(b, dest);
	}
	if (rc == FOLIO_OK && !b->current)
		rc = make_staging(b, dest, &s);
	else if (rc == FOLIO_OK)
		remove_stale_staging(&s); /* a killed run's, even with nothing to do */
	if (rc == FOLIO_OK) {
		/* The edition dest holds is still checked: a damaged copy of it is
		 * refused, not waved through as "nothing to do". */
		locale_t previous = folio_utf8_begin(b->ctx);
		rc = stream_body(b, b->current ? NULL : &s);
		folio_utf8_end(previous);
		if (rc == FOLIO_OK && !b->current && before_commit != NULL)
			rc = before_commit(arg, b, s.fd);
		if (rc == FOLIO_OK && !b->current)
			rc = commit(b, dest, &s, replace);
	}
	if (s.fd >= 0)
		close(s.fd);
	if (s.name != NULL)
		folio_remove_tree(s.parentfd, s.name);
	if (s.parentfd >= 0)
		close(s.parentfd);
	free(s.name);
	free(s.dest_base);
	return rc;
}
