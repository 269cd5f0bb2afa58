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
	/* With FOLIO_EREJECT from opening a delta whose manifest's base is not
	 * at hand: the edition it names (0 when it names none, or otherwise). */
	uint64_t needs_base;
	/* and what its signature's trusted comment (not verified) says it is */
	char delta_channel[FOLIO_CHANNEL_MAX + 1];
	uint64_t delta_edition;
	uint64_t limits[FOLIO_LIMIT__COUNT];
	locale_t utf8; /* C.UTF-8, for libarchive's name conversions */
	/* folio_set_progress(): the caller's callback and where it stands */
	void (*progress_fn)(void *arg, const struct folio_progress *progress);
	void *progress_arg;
	struct folio_progress progress;
};

/* Progress reports (no-ops without a callback): a phase starts with its
 * totals (0: unknown); files and bytes are added as they are done, or set
 * when the caller knows where it stands. */
void folio_progress_start(folio_ctx *ctx, enum folio_phase phase, uint64_t files_total,
			  uint64_t bytes_total);
void folio_progress_add(folio_ctx *ctx, uint64_t files, uint64_t bytes);
void folio_progress_set(folio_ctx *ctx, uint64_t files_done, uint64_t bytes_done);

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

/* ---- a growing string (buf.c) -------------------------------------------- */

/* Start from {0}.  p is NULL until the first add, then always
 * NUL-terminated (len bytes before the NUL); the caller owns it and frees
 * it with free().  Out of memory sets oom, which stays set: every later add
 * does nothing, so a writer checks oom once when it is done. */
struct folio_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes and the NUL; false (and oom set) if there is none. */
bool folio_buf_reserve(struct folio_buf *b, size_t n);
void folio_buf_addn(struct folio_buf *b, const void *s, size_t n);
void folio_buf_add(struct folio_buf *b, const char *s); /* NUL-terminated s */
void folio_buf_addc(struct folio_buf *b, char c);
void folio_buf_addu(struct folio_buf *b, unsigned long long v); /* decimal */
/* s[0..n) with & < > " ' as &amp; &lt; &gt; &quot; &#39;: safe in text and
 * in attribute values in double (or single) quotes.  Other bytes are copied
 * as they are. */
void folio_buf_htmln(struct folio_buf *b, const char *s, size_t n);
void folio_buf_html(struct folio_buf *b, const char *s); /* NUL-terminated s */

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

/* The public half of a secret key (*out is the caller's, to free with
 * folio_pubkey_free()). */
int folio_seckey_public(folio_ctx *ctx, const folio_seckey *key, folio_pubkey **out);

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

/* Decodes b64[0..len): true only when it is the canonical standard base64
 * (RFC 4648, with padding, no whitespace) of exactly want bytes. */
bool folio_base64_exact(uint8_t *out, size_t want, const char *b64, size_t len);

/* Reads a whole small file into a malloc'd, NUL-terminated buffer, refusing
 * anything but a regular file or one larger than max bytes. */
int folio_read_small_file(folio_ctx *ctx, const char *path, size_t max,
			  char **out, size_t *len);
/* write(2) until all of buf is written (EINTR retried): 0, or -1 with errno. */
int folio_write_all(int fd, const void *buf, size_t len);
/* Writes data[0..len) to a new file beside path, "PATH.tmp-XXXXXX" with
 * the given mode, and fsyncs it; *tmp (malloc'd, the caller frees it)
 * receives its name.  On failure nothing is left behind. */
int folio_write_temp(folio_ctx *ctx, const char *path, const void *data, size_t len,
		     unsigned mode, char **tmp);
/* fsync of the folder holding path, so that a name just made there
 * survives a power cut (best effort). */
void folio_sync_parent(const char *path);

/* ---- key lists: a root key delegates signing (keylist.c) --------------- */

#define FOLIO_KEYS_PATH ".folio/keys.json"
#define FOLIO_KEYS_SIGNATURE_PATH ".folio/keys.json.minisig"
#define FOLIO_KEYS_MAX 65536 /* bytes of a key list */
/* Bundles that carry part of an edition (FORMAT.md section 17). */
#define FOLIO_BUNDLE_INFO_PATH ".folio/bundle.json" /* unsigned: base edition, layers */
#define FOLIO_BUNDLE_INFO_MAX 65536
#define FOLIO_PATCH_PREFIX ".folio/patch/"          /* .folio/patch/BASEHEX/PATH */
#define FOLIO_MISSING_PATH ".folio/missing"         /* an incomplete edition's missing paths */
#define FOLIO_JSON_INT_MAX ((1ull << 53) - 1)       /* integers every JSON reader keeps exact */

/* A key list (FORMAT.md section 15), verified and parsed. */
struct folio_keylist;
/* Verifies sig (a .minisig text) over json with root, then parses and
 * checks json strictly.  name is used in messages.  FOLIO_EREJECT with a
 * message naming name and the problem. */
int folio_keylist_parse(folio_ctx *ctx, const char *name, const char *json, size_t len,
			const char *sig, size_t siglen, const folio_pubkey *root,
			struct folio_keylist **out);
void folio_keylist_free(struct folio_keylist *kl);
const char *folio_keylist_channel(const struct folio_keylist *kl);
uint64_t folio_keylist_version(const struct folio_keylist *kl);
/* The listed key whose id is key_id, or NULL; with its range of editions
 * (first..last, inclusive; last < first: none) and whether the list marks
 * it revoked.  Any out-pointer may be NULL. */
const folio_pubkey *folio_keylist_find(const struct folio_keylist *kl, const char *key_id,
				       uint64_t *first, uint64_t *last, bool *revoked);
/* FOLIO_OK when key key_id may sign edition under kl; else FOLIO_EREJECT
 * with a sentence starting "cannot verify 'name': " that says why (not
 * listed, revoked, edition outside its range). */
int folio_keylist_allows(folio_ctx *ctx, const char *name, const struct folio_keylist *kl,
			 const char *key_id, uint64_t edition);

/* The key id a key list's signature (a .minisig text) names, parsed
 * strictly, for choosing the trusted key to verify it with. */
int folio_keylist_sig_keyid(folio_ctx *ctx, const char *name, const char *sig, size_t siglen,
			    char id[17]);
/* The list's exact bytes and its signature's, as parsed (NUL-terminated). */
const char *folio_keylist_json(const struct folio_keylist *kl, size_t *len);
const char *folio_keylist_sig(const struct folio_keylist *kl, size_t *len);

/* ---- opening a bundle (unpack.c) ----------------------------------------- */

/* How folio_bundle_open_opts() chooses the key and applies the clock. */
struct folio_open_opts {
	/* The trusted key, or NULL when lookup chooses it. */
	const folio_pubkey *key;
	/* Returns the trusted key whose id is key_id (16 upper-case hex digits),
	 * or NULL when none is trusted: called with the id of the key that
	 * signed the bundle's head. */
	const folio_pubkey *(*lookup)(void *arg, const char *key_id);
	void *lookup_arg;
	const char *channel;    /* refuse another channel; NULL: any */
	int64_t now_floor;      /* "now" is never earlier than this (0: the clock);
				   non-zero (the library's) also words the time
				   refusals for a library */
	int64_t future_margin;  /* seconds "created" may be past now; -1: 86400 */
	bool any_time;          /* neither expiry nor creation time is checked: a
				   publisher's own earlier edition (pack --base) */
	/* Edition folders that may supply what a bundle does not carry, its
	 * manifest's base included (folio_bundle_add_source()). */
	const char *const *sources;
	size_t nsources;
};
/* A signed head held in memory: the manifest and its signature, and a key
 * list and its signature (keys NULL when the manifest is signed by the root
 * itself).  Lengths in bytes. */
struct folio_head {
	const char *manifest, *sig, *keys, *keys_sig;
	size_t manifest_len, sig_len, keys_len, keys_sig_len;
};
/* The one check of a signed head, for bundles and for kept editions: the
 * manifest's signature is by root, or by a key the key list (verified with
 * root) names and allows for the manifest's edition; the manifest decodes
 * into *m (the caller releases it, also on failure); the trusted comment
 * matches it; the list is for its channel.  signer receives the id of the
 * key that signed the manifest; *kl_out, if kl_out is not NULL, the parsed
 * list (NULL without one). */
struct folio_manifest;
int folio_head_verify(folio_ctx *ctx, const char *name, const folio_pubkey *root,
		      const struct folio_head *h, struct folio_manifest *m, char signer[17],
		      struct folio_keylist **kl_out);
/* folio_bundle_open() with the choices above. */
int folio_bundle_open_opts(folio_ctx *ctx, const char *path,
			   const struct folio_open_opts *o, folio_bundle **out);
/* The id of the trusted key the bundle's signature chain starts from. */
const char *folio_bundle_root_id(const folio_bundle *b);
/* The key list the bundle carries (its exact signed bytes and signature),
 * or NULL when the manifest is signed by the trusted key itself. */
const struct folio_keylist *folio_bundle_keylist(const folio_bundle *b);
const char *folio_bundle_keylist_json(const folio_bundle *b, size_t *len);
const char *folio_bundle_keylist_sig(const folio_bundle *b, size_t *len);
/* folio_bundle_unpack() that calls before_commit, if not NULL, once every
 * file is verified and written into the staging folder (stagingfd) and
 * before it is renamed to dest; a failure it returns is the unpack's. */
/* A flag for folio_bundle_unpack_hook() beside FOLIO_FORCE: replace dest
 * whatever edition it holds (the library has applied its own policy). */
#define FOLIO_UNPACK_REPLACE_ANY 0x100
/* Another: dest's parent folder must not be a symbolic link (the library's
 * DIR/CHANNEL: writing through one would write outside the library). */
#define FOLIO_UNPACK_PARENT_NOFOLLOW 0x200
/* Another: accept files missing (dest holds an incomplete copy of the
 * edition that this bundle may improve without completing); damage still
 * needs FOLIO_PARTIAL. */
#define FOLIO_UNPACK_KEEP_MISSING 0x400
int folio_bundle_unpack_hook(folio_bundle *b, const char *dest, int flags,
			     int (*before_commit)(void *arg, folio_bundle *b, int stagingfd),
			     void *arg);
/* Removes name below dirfd, file or folder, best effort: for trees folio
 * made itself (staging folders, editions); never follows links. */
void folio_remove_tree(int dirfd, const char *name);

/* ---- the library, for parts.c (library.c) --------------------------------- */

/* The key lib trusts to have signed a document of channel: its root when
 * key_id is the root's, else the key key_id of the newest key list the
 * library accepted, if the list does not mark it revoked.  *out receives a
 * copy.  FOLIO_EREJECT on ctx, naming name, when the channel is not
 * trusted or the key is not one of these; *unknown is then true when the
 * key is simply not known (neither the root nor in the list), not revoked. */
int folio_library_key(folio_library *lib, folio_ctx *ctx, const char *name, const char *channel,
		      const char *key_id, folio_pubkey *out, bool *unknown);
/* What a bundle's head says of a key the library does not know yet. */
struct folio_head_key {
	folio_pubkey key;                    /* the key, as the head's key list names it */
	uint64_t first, last;                /* the editions it may sign */
	uint64_t version;                    /* the key list's version */
	uint8_t manifest[FOLIO_HASH_BYTES];  /* BLAKE2b-256 of the head's manifest */
	bool head_read;                      /* the head was whole and verified */
};
/* The key key_id as the head of the bundle at head (the start of one: only
 * the head is read) vouches for it: the head opens as install opens a
 * bundle (folio_bundle_open_opts() with lib's roots), is of channel and
 * signed from its pinned root, and carries a key list newer than the one
 * lib accepted that names key_id, not revoked.  For the first edition of a
 * channel that delegates signing, whose documents lib cannot check before
 * it has that list.  FOLIO_EREJECT on ctx, naming name or head, else. */
int folio_library_head_key(folio_library *lib, folio_ctx *ctx, const char *name, const char *head,
			   const char *channel, const char *key_id, struct folio_head_key *out);
/* A new empty file DIR/.folio-library/TAG.tmp-XXXXXXXX (mode 0600), open
 * read-write in *fd and locked (flock, exclusive) so that no leftover
 * sweep removes it while it is in use; *path (malloc'd) is its name.  The
 * caller unlinks it, then closes *fd.  Needs the library open for writing. */
int folio_library_temp(folio_library *lib, const char *tag, int *fd, char **path);
/* The context lib keeps its messages on. */
folio_ctx *folio_library_ctx(const folio_library *lib);

/* ---- articles (article.c) ------------------------------------------------ */

/* Generated files live under this folder of an edition; a source tree that
 * has it is refused. */
#define FOLIO_GENERATED_DIR "_folio"

/* One article's metadata, as the manifest's "articles" array carries it.
 * Strings are malloc'd UTF-8 without control characters; NULL when unknown. */
struct folio_article {
	char *path;      /* the page in the edition ("news/a.html"); never NULL */
	char *source;    /* the input it was rendered from ("news/a.md"), or NULL */
	char *title;     /* never NULL, at most 512 bytes, one line */
	char *lang;      /* BCP 47 tag ("ar", "en", "fa"), or NULL */
	char *dir;       /* "ltr" or "rtl"; never NULL */
	char *date;      /* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC), or NULL */
	char *author;    /* or NULL, at most 256 bytes */
	char *summary;   /* or NULL, at most 600 bytes, one line */
	char *image;     /* the lead image as an edition path, or NULL */
	char *thumbnail; /* its thumbnail under _folio/thumbs/, or NULL (pack fills it) */
	uint64_t words;  /* words in the text */
	/* pack only, never in the manifest: */
	char *text;      /* the article's plain text (title and body) for search */
	char **remote;   /* URLs of resources the page would load from the network */
	size_t nremote;
};

void folio_article_release(struct folio_article *a);

/* What a rendered page needs to know about its edition. */
struct folio_render {
	const char *edition_title; /* for the link back to the edition page */
	bool has_index;            /* the edition has a root index.html to link to */
	const char *name;          /* the file in messages; NULL: its edition path */
	/* The size in pixels of the image at an edition path, for the width
	 * and height of the page's <img> tags: true and *width, *height when
	 * known.  NULL: no sizes are written. */
	bool (*image_size)(void *arg, const char *path, unsigned *width, unsigned *height);
	void *image_size_arg;
};

/* Reads the article at edition path `path` (its kind from the extension:
 * html/htm/xhtml, md/markdown, txt) from data[0..len), which need not be
 * NUL-terminated or valid UTF-8.  Fills *a.  For HTML the page is the file
 * itself: *page is NULL and a->path is path.  Markdown and text are
 * rendered: *page (malloc'd, the caller frees) is a complete HTML page,
 * a->path is path with its extension replaced by ".html" and a->source is
 * path.  FOLIO_EREJECT when the input cannot be an article (not UTF-8 in a
 * Markdown or text file, ...), with a message naming path. */
int folio_article_read(folio_ctx *ctx, const char *path, const char *data,
		       size_t len, const struct folio_render *r,
		       struct folio_article *a, char **page, size_t *page_len);

/* Whether the path's extension makes it an article: 0 no, 1 an HTML page
 * kept as it is, 2 a Markdown or text file rendered to a page. */
int folio_article_kind(const char *path);

/* Direction and language of a text from its letters: *dir "rtl" when
 * right-to-left letters outnumber left-to-right ones; *lang a BCP 47 tag
 * for a script (or a language's common words) that names one, else NULL.
 * Returned strings are static. */
void folio_text_detect(const char *text, size_t len, const char **dir, const char **lang);


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
	/* folio-pack only: where the bytes are read from */
	char *origin;   /* path below the source tree, or a generated file's name
			   in the work folder; NULL: path below the source tree */
	bool generated; /* origin is in the work folder */
	bool measured;  /* width and height were looked for */
	unsigned width, height; /* an image's size in pixels as shown; 0: unknown */
};

struct folio_manifest {
	char *channel;
	char *title;
	uint64_t edition;
	int64_t created;
	int64_t expires;
	size_t nfiles;
	struct folio_file *files;
	size_t narticles;
	struct folio_article *articles;
};

void folio_manifest_release(struct folio_manifest *m);
/* Fills in same_as for every file (content = size and hash). */
void folio_manifest_link_duplicates(struct folio_manifest *m);
/* Adds to *files and *bytes the files of m in layer ("text", "media"; NULL:
 * every layer) and their sizes: the totals progress reports count to. */
void folio_manifest_count(const struct folio_manifest *m, const char *layer, uint64_t *files,
			  uint64_t *bytes);
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

struct json_t; /* jansson's json_t */
/* root as compact JSON and one final LF, malloc'd; root NULL (a failed
 * build) or no memory is FOLIO_ESYSTEM "cannot encode WHAT". */
int folio_json_line(folio_ctx *ctx, const struct json_t *root, const char *what, char **out,
		    size_t *len);

/* Strict fields of a signed JSON document (the manifest, a key list).  A
 * problem is FOLIO_EREJECT "cannot verify 'NAME': WHAT: PROBLEM". */
struct folio_decoder {
	folio_ctx *ctx;
	const char *name; /* the file, for messages */
	const char *what; /* the document: "manifest", "key list" */
};
int folio_decode_fail(struct folio_decoder *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The string field key of obj, at most max bytes, without control
 * characters (C0, DEL, C1); *out is borrowed from obj. */
int folio_decode_string(struct folio_decoder *d, struct json_t *obj, const char *key, size_t max,
			const char **out);
/* The integer field key of obj, min to max.  present: NULL for a required
 * field; else set to whether it is there (absent is not a problem). */
int folio_decode_uint(struct folio_decoder *d, struct json_t *obj, const char *key, uint64_t min,
		      uint64_t max, uint64_t *out, bool *present);

/* ---- the reader's edition (edition.c) ------------------------------------ */

/* folio-pack's private folder for changed and generated files. */
struct folio_work {
	char *dir;
	int fd;
	unsigned n; /* files made: "0", "1", ... */
};
int folio_work_open(folio_ctx *ctx, struct folio_work *w);
/* Removes the folder and everything in it; accepts a zeroed struct. */
void folio_work_remove(struct folio_work *w);

/* Turns the source files in m (path, size, mode, type, layer set; m->title
 * and m->created too) into the edition o asks for: images cleaned and
 * shrunk, Markdown and text rendered, m->articles filled, thumbnails, the
 * search index and index.html added.  Changed or new files get an origin
 * in work.  Nothing happens with o->verbatim. */
int folio_edition_prepare(folio_ctx *ctx, const char *src, int rootfd,
			  const struct folio_pack_options *o, struct folio_manifest *m,
			  struct folio_work *work, struct folio_pack_stats *stats);

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
/* Whether files of this type are compressed already (JPEG, PNG, GIF, WebP,
 * AVIF, audio, video, WOFF, zip, gzip, PDF): zstd gains little on them. */
bool folio_type_compressed(const char *type);

/* folio_bundle_verify() with FOLIO_PARTIAL or 0: with it, damage is
 * skipped as unpack --partial skips it (folio_bundle_damage() tells it). */
int folio_bundle_verify_flags(folio_bundle *b, int flags);

/* ---- the packer's zstd frames (frames.c) ---------------------------------- */

/* What a frame holds, which decides how hard it is compressed. */
enum folio_frame_kind { FOLIO_FRAME_TEXT, FOLIO_FRAME_MEDIA };
struct folio_frames;
/* Frames written to fd (named out_name in messages) at the given level,
 * compressed by threads threads side by side (0: one per core; the bytes
 * are the same whatever the number).  A frame held in memory is at most
 * about twice frame_target; a larger one is compressed as it comes. */
int folio_frames_new(folio_ctx *ctx, const char *out_name, int fd, int level, int threads,
		     uint64_t frame_target, struct folio_frames **out);
/* What the next entry is: a frame of another kind is ended first. */
int folio_frames_kind(struct folio_frames *fw, enum folio_frame_kind kind);
/* Tar bytes into the frame being filled. */
int folio_frames_write(struct folio_frames *fw, const void *data, size_t len);
/* Ends the frame being filled (nothing if it is empty). */
int folio_frames_end(struct folio_frames *fw);
/* Ends the last frame and writes every frame out. */
int folio_frames_finish(struct folio_frames *fw);
/* Tar bytes in the frame being filled; compressed bytes written so far. */
uint64_t folio_frames_in(const struct folio_frames *fw);
uint64_t folio_frames_written(const struct folio_frames *fw);
/* NULL-safe; stops the threads, dropping frames not written. */
void folio_frames_free(struct folio_frames *fw);

/* ---- files written from a second thread (writer.c) ------------------------- */

struct folio_writer;
/* Starts the thread; at most max_queued bytes wait for it.  0 or an errno. */
int folio_writer_new(struct folio_writer **w, size_t max_queued);
/* Queues a copy of data for fd, or fd's close (the writer owns fd then).
 * name (borrowed until the writer is drained) names fd in messages.
 * 0, or the errno of a failure so far, with *failed its file's name. */
int folio_writer_write(struct folio_writer *w, int fd, const void *data, size_t len,
		       const char *name, const char **failed);
int folio_writer_close(struct folio_writer *w, int fd, const char *name, const char **failed);
/* Waits until everything queued is written and closed (w NULL: nothing). */
int folio_writer_drain(struct folio_writer *w, const char **failed);
/* NULL-safe; runs what is queued (after a failure, only the closes). */
void folio_writer_free(struct folio_writer *w);

void folio_hex(char *out, const uint8_t *in, size_t n);
int folio_unhex(uint8_t *out, size_t n, const char *hex);
/* ---- images (image.c) ---------------------------------------------------- */

/* What folio_image_clean() removed. */
enum {
	FOLIO_IMAGE_GPS = 1,        /* a GPS position */
	FOLIO_IMAGE_CAMERA = 2,     /* camera/lens serials, owner, maker notes */
	FOLIO_IMAGE_EXIF = 4,       /* any other EXIF field */
	FOLIO_IMAGE_XMP = 8,
	FOLIO_IMAGE_IPTC = 16,
	FOLIO_IMAGE_COMMENT = 32,   /* JPEG comments, PNG text chunks */
	FOLIO_IMAGE_THUMBNAIL = 64  /* an embedded preview image */
};

/* Whether folio can clean, shrink and thumbnail images of this media type
 * (image/jpeg, image/png, image/webp). */
bool folio_image_supported(const char *type);

/* Removes location and identifying metadata without touching a pixel: the
 * compressed image data is copied as it is; what the image needs to show
 * correctly (EXIF orientation, ICC profile, colour and gamma chunks) is
 * kept.  *out (malloc'd) is the cleaned file and *removed says what went,
 * or *out is NULL and *removed 0 when there was nothing to remove.
 * FOLIO_EREJECT when the file is not a well-formed image of its type. */
int folio_image_clean(folio_ctx *ctx, const char *name, const char *type,
		      const uint8_t *data, size_t len, uint8_t **out,
		      size_t *out_len, unsigned *removed);

/* Scales an image wider than max_width pixels down to max_width (the
 * aspect kept, EXIF orientation applied), in its own format.  *out is NULL
 * when the image is not wider or the result is not smaller.  Metadata is
 * dropped unless keep_metadata.  FOLIO_EREJECT when it cannot be decoded. */
int folio_image_shrink(folio_ctx *ctx, const char *name, const char *type,
		       const uint8_t *data, size_t len, unsigned max_width,
		       bool keep_metadata, uint8_t **out, size_t *out_len);

/* "image/jpeg", "image/png" or "image/webp" by the first bytes of data,
 * or NULL: what an image is, whatever its name says. */
const char *folio_image_sniff(const uint8_t *data, size_t len);

/* Makes an image smaller without changing a pixel: a JPEG's coefficients
 * written again with optimised Huffman tables, sequential or progressive,
 * whichever is smaller; a PNG's pixels filtered and compressed again (zlib
 * level 9), no longer interlaced.  Either is then
 * decoded and compared with the original, and kept only when the pixels
 * are the same.  Other chunks and segments are copied as they are.  *out
 * (malloc'd) is the smaller file, or NULL when there is none (nothing
 * smaller found, an image too large to try, another type, or one that does
 * not decode: it stays as it is).  Safe to call from several threads.
 * FOLIO_OK, or FOLIO_ESYSTEM when out of memory. */
int folio_image_optimize(const char *type, const uint8_t *data, size_t len, uint8_t **out,
			 size_t *out_len);

/* The size in pixels of an image as a browser shows it (EXIF orientation
 * applied), read from its header.  FOLIO_EREJECT when it is not a JPEG, PNG
 * or WebP image of its type that libvips can read. */
int folio_image_size(folio_ctx *ctx, const char *name, const char *type,
		     const uint8_t *data, size_t len, unsigned *width, unsigned *height);

/* A JPEG thumbnail at most width x height pixels, no metadata.
 * FOLIO_EREJECT when the image cannot be decoded. */
int folio_image_thumbnail(folio_ctx *ctx, const char *name, const uint8_t *data,
			  size_t len, unsigned width, unsigned height,
			  uint8_t **out, size_t *out_len);

/* ---- the edition page and search (reader.c) ------------------------------ */

#define FOLIO_SEARCH_SCRIPT FOLIO_GENERATED_DIR "/search.js"
#define FOLIO_SEARCH_INDEX FOLIO_GENERATED_DIR "/search-index.js"
#define FOLIO_THUMBS_DIR FOLIO_GENERATED_DIR "/thumbs"

/* Folds text for search, as search.js folds a query: NFKD, lower case,
 * combining marks, tashkeel and tatweel removed, Arabic letter variants
 * unified.  Returns a malloc'd string or NULL when out of memory. */
char *folio_search_fold(const char *text, size_t len);

/* index.html for the edition m (m->articles filled, thumbnails included):
 * the edition's title and date, its articles grouped by folder, and the
 * search form.  *out is malloc'd. */
int folio_reader_index_page(folio_ctx *ctx, const struct folio_manifest *m,
			    char **out, size_t *len);
/* The search index (_folio/search-index.js) over m's articles, using each
 * article's text.  *out is malloc'd. */
int folio_reader_search_index(folio_ctx *ctx, const struct folio_manifest *m,
			      char **out, size_t *len);
/* The search script (_folio/search.js): static bytes. */
extern const char folio_reader_search_js[];
extern const size_t folio_reader_search_js_len;

#endif
