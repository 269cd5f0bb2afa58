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
#include <jansson.h>
#include <sodium.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "folio-internal.h"

#define FUTURE_MARGIN 86400   /* creation time may be this far past the clock */
#define ENTRY_OVERHEAD 8192   /* tar and pax header bytes allowed per entry */
#define END_OF_ARCHIVE 1024
#define BODY_END 1            /* take_next: the archive ended as it must */
#define NONE SIZE_MAX
#define WRITER_QUEUE (4u << 20) /* bytes decoded ahead of the writing thread */
#define LAYER_TEXT 1
#define LAYER_MEDIA 2

/* An edition folder that may supply contents the bundle lacks. */
struct source {
	int fd;
	char *dir;
	struct folio_manifest m;
	char *json;         /* its manifest's bytes, and their hash: the base of a */
	size_t json_len;    /* delta's manifest */
	uint8_t mhash[FOLIO_HASH_BYTES];
};

/* One file a source holds, for lookup by content. */
struct have {
	const struct folio_file *f;
	size_t src;
};

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
	struct folio_writer *writer; /* unpacking: files written from a second thread */
	uint8_t *outbuf;
	size_t out_size;
	uint64_t decoded;   /* tar bytes produced so far */
	uint64_t frame_out; /* of them, in the current frame */
	uint64_t restart_decoded; /* decoded when the tar reader last started */
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
	bool any_time;      /* no expiry or future check (a publisher's base) */
	bool current;       /* unpack found dest already holding this edition */
	const char *dest;   /* unpack: DEST as given, for messages */
	/* Bundles that carry part of an edition (FORMAT.md section 17). */
	char *info;         /* .folio/bundle.json as read, or NULL */
	size_t info_len;
	uint64_t base;      /* the edition a delta says it needs */
	unsigned layers;    /* the layers it says it carries */
	bool partial;       /* FOLIO_PARTIAL: damage is skipped, not fatal */
	bool keep_missing;  /* missing files are accepted (improving an incomplete copy) */
	char *damage;       /* the first damage skipped */
	off_t in_base;      /* the input offset of inbuf[0] */
	off_t frame_pos;    /* the input offset where the current frame began */
	off_t resumed_at;   /* where the last resume found a frame, or -1 */
	bool fresh_tar;     /* the tar reader restarted: no entry to skip */
	size_t *order;      /* file indexes sorted by path */
	size_t *held;       /* per content (its first file's index): the file that
			       holds it, verified, or NONE */
	size_t last;        /* the file index of the last entry taken, or NONE */
	size_t received, reused;
	struct source *src;
	size_t nsrc;
	struct have *have;  /* every file of every source, by hash */
	size_t nhave;
	size_t *missing;    /* file indexes */
	size_t nmissing, missing_text;
	ZSTD_DCtx *pdctx;   /* patches */
	uint8_t *base_data; /* the last patch base read, its length and hash */
	size_t base_len;
	uint8_t base_hash[FOLIO_HASH_BYTES];
	uint64_t base_read, base_budget; /* bytes read for bases, and the most */
	size_t *by_hash;    /* the contents (first file indexes) sorted by hash */
	size_t ncontents;
	/* progress (folio_set_progress) while the body is read */
	bool reporting;
	size_t *copies;     /* per content (its first file's index): its files */
	uint64_t files_held; /* files whose content an entry gave, verified */
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
		b->in_base += (off_t)b->in.pos;
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
		if (b->reporting)
			folio_progress_set(b->ctx, b->files_held, (uint64_t)b->in_base + b->in.size);
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
			b->frame_pos = b->in_base + (off_t)b->in.pos;
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

/* The PATH a patch entry's name .folio/patch/BASEHEX/PATH names, with
 * BASEHEX copied to hex; NULL when name is not one. */
static const char *patch_target(const char *name, char hex[2 * FOLIO_HASH_BYTES + 1])
{
	size_t plen = strlen(FOLIO_PATCH_PREFIX);
	if (strncmp(name, FOLIO_PATCH_PREFIX, plen) != 0)
		return NULL;
	const char *p = name + plen;
	if (strspn(p, "0123456789abcdef") != 2 * FOLIO_HASH_BYTES || p[2 * FOLIO_HASH_BYTES] != '/')
		return NULL;
	memcpy(hex, p, 2 * FOLIO_HASH_BYTES);
	hex[2 * FOLIO_HASH_BYTES] = '\0';
	return p + 2 * FOLIO_HASH_BYTES + 1;
}

/* The next header, which must be a regular file named expect, or, when
 * hex is not NULL, a patch of expect (its base's hash then in hex; else
 * hex is ""). */
static int next_header(folio_bundle *b, struct archive_entry **e, const char *expect,
		       char hex[2 * FOLIO_HASH_BYTES + 1])
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
	const char *path = archive_entry_pathname_utf8(*e), *target;
	if (hex != NULL)
		hex[0] = '\0';
	if (path != NULL && hex != NULL && strcmp(path, expect) != 0 &&
	    ((target = patch_target(path, hex)) == NULL || strcmp(target, expect) != 0))
		hex[0] = '\0';
	if (path == NULL || (strcmp(path, expect) != 0 && (hex == NULL || hex[0] == '\0')))
		return reject(b, "unexpected entry where '%s' belongs", expect);
	if (!archive_entry_size_is_set(*e) || archive_entry_size(*e) < 0)
		return reject(b, "entry '%s' has no size", expect);
	return FOLIO_OK;
}

static int read_small_entry(folio_bundle *b, const char *expect, size_t max,
			    char **out, size_t *len, char hex[2 * FOLIO_HASH_BYTES + 1])
{
	struct archive_entry *e;
	int rc = next_header(b, &e, expect, hex);
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

static bool peeked(const folio_bundle *b, const char *name)
{
	if (!b->peek.pending || (b->peek.r != ARCHIVE_OK && b->peek.r != ARCHIVE_WARN))
		return false;
	const char *path = archive_entry_pathname_utf8(b->peek.e);
	return path != NULL && strcmp(path, name) == 0;
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
	if (b->any_time)
		return FOLIO_OK;
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

/* A tar reader over the decoded stream, tar format only; again after
 * damage, at the frame where reading resumes. */
static int open_tar(folio_bundle *b)
{
	if (b->tar != NULL)
		archive_read_free(b->tar);
	b->tar = archive_read_new();
	if (b->tar == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	if (archive_read_support_format_tar(b->tar) != ARCHIVE_OK ||
	    archive_read_support_filter_none(b->tar) != ARCHIVE_OK ||
	    archive_read_open(b->tar, b, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
		return tar_failed(b, "start");
	return FOLIO_OK;
}

/* .folio/bundle.json: {"format":"folio-bundle-1"[,"base":N][,"layers":[...]]}.
 * Unsigned, so it decides nothing; but a bundle that has one must have it
 * right. */
static int parse_info(folio_bundle *b)
{
	json_error_t err;
	json_t *j = json_loadb(b->info, b->info_len, JSON_REJECT_DUPLICATES, &err);
	const char *bad = NULL;
	json_t *v;
	if (!json_is_object(j))
		bad = "not a JSON object";
	else if (!json_is_string(v = json_object_get(j, "format")) ||
		 strcmp(json_string_value(v), "folio-bundle-1") != 0)
		bad = "format is not folio-bundle-1";
	else if ((v = json_object_get(j, "base")) != NULL &&
		 (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  (uint64_t)json_integer_value(v) > FOLIO_JSON_INT_MAX))
		bad = "base is not an edition number";
	else if ((v = json_object_get(j, "layers")) != NULL) {
		size_t i, n = json_array_size(v);
		json_t *l;
		if (!json_is_array(v) || n == 0 || n > 2)
			bad = "layers is not a list of layers";
		json_array_foreach(v, i, l)
			if (!json_is_string(l) || (strcmp(json_string_value(l), "text") != 0 &&
						   strcmp(json_string_value(l), "media") != 0) ||
			    (i == 1 && json_equal(l, json_array_get(v, 0))))
				bad = "layers is not a list of layers";
	}
	if (bad == NULL && (v = json_object_get(j, "base")) != NULL)
		b->base = (uint64_t)json_integer_value(v);
	if (bad == NULL && (v = json_object_get(j, "layers")) != NULL) {
		size_t i;
		json_t *l;
		b->layers = 0;
		json_array_foreach(v, i, l)
			b->layers |= strcmp(json_string_value(l), "text") == 0 ? LAYER_TEXT : LAYER_MEDIA;
	}
	json_decref(j);
	if (bad != NULL)
		return reject(b, "malformed '" FOLIO_BUNDLE_INFO_PATH "': %s", bad);
	if (b->base >= b->m.edition)
		return reject(b, "'" FOLIO_BUNDLE_INFO_PATH "' names base edition %llu, not older than "
			      "edition %llu", (unsigned long long)b->base, (unsigned long long)b->m.edition);
	return FOLIO_OK;
}

/* A patch: one zstd frame as folio writes it that decodes, with base as
 * its reference prefix (RFC 8878 3.1.1; zstd --patch-from), to at most cap
 * bytes; *out malloc'd. */
static int decode_patch(folio_bundle *b, const char *path, const uint8_t *patch, size_t size,
			const uint8_t *base, size_t base_len, uint64_t cap, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	if (size < 6 || patch[0] != 0x28 || patch[1] != 0xb5 || patch[2] != 0x2f || patch[3] != 0xfd ||
	    !canonical_frame_header(patch[4], patch[5]))
		return reject(b, "the patch for '%s' is not a zstd frame as folio writes it", path);
	if (b->pdctx == NULL && (b->pdctx = ZSTD_createDCtx()) == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	uint8_t *buf = malloc(cap + 1);
	if (buf == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	ZSTD_DCtx_reset(b->pdctx, ZSTD_reset_session_and_parameters);
	size_t r = ZSTD_DCtx_setParameter(b->pdctx, ZSTD_d_windowLogMax,
					  (int)b->ctx->limits[FOLIO_LIMIT_WINDOW_LOG]);
#ifdef FOLIO_FUZZING
	ZSTD_DCtx_setParameter(b->pdctx, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
#endif
	if (!ZSTD_isError(r))
		r = ZSTD_DCtx_refPrefix(b->pdctx, base, base_len);
	ZSTD_inBuffer in = {patch, size, 0};
	ZSTD_outBuffer o = {buf, cap + 1, 0};
	while (!ZSTD_isError(r) && in.pos < in.size && o.pos < o.size) {
		r = ZSTD_decompressStream(b->pdctx, &o, &in);
		if (r == 0)
			break;
	}
	int rc = FOLIO_OK;
	if (ZSTD_isError(r))
		rc = reject(b, "the patch for '%s' does not decode: %s", path, ZSTD_getErrorName(r));
	else if (o.pos > cap)
		rc = reject(b, "the patch for '%s' does not decode to the declared size", path);
	else if (r != 0 || in.pos != in.size)
		rc = reject(b, "the patch for '%s' is not one whole zstd frame", path);
	if (rc != FOLIO_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = o.pos;
	return FOLIO_OK;
}

/* Entry 1: the manifest, or in a delta a patch of it against the base
 * edition's manifest, which a source holds; decoded here and then
 * verified like any manifest.  A patch whose base is not at hand leaves
 * b->manifest NULL (no_manifest_base says so once the head is read). */
static int read_manifest(folio_bundle *b)
{
	uint64_t max = b->ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE];
	char hex[2 * FOLIO_HASH_BYTES + 1];
	char *data;
	size_t len;
	int rc = read_small_entry(b, FOLIO_MANIFEST_PATH, ZSTD_compressBound((size_t)max) + 32, &data,
				  &len, hex);
	if (rc != FOLIO_OK)
		return rc;
	if (hex[0] == '\0') {
		if (len > max) {
			free(data);
			return reject(b, "'" FOLIO_MANIFEST_PATH "' is larger than its limit");
		}
		b->manifest = data;
		b->manifest_len = len;
		return FOLIO_OK;
	}
	uint8_t want[FOLIO_HASH_BYTES];
	(void)folio_unhex(want, sizeof(want), hex);
	for (size_t i = 0; i < b->nsrc; i++)
		if (sodium_memcmp(b->src[i].mhash, want, sizeof(want)) == 0) {
			uint8_t *out;
			size_t out_len;
			rc = decode_patch(b, FOLIO_MANIFEST_PATH, (const uint8_t *)data, len,
					  (const uint8_t *)b->src[i].json, b->src[i].json_len, max, &out, &out_len);
			free(data);
			if (rc == FOLIO_OK) {
				b->manifest = (char *)out;
				b->manifest_len = out_len;
			}
			return rc;
		}
	free(data);
	return FOLIO_OK;
}

/* A delta whose manifest is a patch against a manifest no source has:
 * nothing can be verified.  The bundle's description (unsigned) says
 * which edition it needs. */
static int no_manifest_base(folio_bundle *b)
{
	json_t *j = b->info ? json_loadb(b->info, b->info_len, 0, NULL) : NULL;
	json_t *v = json_object_get(j, "base");
	char which[64] = "the edition it was made against";
	if (json_is_integer(v) && json_integer_value(v) > 0)
		snprintf(which, sizeof(which), "edition %lld", (long long)json_integer_value(v));
	uint64_t base = json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	json_decref(j);
	int rc = reject(b, "it is a delta against %s, whose manifest it patches, and that edition is "
			"not here: install %s first (or unpack with --base and its folder)", which, which);
	b->ctx->needs_base = base;
	/* for the library's words only: "folio-1 channel:C edition:N ..." */
	struct folio_sig sig;
	folio_ctx *quiet = folio_new();
	unsigned long long n;
	char channel[FOLIO_CHANNEL_MAX + 1];
	if (quiet != NULL && folio_sig_parse(quiet, b->name, b->sig, b->sig_len, &sig) == FOLIO_OK &&
	    sscanf(sig.comment, "folio-1 channel:%64s edition:%llu", channel, &n) == 2) {
		snprintf(b->ctx->delta_channel, sizeof(b->ctx->delta_channel), "%s", channel);
		b->ctx->delta_edition = n;
	}
	folio_free(quiet);
	return rc;
}

/* A delta whose manifest's base is not here may still be an edition a
 * source holds already (the same delta again, or a layer of an edition
 * kept): a source whose manifest the signature's trusted comment describes
 * is taken as the manifest, and verify_head then checks the signature over
 * exactly those bytes. */
static int manifest_from_sources(folio_bundle *b)
{
	struct folio_sig sig;
	folio_ctx *quiet = folio_new();
	bool parsed = quiet != NULL && folio_sig_parse(quiet, b->name, b->sig, b->sig_len, &sig) == FOLIO_OK;
	folio_free(quiet);
	for (size_t i = 0; parsed && i < b->nsrc; i++) {
		char *comment = folio_trusted_comment(&b->src[i].m);
		bool same = comment != NULL && strcmp(comment, sig.comment) == 0;
		free(comment);
		if (!same)
			continue;
		if ((b->manifest = malloc(b->src[i].json_len + 1)) == NULL)
			return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
		memcpy(b->manifest, b->src[i].json, b->src[i].json_len);
		b->manifest_len = b->src[i].json_len;
		return FOLIO_OK;
	}
	return no_manifest_base(b);
}

static int open_head(folio_bundle *b, const struct folio_open_opts *o)
{
	folio_ctx *ctx = b->ctx;
	b->in_size = ZSTD_DStreamInSize();
	b->out_size = ZSTD_DStreamOutSize();
	b->inbuf = malloc(b->in_size);
	b->outbuf = malloc(b->out_size);
	b->dctx = ZSTD_createDCtx();
	if (b->inbuf == NULL || b->outbuf == NULL || b->dctx == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", b->name);
	b->in = (ZSTD_inBuffer){b->inbuf, 0, 0};
	b->frame_start = true;
	b->layers = LAYER_TEXT | LAYER_MEDIA;
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
		 FOLIO_SIGNATURE_MAX + FOLIO_BUNDLE_INFO_MAX + 7 * ENTRY_OVERHEAD + b->out_size;
	int rc = open_tar(b);
	if (rc != FOLIO_OK)
		return rc;

	rc = read_manifest(b);
	if (rc == FOLIO_OK)
		rc = read_small_entry(b, FOLIO_SIGNATURE_PATH, FOLIO_SIGNATURE_MAX, &b->sig, &b->sig_len, NULL);
	/* Entries 3 and 4 may be a key list and its signature. */
	char *keys = NULL, *keys_sig = NULL;
	size_t keys_len = 0, keys_sig_len = 0;
	if (rc == FOLIO_OK) {
		peek_header(b);
		if (peeked(b, FOLIO_KEYS_PATH))
			rc = read_small_entry(b, FOLIO_KEYS_PATH, FOLIO_KEYS_MAX, &keys, &keys_len, NULL);
		if (rc == FOLIO_OK && keys != NULL) {
			rc = read_small_entry(b, FOLIO_KEYS_SIGNATURE_PATH, FOLIO_SIGNATURE_MAX,
					      &keys_sig, &keys_sig_len, NULL);
			if (rc == FOLIO_OK)
				peek_header(b);
		}
	}
	/* Then may come the bundle's description: unsigned, read now, believed
	 * only as a hint once the head verified. */
	if (rc == FOLIO_OK && peeked(b, FOLIO_BUNDLE_INFO_PATH)) {
		rc = read_small_entry(b, FOLIO_BUNDLE_INFO_PATH, FOLIO_BUNDLE_INFO_MAX, &b->info,
				      &b->info_len, NULL);
		if (rc == FOLIO_OK)
			peek_header(b);
	}
	if (rc == FOLIO_OK && b->manifest == NULL)
		rc = manifest_from_sources(b);
	if (rc == FOLIO_OK)
		rc = verify_head(b, o, keys, keys_len, keys_sig, keys_sig_len);
	if (rc == FOLIO_OK && b->info != NULL)
		rc = parse_info(b);
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

int folio_bundle_open_with(folio_ctx *ctx, const char *path, const folio_pubkey *key,
			   const char *channel, const char *const *sources, size_t nsources,
			   folio_bundle **out)
{
	struct folio_open_opts o = {.key = key, .channel = channel, .future_margin = -1,
				    .sources = sources, .nsources = nsources};
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
	b->resumed_at = -1;
	b->now_floor = o->now_floor;
	b->future_margin = o->future_margin >= 0 ? o->future_margin : FUTURE_MARGIN;
	b->any_time = o->any_time;
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
	for (size_t i = 0; i < o->nsources && rc == FOLIO_OK; i++)
		rc = folio_bundle_add_source(b, o->sources[i]);
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
	free(b->info);
	free(b->damage);
	free(b->order);
	free(b->held);
	free(b->copies);
	free(b->missing);
	for (size_t i = 0; i < b->nsrc; i++) {
		close(b->src[i].fd);
		free(b->src[i].dir);
		free(b->src[i].json);
		folio_manifest_release(&b->src[i].m);
	}
	free(b->src);
	free(b->have);
	ZSTD_freeDCtx(b->pdctx);
	free(b->base_data);
	free(b->by_hash);
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

/* ---- writing into staging ------------------------------------------------- */

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
	if (folio_write_all(fd, buf, len) != 0)
		return folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, path);
	return FOLIO_OK;
}

static int writer_failed(folio_bundle *b, int err, const char *path)
{
	return folio_fail_errno(b->ctx, err, "cannot unpack into '%s': '%s'", b->dest,
				path != NULL ? path : "?");
}

/* Every file handed to the writer is written and closed. */
static int writer_drain(folio_bundle *b)
{
	const char *failed = NULL;
	int err = folio_writer_drain(b->writer, &failed);
	return err != 0 ? writer_failed(b, err, failed) : FOLIO_OK;
}

/* Hashes what fd reads, writing it to out (if >= 0) as it goes: the bytes
 * written are the bytes hashed.  Reads at most max + 1 bytes: a longer file
 * is told by *len > max, and a 100 GB file where 10 bytes are expected is
 * not copied.  Returns 0, or -errno of the read; a write failure is told
 * through rc. */
static int copy_hashing(folio_bundle *b, int in, int out, const char *path, uint8_t *buf,
			uint64_t max, uint64_t *len, uint8_t hash[FOLIO_HASH_BYTES], int *rc)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, FOLIO_HASH_BYTES);
	*len = 0;
	int err = 0;
	for (;;) {
		uint64_t left = max - *len + 1;
		ssize_t n = read(in, buf, left < b->out_size ? (size_t)left : b->out_size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
		*len += (uint64_t)n;
		if (*len > max)
			break;
		if (out >= 0 && (*rc = write_all(b, out, buf, (size_t)n, path)) != FOLIO_OK)
			break;
	}
	crypto_generichash_final(&st, hash, FOLIO_HASH_BYTES);
	return err;
}

static bool hash_ok(const uint8_t *hash, const struct folio_file *f)
{
	return FUZZING_IGNORES_HASHES || sodium_memcmp(hash, f->hash, FOLIO_HASH_BYTES) == 0;
}

/* One entry holding a whole file: checked against f as it streams; written
 * to s when s is not NULL. */
static int take_whole(folio_bundle *b, struct staging *s, const struct folio_file *f,
		      struct archive_entry *e)
{
	if ((uint64_t)archive_entry_size(e) != f->size)
		return reject(b, "'%s' has a different size than the manifest says", f->path);
	int fd = -1, rc = FOLIO_OK;
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
		if (fd >= 0 && b->writer != NULL) {
			const char *failed = f->path;
			int err = folio_writer_write(b->writer, fd, buf, len, f->path, &failed);
			if (err != 0) {
				rc = writer_failed(b, err, failed);
				break;
			}
		} else if (fd >= 0 && (rc = write_all(b, fd, buf, len, f->path)) != FOLIO_OK) {
			break;
		}
		pos += len;
	}
	if (fd >= 0 && b->writer != NULL) {
		const char *failed = f->path;
		int err = folio_writer_close(b->writer, fd, f->path, &failed);
		if (err != 0 && rc == FOLIO_OK)
			rc = writer_failed(b, err, failed);
	} else if (fd >= 0 && close(fd) != 0 && rc == FOLIO_OK) {
		rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, f->path);
	}
	if (rc == FOLIO_OK && pos != f->size)
		rc = reject(b, "'%s' is shorter than its declared size", f->path);
	uint8_t hash[FOLIO_HASH_BYTES];
	crypto_generichash_final(&st, hash, sizeof(hash));
	if (rc == FOLIO_OK && !hash_ok(hash, f))
		rc = reject(b, "'%s' does not match its hash", f->path);
	if (rc != FOLIO_OK && fd >= 0)
		unlinkat(s->fd, f->path, 0); /* a partial read goes on without it */
	return rc;
}

/* ---- sources: contents the bundle does not carry ------------------------- */

static int compare_have(const void *x, const void *y)
{
	const struct have *a = x, *b = y;
	int c = memcmp(a->f->hash, b->f->hash, FOLIO_HASH_BYTES);
	if (c != 0)
		return c;
	return a->f->size < b->f->size ? -1 : a->f->size > b->f->size;
}

int folio_bundle_add_source(folio_bundle *b, const char *dir)
{
	folio_clear_error(b->ctx);
	for (size_t i = 0; i < b->nsrc; i++)
		if (strcmp(b->src[i].dir, dir) == 0)
			return FOLIO_OK;
	struct source *p = realloc(b->src, (b->nsrc + 1) * sizeof(*p));
	if (p == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot read '%s'", dir);
	b->src = p;
	struct source *src = &b->src[b->nsrc];
	memset(src, 0, sizeof(*src));
	src->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src->fd < 0)
		return folio_fail_errno(b->ctx, errno, "cannot read '%s'", dir);
	char *path = NULL, *json = NULL;
	size_t len;
	int rc = FOLIO_OK;
	if ((src->dir = strdup(dir)) == NULL || asprintf(&path, "%s/" FOLIO_MANIFEST_PATH, dir) < 0) {
		path = NULL;
		rc = folio_fail_errno(b->ctx, ENOMEM, "cannot read '%s'", dir);
	}
	if (rc == FOLIO_OK)
		rc = folio_read_small_file(b->ctx, path, b->ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE], &json, &len);
	if (rc == FOLIO_OK)
		rc = folio_manifest_decode(b->ctx, path, json, len, &src->m);
	struct have *h = NULL;
	if (rc == FOLIO_OK && (h = realloc(b->have, (b->nhave + src->m.nfiles + 1) * sizeof(*h))) == NULL)
		rc = folio_fail_errno(b->ctx, ENOMEM, "cannot read '%s'", dir);
	free(path);
	if (rc != FOLIO_OK) {
		free(json);
		close(src->fd);
		free(src->dir);
		folio_manifest_release(&src->m);
		return rc;
	}
	src->json = json;
	src->json_len = len;
	crypto_generichash(src->mhash, sizeof(src->mhash), (const uint8_t *)json, len, NULL, 0);
	b->have = h;
	for (size_t i = 0; i < src->m.nfiles; i++)
		if (src->m.files[i].same_as == i)
			b->have[b->nhave++] = (struct have){&src->m.files[i], b->nsrc};
	b->nsrc++;
	/* sorted again for each source: there are few */
	qsort(b->have, b->nhave, sizeof(*b->have), compare_have);
	return FOLIO_OK;
}

/* The first source file with f's content (size and hash), or NULL; *n how
 * many in a row have it. */
static const struct have *find_have(const folio_bundle *b, const struct folio_file *f, size_t *n)
{
	struct have key = {f, 0};
	*n = 0;
	if (b->nhave == 0) /* b->have is NULL: bsearch must not see it */
		return NULL;
	const struct have *h = bsearch(&key, b->have, b->nhave, sizeof(*b->have), compare_have);
	if (h == NULL)
		return NULL;
	while (h > b->have && compare_have(h - 1, &key) == 0)
		h--;
	while (h + *n < b->have + b->nhave && compare_have(h + *n, &key) == 0)
		(*n)++;
	return h;
}

/* A regular file of a source (or of staging), or -1.  A source is a folder
 * on a stick as often as not: O_NONBLOCK, so that a FIFO planted where a
 * file should be does not hang the open, and anything but a regular file
 * (FIFO, device, socket) is no source. */
static int open_source_file(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Copies the file path of dirfd to f in staging (s NULL: only hashes it),
 * hashing it: FOLIO_OK when it has f's content; FOLIO_EREJECT, with nothing
 * left, when it has not. */
static int copy_verified(folio_bundle *b, struct staging *s, int dirfd, const char *path,
			 const struct folio_file *f)
{
	int in = open_source_file(dirfd, path);
	if (in < 0)
		return FOLIO_EREJECT;
	int out = s != NULL ? create_file(b, s, f->path, f->mode) : -1;
	if (s != NULL && out < 0) {
		close(in);
		return out;
	}
	uint8_t hash[FOLIO_HASH_BYTES];
	uint64_t len;
	int rc = FOLIO_OK;
	int err = copy_hashing(b, in, out, f->path, b->outbuf, f->size, &len, hash, &rc);
	close(in);
	if (out >= 0 && close(out) != 0 && rc == FOLIO_OK)
		rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, f->path);
	if (rc == FOLIO_OK && (err != 0 || len != f->size || !hash_ok(hash, f)))
		rc = FOLIO_EREJECT;
	if (rc != FOLIO_OK && s != NULL)
		unlinkat(s->fd, f->path, 0);
	return rc;
}

/* A patch's base: the bytes of path in dirfd when there are exactly size
 * of them and they hash to hash; then they are b->base_data.  Every byte
 * read is counted against the total limit (see content_bytes). */
static int read_base(folio_bundle *b, int dirfd, const char *path, uint64_t size,
		     const uint8_t hash[FOLIO_HASH_BYTES])
{
	if (size > b->base_budget - b->base_read)
		return reject(b, "the patches need more bytes of their bases than an edition "
			      "may hold (%llu bytes)", (unsigned long long)b->base_budget);
	int fd = open_source_file(dirfd, path);
	if (fd < 0)
		return FOLIO_OK;
	uint8_t *data = malloc(size + 1);
	if (data == NULL) {
		close(fd);
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	}
	size_t got = 0;
	ssize_t r;
	while (got <= size && ((r = read(fd, data + got, size + 1 - got)) > 0 || (r < 0 && errno == EINTR)))
		if (r > 0)
			got += (size_t)r;
	close(fd);
	b->base_read += got;
	struct folio_file want = {.size = size};
	memcpy(want.hash, hash, FOLIO_HASH_BYTES);
	uint8_t h[FOLIO_HASH_BYTES];
	crypto_generichash(h, sizeof(h), data, got, NULL, 0);
	if (got != size || !hash_ok(h, &want)) {
		free(data);
		return FOLIO_OK;
	}
	free(b->base_data);
	b->base_data = data;
	b->base_len = got;
	memcpy(b->base_hash, hash, FOLIO_HASH_BYTES);
	return FOLIO_OK;
}

static int compare_content_hash(const void *x, const void *y, void *arg)
{
	const struct folio_file *files = arg;
	return memcmp(files[*(const size_t *)x].hash, files[*(const size_t *)y].hash, FOLIO_HASH_BYTES);
}

/* Candidates with one hash tried for one base, at most: a manifest or a
 * source that lists many contents of one hash (sizes differ) does not make
 * each patch a scan of them all. */
#define BASE_TRIES 16

/* The bytes of the content whose hash is hex, from what this run verified
 * already or from a source, checked again: *data (borrowed, kept until the
 * next call) or NULL when none has it.  Found through indexes by hash: a
 * bundle of 200000 patches makes no 200000 scans of the manifest.  The last
 * base is kept, so a run of patches against one base reads it once; and the
 * bytes read for bases are at most the total limit: each patch of a delta
 * has its own base (the base edition's file at its path), so a delta reads
 * at most its base edition, while 200000 patches against one 16 MiB base
 * would have read 3 TB. */
static int content_bytes(folio_bundle *b, struct staging *s, const char *hex,
			 const uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	uint8_t hash[FOLIO_HASH_BYTES];
	if (folio_unhex(hash, sizeof(hash), hex) != 0)
		return FOLIO_OK;
	if (b->base_data != NULL && memcmp(hash, b->base_hash, sizeof(hash)) == 0) {
		*data = b->base_data;
		*len = b->base_len;
		return FOLIO_OK;
	}
	free(b->base_data);
	b->base_data = NULL;
	uint64_t window = (uint64_t)1 << b->ctx->limits[FOLIO_LIMIT_WINDOW_LOG];
	int rc = FOLIO_OK;
	/* a content of this edition already verified into staging */
	if (s != NULL) {
		const struct folio_file *files = b->m.files;
		if (b->by_hash == NULL) {
			if ((b->by_hash = malloc((b->m.nfiles ? b->m.nfiles : 1) * sizeof(size_t))) == NULL)
				return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
			for (size_t i = 0; i < b->m.nfiles; i++)
				if (files[i].same_as == i)
					b->by_hash[b->ncontents++] = i;
			qsort_r(b->by_hash, b->ncontents, sizeof(size_t), compare_content_hash, b->m.files);
		}
		size_t lo = 0, hi = b->ncontents;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (memcmp(files[b->by_hash[mid]].hash, hash, sizeof(hash)) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < b->ncontents && k < lo + BASE_TRIES && rc == FOLIO_OK &&
				    b->base_data == NULL &&
				    memcmp(files[b->by_hash[k]].hash, hash, sizeof(hash)) == 0; k++) {
			size_t i = b->by_hash[k];
			/* written by the writing thread: all of it, first */
			if (b->held[i] != NONE && files[i].size <= window && (rc = writer_drain(b)) == FOLIO_OK)
				rc = read_base(b, s->fd, files[b->held[i]].path, files[i].size, hash);
		}
	}
	/* then the sources: any size, the hash decides */
	size_t lo = 0, hi = b->nhave;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(b->have[mid].f->hash, hash, sizeof(hash)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < b->nhave && k < lo + BASE_TRIES && rc == FOLIO_OK && b->base_data == NULL &&
			    memcmp(b->have[k].f->hash, hash, sizeof(hash)) == 0; k++)
		if (b->have[k].f->size <= window)
			rc = read_base(b, b->src[b->have[k].src].fd, b->have[k].f->path, b->have[k].f->size, hash);
	if (rc == FOLIO_OK && b->base_data != NULL) {
		*data = b->base_data;
		*len = b->base_len;
	}
	return rc;
}

/* One entry holding a patch: a zstd frame that decodes, with the base
 * content as its reference prefix, to f's bytes.  FOLIO_OK with *done
 * false when no base is at hand: the content stays missing. */
static int take_patch(folio_bundle *b, struct staging *s, const struct folio_file *f,
		      const char *hex, struct archive_entry *e, bool *done)
{
	*done = false;
	uint64_t size = (uint64_t)archive_entry_size(e);
	uint64_t window = (uint64_t)1 << b->ctx->limits[FOLIO_LIMIT_WINDOW_LOG];
	if (f->size > window || size > ZSTD_compressBound((size_t)f->size) + 32)
		return reject(b, "the patch for '%s' is larger than any patch of it can be", f->path);
	uint8_t *patch = malloc(size + 1), *out = NULL;
	const uint8_t *base = NULL;
	if (patch == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	int rc = FOLIO_OK;
	size_t got = 0;
	while (got < size) {
		la_ssize_t n = archive_read_data(b->tar, patch + got, size - got);
		if (n <= 0) {
			rc = n < 0 ? tar_failed(b, f->path) : reject(b, "truncated in the patch for '%s'", f->path);
			break;
		}
		got += (size_t)n;
	}
	/* One frame as folio writes them, whether or not its base is at hand:
	 * a patch that cannot be applied here is still checked as far as it
	 * can be. */
	if (rc == FOLIO_OK && (size < 6 || patch[0] != 0x28 || patch[1] != 0xb5 || patch[2] != 0x2f ||
			       patch[3] != 0xfd || !canonical_frame_header(patch[4], patch[5]) ||
			       ZSTD_findFrameCompressedSize(patch, size) != size))
		rc = reject(b, "the patch for '%s' is not a zstd frame as folio writes it", f->path);
	bool single_segment = rc == FOLIO_OK && ((patch[4] >> 5) & 1);
	unsigned long long content = rc == FOLIO_OK ? ZSTD_getFrameContentSize(patch, size) : 0;
	if (rc == FOLIO_OK && !single_segment && (uint64_t)1 << (10 + (patch[5] >> 3)) > window)
		rc = reject(b, "the patch for '%s' has a zstd window larger than the limit of 2^%llu bytes",
			    f->path, (unsigned long long)b->ctx->limits[FOLIO_LIMIT_WINDOW_LOG]);
	if (rc == FOLIO_OK && content != ZSTD_CONTENTSIZE_UNKNOWN && content != f->size)
		rc = reject(b, "the patch for '%s' does not decode to the declared size", f->path);
	size_t base_len = 0;
	if (rc == FOLIO_OK)
		rc = content_bytes(b, s, hex, &base, &base_len);
	if (rc == FOLIO_OK && base == NULL)
		goto out; /* no base: the content stays missing */
	size_t out_len = 0;
	if (rc == FOLIO_OK)
		rc = decode_patch(b, f->path, patch, size, base, base_len, f->size, &out, &out_len);
	if (rc == FOLIO_OK && out_len != f->size)
		rc = reject(b, "the patch for '%s' does not decode to the declared size", f->path);
	uint8_t hash[FOLIO_HASH_BYTES];
	if (rc == FOLIO_OK) {
		crypto_generichash(hash, sizeof(hash), out, f->size, NULL, 0);
		if (!hash_ok(hash, f))
			rc = reject(b, "'%s' does not match its hash", f->path);
	}
	if (rc == FOLIO_OK && s != NULL) {
		int fd = create_file(b, s, f->path, f->mode);
		if (fd < 0) {
			rc = fd;
		} else {
			rc = write_all(b, fd, out, f->size, f->path);
			if (close(fd) != 0 && rc == FOLIO_OK)
				rc = folio_fail_errno(b->ctx, errno, "cannot unpack into '%s': '%s'", b->dest, f->path);
			if (rc != FOLIO_OK)
				unlinkat(s->fd, f->path, 0);
		}
	}
	*done = rc == FOLIO_OK;
out:
	free(patch);
	free(out);
	return rc;
}

/* ---- the body: one streaming pass, writing or not -------------------------- */

static int compare_order(const void *x, const void *y, void *arg)
{
	const struct folio_file *files = arg;
	return strcmp(files[*(const size_t *)x].path, files[*(const size_t *)y].path);
}

static size_t find_path(const folio_bundle *b, const char *path)
{
	size_t lo = 0, hi = b->m.nfiles;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->m.files[b->order[mid]].path, path);
		if (c == 0)
			return b->order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* After the last entry: the tar must end with its two zero blocks, and the
 * zstd stream right there. */
static int take_end(folio_bundle *b, la_int64_t before, la_int64_t after)
{
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
	if ((uint64_t)archive_filter_bytes(b->tar, 0) != b->decoded - b->restart_decoded)
		return reject(b, "trailing data after the end of the tar archive");
	return BODY_END;
}

/* The next entry: a file of the manifest (whole or as a patch), later in
 * the manifest than the one before and of a content not yet given; or the
 * end of the archive (BODY_END). */
static int take_next(folio_bundle *b, struct staging *s)
{
	struct archive_entry *e;
	la_int64_t before, after;
	int r;
	if (b->peek.pending) {
		b->peek.pending = false;
		e = b->peek.e;
		r = b->peek.r;
		before = b->peek.before;
		after = b->peek.after;
	} else {
		/* the last entry's padding, so that what follows is a header */
		if (!b->fresh_tar && archive_read_data_skip(b->tar) != ARCHIVE_OK)
			return tar_failed(b, "the next entry");
		b->fresh_tar = false;
		before = archive_filter_bytes(b->tar, 0);
		r = archive_read_next_header(b->tar, &e);
		after = archive_filter_bytes(b->tar, 0);
	}
	if (r == ARCHIVE_EOF)
		return take_end(b, before, after);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return tar_failed(b, "the next entry");
	const char *name = archive_entry_pathname_utf8(e);
	if (name == NULL)
		return reject(b, "an entry has no readable name");
	const char *path = name, *hex = NULL;
	char hexbuf[2 * FOLIO_HASH_BYTES + 1];
	size_t plen = strlen(FOLIO_PATCH_PREFIX);
	if (strncmp(name, FOLIO_PATCH_PREFIX, plen) == 0) {
		const char *p = name + plen;
		if (strspn(p, "0123456789abcdef") != 2 * FOLIO_HASH_BYTES || p[2 * FOLIO_HASH_BYTES] != '/')
			return reject(b, "entry '%s' is not a patch as folio names one", name);
		memcpy(hexbuf, p, 2 * FOLIO_HASH_BYTES);
		hexbuf[2 * FOLIO_HASH_BYTES] = '\0';
		hex = hexbuf;
		path = p + 2 * FOLIO_HASH_BYTES + 1;
	}
	size_t j = find_path(b, path);
	if (j == NONE)
		return reject(b, "entry '%s' is not in the manifest", name);
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL)
		return reject(b, "entry '%s' is not a regular file", name);
	if (archive_entry_sparse_count(e) > 0)
		return reject(b, "entry '%s' is sparse", name);
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
		return reject(b, "entry '%s' has no size", name);
	if (b->last != NONE && j <= b->last)
		return reject(b, "entry '%s' is out of manifest order", name);
	size_t c = b->m.files[j].same_as;
	if (b->held[c] != NONE)
		return reject(b, "entry '%s' repeats a content given before", name);
	b->last = j;
	bool done = true;
	int rc = hex != NULL ? take_patch(b, s, &b->m.files[j], hex, e, &done)
			     : take_whole(b, s, &b->m.files[j], e);
	if (rc == FOLIO_OK && done) {
		b->held[c] = j;
		b->received++;
		b->files_held += b->copies[c];
		folio_progress_set(b->ctx, b->files_held, (uint64_t)b->in_base + b->in.size);
	}
	return rc;
}

/* After damage: the decoder and the tar reader start again where the next
 * zstd frame after the damaged one's start begins (frames end only between
 * entries, FORMAT.md 2.1).  BODY_END when no frame follows. */
static int resume(folio_bundle *b)
{
	/* always past the frame the last resume found, even when that frame
	 * failed before a byte of it was decoded */
	off_t from = (b->frame_pos > b->resumed_at ? b->frame_pos : b->resumed_at) + 1;
	if (lseek(b->fd, from, SEEK_SET) == from) {
		b->in_base = from;
		b->in.pos = b->in.size = 0;
		b->input_eof = false;
	} else {
		/* not seekable: on from where the input is, but past the damaged
		 * frame's first byte: zstd leaves in.pos where the failing call
		 * began, which may be that frame's start */
		off_t past = from - b->in_base;
		if (past > (off_t)b->in.pos && past <= (off_t)b->in.size)
			b->in.pos = (size_t)past;
	}
	for (;;) {
		size_t avail = b->in.size - b->in.pos;
		if (avail < 6 && !b->input_eof) {
			int rc = fill_input(b);
			if (rc != FOLIO_OK)
				return rc;
			continue;
		}
		const uint8_t *p = b->inbuf + b->in.pos;
		off_t at = b->in_base + (off_t)b->in.pos;
		size_t k = 0;
		if (at <= b->resumed_at) /* not seekable: the input may not have moved */
			k = (uint64_t)(b->resumed_at + 1 - at) < avail ? (size_t)(b->resumed_at + 1 - at) : avail;
		while (k + 6 <= avail && !(p[k] == 0x28 && p[k + 1] == 0xb5 && p[k + 2] == 0x2f &&
					   p[k + 3] == 0xfd && canonical_frame_header(p[k + 4], p[k + 5])))
			k++;
		if (k + 6 <= avail) {
			b->in.pos += k;
			b->resumed_at = b->in_base + (off_t)b->in.pos;
			break;
		}
		if (b->input_eof)
			return BODY_END;
		b->in.pos += k; /* keep the last 5 bytes: a magic may straddle */
		int rc = fill_input(b);
		if (rc != FOLIO_OK)
			return rc;
	}
	ZSTD_DCtx_reset(b->dctx, ZSTD_reset_session_only);
	b->frame_start = true;
	b->frame_out = 0;
	b->read_rc = FOLIO_OK;
	b->peek.pending = false;
	b->fresh_tar = true;
	b->restart_decoded = b->decoded;
	return open_tar(b);
}

/* Every content of the manifest that no entry gave, from the sources; when
 * only verifying (s NULL), hashed where they are, so that verify --base
 * says what unpack --base would. */
static int fill_from_sources(folio_bundle *b, struct staging *s)
{
	for (size_t i = 0; i < b->m.nfiles; i++) {
		const struct folio_file *f = &b->m.files[i];
		if (f->same_as != i || b->held[i] != NONE)
			continue;
		size_t n;
		const struct have *h = find_have(b, f, &n);
		for (size_t k = 0; k < n; k++) {
			int rc = copy_verified(b, s, b->src[h[k].src].fd, h[k].f->path, f);
			if (rc == FOLIO_OK) {
				b->held[i] = i;
				b->reused++;
				break;
			}
			if (rc != FOLIO_EREJECT)
				return rc;
		}
	}
	return FOLIO_OK;
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

/* Files whose content is held under another path are copied from it, and
 * hashed again on the way; files whose content nobody gave are missing. */
static int place_files(folio_bundle *b, struct staging *s)
{
	free(b->missing);
	b->missing = NULL;
	b->nmissing = b->missing_text = 0;
	for (size_t i = 0; i < b->m.nfiles; i++) {
		const struct folio_file *f = &b->m.files[i];
		size_t h = b->held[f->same_as];
		if (h == NONE) {
			if (b->missing == NULL && (b->missing = malloc(b->m.nfiles * sizeof(size_t))) == NULL)
				return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
			b->missing[b->nmissing++] = i;
			b->missing_text += strcmp(f->layer, "text") == 0;
			continue;
		}
		if (h == i || s == NULL)
			continue;
		int rc = copy_verified(b, s, s->fd, b->m.files[h].path, f);
		if (rc == FOLIO_EREJECT)
			return reject(b, "'%s' changed in staging", b->m.files[h].path);
		if (rc != FOLIO_OK)
			return rc;
	}
	return FOLIO_OK;
}

static unsigned layer_of(const struct folio_file *f)
{
	return strcmp(f->layer, "media") == 0 ? LAYER_MEDIA : LAYER_TEXT;
}

/* Whether the missing files are what the bundle is meant to leave out.
 * Verify: the layers it says it does not carry, or anything for a delta
 * (its base has the rest).  Unpack: media files of a layer it does not
 * carry (a text layer is a readable edition). */
static bool missing_ok(const folio_bundle *b, bool unpacking)
{
	if (b->partial || (unpacking && b->keep_missing))
		return true;
	for (size_t k = 0; k < b->nmissing; k++) {
		unsigned l = layer_of(&b->m.files[b->missing[k]]);
		if (b->layers & l)
			return !unpacking && b->base != 0;
		if (unpacking && l != LAYER_MEDIA)
			return false;
	}
	return true;
}

/* What an incomplete edition lacks, in words. */
static int refuse_incomplete(folio_bundle *b)
{
	const struct folio_file *first = NULL;
	for (size_t k = 0; k < b->nmissing && first == NULL; k++)
		if (layer_of(&b->m.files[b->missing[k]]) == LAYER_TEXT || k + 1 == b->nmissing)
			first = &b->m.files[b->missing[k]];
	char need[160] = "";
	if (b->base != 0)
		snprintf(need, sizeof(need), "; it is a delta that needs edition %llu of channel '%s'",
			 (unsigned long long)b->base, b->m.channel);
	else if (b->damage != NULL)
		snprintf(need, sizeof(need), "; the bundle is damaged: --partial keeps what verified");
	return folio_fail(b->ctx, FOLIO_EREJECT,
			  "cannot %s '%s': incomplete: %zu of %zu files are missing, '%s' among them%s",
			  b->dest != NULL ? "unpack" : "verify", b->name, b->nmissing, b->m.nfiles,
			  first ? first->path : "?", need);
}

static int stream_body(folio_bundle *b, struct staging *s)
{
	size_t n = b->m.nfiles;
	b->order = malloc((n ? n : 1) * sizeof(size_t));
	b->held = malloc((n ? n : 1) * sizeof(size_t));
	b->copies = calloc(n ? n : 1, sizeof(size_t));
	if (b->order == NULL || b->held == NULL || b->copies == NULL)
		return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
	for (size_t i = 0; i < n; i++) {
		b->order[i] = i;
		b->held[i] = NONE;
		b->copies[b->m.files[i].same_as]++;
	}
	/* the head is read already; the bundle's size is known for a file,
	 * not for a pipe */
	struct stat st;
	uint64_t size = fstat(b->fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	folio_progress_start(b->ctx, s != NULL ? FOLIO_PHASE_UNPACKING : FOLIO_PHASE_VERIFYING, n, size);
	folio_progress_set(b->ctx, 0, (uint64_t)b->in_base + b->in.size);
	b->reporting = true;
	qsort_r(b->order, n, sizeof(size_t), compare_order, b->m.files);
	b->last = NONE;
	b->base_budget = b->ctx->limits[FOLIO_LIMIT_TOTAL_SIZE];
	int rc;
	for (;;) {
		rc = take_next(b, s);
		if (rc == BODY_END) {
			rc = FOLIO_OK;
			break;
		}
		if (rc == FOLIO_OK)
			continue;
		if (!b->partial || folio_errcode(b->ctx) != FOLIO_EREJECT)
			return rc;
		/* damage: told once, then reading goes on at the next frame, or
		 * the one after when that one is damaged from its first byte (the
		 * tar reader's start reads it) */
		if (b->damage == NULL && (b->damage = strdup(folio_errmsg(b->ctx))) == NULL)
			return folio_fail_errno(b->ctx, ENOMEM, "cannot verify '%s'", b->name);
		do {
			folio_clear_error(b->ctx);
			rc = resume(b);
		} while (rc == FOLIO_EREJECT);
		if (rc == BODY_END) {
			rc = FOLIO_OK;
			break;
		}
		if (rc != FOLIO_OK)
			return rc;
	}
	b->reporting = false;
	/* what was written is read again from here on */
	if ((rc = writer_drain(b)) != FOLIO_OK)
		return rc;
	if ((rc = fill_from_sources(b, s)) != FOLIO_OK)
		return rc;
	if ((rc = place_files(b, s)) != FOLIO_OK)
		return rc;
	folio_progress_set(b->ctx, n - b->nmissing, (uint64_t)b->in_base + b->in.size);
	if (!missing_ok(b, s != NULL))
		return refuse_incomplete(b);
	if (s == NULL)
		return FOLIO_OK;
	rc = write_meta(b, s, FOLIO_MANIFEST_PATH, b->manifest, b->manifest_len);
	if (rc == FOLIO_OK)
		rc = write_meta(b, s, FOLIO_SIGNATURE_PATH, b->sig, b->sig_len);
	size_t len;
	const char *data;
	if (rc == FOLIO_OK && (data = folio_bundle_keylist_json(b, &len)) != NULL)
		rc = write_meta(b, s, FOLIO_KEYS_PATH, data, len);
	if (rc == FOLIO_OK && (data = folio_bundle_keylist_sig(b, &len)) != NULL)
		rc = write_meta(b, s, FOLIO_KEYS_SIGNATURE_PATH, data, len);
	if (rc == FOLIO_OK && b->nmissing > 0) {
		struct folio_buf list = {0};
		for (size_t k = 0; k < b->nmissing; k++) {
			folio_buf_add(&list, b->m.files[b->missing[k]].path);
			folio_buf_addc(&list, '\n');
		}
		rc = list.oom ? folio_fail_errno(b->ctx, ENOMEM, "cannot unpack '%s'", b->name)
				 : write_meta(b, s, FOLIO_MISSING_PATH, list.p, list.len);
		free(list.p);
	}
	return rc;
}

size_t folio_bundle_missing_count(const folio_bundle *b) { return b->nmissing; }
size_t folio_bundle_missing_text(const folio_bundle *b) { return b->missing_text; }
uint64_t folio_bundle_base(const folio_bundle *b) { return b->base; }
const char *folio_bundle_damage(const folio_bundle *b) { return b->damage; }
size_t folio_bundle_received(const folio_bundle *b) { return b->received; }
size_t folio_bundle_reused(const folio_bundle *b) { return b->reused; }

const char *folio_bundle_missing(const folio_bundle *b, size_t i)
{
	return i < b->nmissing ? b->m.files[b->missing[i]].path : NULL;
}

int folio_bundle_verify(folio_bundle *b)
{
	return folio_bundle_verify_flags(b, 0);
}

int folio_bundle_verify_flags(folio_bundle *b, int flags)
{
	folio_clear_error(b->ctx);
	if (b->used)
		return folio_fail(b->ctx, FOLIO_EUSAGE, "'%s' was already read", b->name);
	b->used = true;
	b->partial = (flags & FOLIO_PARTIAL) != 0;
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
/* Whether the edition in dest lacks files (FOLIO_PARTIAL, or a layer). */
static bool incomplete(const char *dest)
{
	char *path = NULL;
	struct stat st;
	bool yes = asprintf(&path, "%s/" FOLIO_MISSING_PATH, dest) >= 0 &&
		   (lstat(path, &st) == 0 || errno != ENOENT);
	free(path);
	return yes;
}

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
		} else if (b->m.edition == old.edition && !incomplete(dest)) {
			b->current = true;
		} else if (b->m.edition == old.edition) {
			/* an incomplete copy, accepted so before: what this bundle
			 * adds is kept even when it does not complete it (the old copy
			 * is a source, so nothing it has is lost); damage still needs
			 * --partial */
			b->keep_missing = true;
		} else if (b->m.edition > old.edition && b->m.expires <= old.created) {
			folio_time_format(when, b->m.expires);
			rc = reject(b, "edition expired at %s, before edition %llu in '%s' was made",
				    when, (unsigned long long)old.edition, dest);
		}
		/* what dest holds may complete an incomplete bundle (a delta, a
		 * layer), and holds the bases of its patches, also when the
		 * bundle is only verified against it; every byte taken is hashed
		 * again */
		if (rc == FOLIO_OK)
			rc = folio_bundle_add_source(b, dest);
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
	b->partial = (flags & FOLIO_PARTIAL) != 0;
	b->keep_missing = (flags & FOLIO_UNPACK_KEEP_MISSING) != 0;
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
		if (!b->current) {
			int err = folio_writer_new(&b->writer, WRITER_QUEUE);
			if (err != 0)
				rc = folio_fail_errno(b->ctx, err, "cannot unpack '%s'", b->name);
		}
		if (rc == FOLIO_OK)
			rc = stream_body(b, b->current ? NULL : &s);
		/* nothing is left in flight, whatever happened */
		if (rc == FOLIO_OK)
			rc = writer_drain(b);
		folio_writer_free(b->writer);
		b->writer = NULL;
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
