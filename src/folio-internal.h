/* SPDX-License-Identifier: ISC */
/* Private to libfolio: functions shared between its source files, and the
 * parsers the unit tests and fuzz harnesses reach directly. */
#ifndef FOLIO_INTERNAL_H
#define FOLIO_INTERNAL_H

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio.h"

#define FOLIO_FORMAT_NAME "folio-1"
#define FOLIO_MANIFEST_PATH ".folio/manifest.json"
#define FOLIO_SIGNATURE_PATH ".folio/manifest.json.minisig"
#define FOLIO_RESERVED_DIR ".folio"
#define FOLIO_SIGNATURE_MAX 4096     /* bytes of a .minisig file */
#define FOLIO_COMMENT_MAX 1024       /* bytes of a trusted comment */
#define FOLIO_CHANNEL_MAX 64
#define FOLIO_TITLE_MAX 512
#define FOLIO_PACK_WINDOW_LOG 24     /* the packer never uses a larger window */
#define FOLIO_FRAME_TARGET (8u << 20) /* a frame ends at the first entry boundary past this */
#define FOLIO_HASH_BYTES 32           /* BLAKE2b-256 */

struct folio_ctx {
	int code;
	char msg[1024];
	uint64_t limits[FOLIO_LIMIT__COUNT];
	locale_t utf8; /* C.UTF-8, for libarchive's name conversions */
};

/* libarchive converts names through the current locale; paths in a bundle
 * are UTF-8 whatever the caller's locale is.  These switch the calling
 * thread (only) to C.UTF-8 and back. */
locale_t folio_utf8_begin(folio_ctx *ctx);
void folio_utf8_end(locale_t previous);

/* Records the failure and returns code, for `return folio_fail(...)`. */
int folio_fail(folio_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)"; EDQUOT/ENOSPC/EACCES/... all give
 * FOLIO_ESYSTEM. */
int folio_fail_errno(folio_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void folio_clear_error(folio_ctx *ctx);

/* ---- keys and signatures (keys.c) ---------------------------------------- */

struct folio_pubkey {
	uint8_t keyid[8];
	uint8_t pk[32];
	char id[17];
};

struct folio_seckey { /* allocated with sodium_malloc */
	uint8_t keyid[8];
	uint8_t sk[64]; /* seed | public key */
	char id[17];
};

/* The key id as minisign prints it: the 8 bytes as a little-endian u64. */
void folio_keyid_format(char out[17], const uint8_t keyid[8]);

/* Parse key files held in memory.  name is used in messages only. */
int folio_pubkey_parse(folio_ctx *ctx, const char *name, const char *data,
		       size_t len, folio_pubkey **out);
int folio_seckey_parse(folio_ctx *ctx, const char *name, const char *data,
		       size_t len, const char *passphrase, folio_seckey **out);

struct folio_sig {
	uint8_t keyid[8];
	uint8_t sig[64];    /* Ed25519 over BLAKE2b-512(message) */
	char comment[FOLIO_COMMENT_MAX + 1]; /* trusted comment, NUL-terminated */
	size_t comment_len;
	uint8_t global[64]; /* Ed25519 over sig | comment */
};

/* Parses a minisign signature file strictly: four lines, each ending in
 * "\n" or "\r\n", no other CR, no NUL, the prehashed "ED" algorithm only.
 * FOLIO_EREJECT with a message naming name and the problem. */
int folio_sig_parse(folio_ctx *ctx, const char *name, const char *data,
		    size_t len, struct folio_sig *out);
/* Checks key id, the signature of msg and the global signature. */
int folio_sig_verify(folio_ctx *ctx, const char *name,
		     const struct folio_sig *sig, const folio_pubkey *key,
		     const void *msg, size_t msglen);
/* Signs msg; *out (malloc'd, the caller frees) is the whole .minisig text. */
int folio_sig_create(folio_ctx *ctx, const folio_seckey *key, const void *msg,
		     size_t msglen, const char *trusted_comment, char **out,
		     size_t *outlen);

/* Reads a whole small file into a malloc'd, NUL-terminated buffer, refusing
 * anything but a regular file or one larger than max bytes. */
int folio_read_small_file(folio_ctx *ctx, const char *path, size_t max,
			  char **out, size_t *len);

/* ---- manifest (manifest.c) ----------------------------------------------- */

struct folio_file {
	char *path;
	uint64_t size;
	uint8_t hash[FOLIO_HASH_BYTES];
	char hex[2 * FOLIO_HASH_BYTES + 1];
	char *type;   /* media type */
	unsigned mode;  /* 0644 or 0755 */
	char *layer;  /* "text" or "media" */
	size_t same_as; /* index of the first file with the same content; itself if none */
};

struct folio_manifest {
	char *channel;
	char *title;
	uint64_t edition;
	int64_t created;
	int64_t expires;
	size_t nfiles;
	struct folio_file *files;
};

void folio_manifest_release(struct folio_manifest *m);
/* Fills in same_as for every file (content = size and hash). */
void folio_manifest_link_duplicates(struct folio_manifest *m);
/* Serialises m to JSON (malloc'd; the caller frees). */
int folio_manifest_encode(folio_ctx *ctx, const struct folio_manifest *m,
			  char **out, size_t *len);
/* Parses and validates a manifest against ctx's limits: known format, every
 * field present and of its type, safe paths, no duplicate paths, no file
 * that is also a folder, declared sizes within limits.  name is for
 * messages.  On failure *m is released. */
int folio_manifest_decode(folio_ctx *ctx, const char *name, const char *json,
			  size_t len, struct folio_manifest *m);
/* The trusted comment that binds the manifest's head, malloc'd:
 * "folio-1 channel:C edition:N created:ISO expires:ISO". */
char *folio_trusted_comment(const struct folio_manifest *m);

bool folio_channel_valid(const char *channel);

/* ---- paths and media types (paths.c) ------------------------------------- */

/* NULL if path is a safe relative path within the limits, else a short
 * reason ("'..' component", "control character", ...).  Rules: UTF-8
 * (shortest form, no surrogates), '/'-separated, components non-empty and
 * not "." or "..", no control characters, no backslash, at most max_len
 * bytes, max_depth components, 255 bytes per component, not under .folio/. */
const char *folio_path_problem(const char *path, size_t max_len,
			       unsigned max_depth);
/* Two paths of a set that cannot both be installed. */
struct folio_path_clash {
	enum { FOLIO_CLASH_TWICE, FOLIO_CLASH_FILE_FOLDER, FOLIO_CLASH_CASE } kind;
	const char *a, *b; /* the clashing names: the first alen and blen bytes */
	int alen, blen;
};
/* Checks the names that paths[0..n) would create on disk, files and the
 * folders they imply: 0 if they can all be made, 1 (clash filled in) if a
 * path is listed twice, is also another's folder, or two names differ only
 * in case or Unicode normalisation (case-folded NFC, as FAT, exFAT, NTFS and
 * APFS compare names), -1 if out of memory. */
int folio_path_set_check(char *const *paths, size_t n, struct folio_path_clash *clash);
/* "'X' and 'Y' differ only in case ...", "'X' is listed twice", ... */
void folio_path_clash_describe(const struct folio_path_clash *c, char *buf, size_t size);
/* Whether s is valid UTF-8 (shortest form, no surrogates). */
bool folio_utf8_valid(const char *s);
/* Media type by file name extension ("application/octet-stream" if unknown). */
const char *folio_media_type(const char *path);
/* "media" for images, audio, video and fonts, else "text". */
const char *folio_layer_for_type(const char *type);

void folio_hex(char *out, const uint8_t *in, size_t n);
int folio_unhex(uint8_t *out, size_t n, const char *hex);

#endif
