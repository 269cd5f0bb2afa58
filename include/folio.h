/* SPDX-License-Identifier: ISC */
/*
 * folio.h - signed, verified offline news editions.
 *
 * libfolio packs a folder into a signed, zstd-compressed bundle and, on the
 * reader's side, verifies such a bundle byte for byte before anything of it
 * appears on disk.  The file format is pinned in docs/FORMAT.md.
 *
 * Lifecycle:
 *   1) folio_new() gives a context.  Every call below takes it; when a call
 *      fails it returns a negative FOLIO_E* code and keeps one sentence on
 *      the context, naming the file and the problem: folio_errmsg().
 *   2) Keys: folio_keygen() writes a key pair; folio_pubkey_load() and
 *      folio_seckey_load() read minisign-format key files.
 *   3) Publisher: folio_pack_options_init(), set the fields, folio_pack().
 *      A root key delegates signing with folio_keys_delegate() and
 *      folio_keys_revoke(); pack carries the key list (options.keys).
 *   4) Reader: folio_bundle_open() reads and verifies the signed manifest;
 *      the getters describe the edition; then exactly one of
 *      folio_bundle_verify() or folio_bundle_unpack() streams the rest.
 *   5) folio_bundle_free(), folio_pubkey_free(), folio_seckey_free(),
 *      folio_free().  Every _free accepts NULL.
 *   6) The reader's library (a folder of editions kept side by side):
 *      folio_library_open(), then trust, install, prune, status or check,
 *      then folio_library_close().
 *
 * The library never prints and never exits.
 */
#ifndef FOLIO_H
#define FOLIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_VERSION "0.1.0"

#if defined(__GNUC__)
#define FOLIO_WUR __attribute__((warn_unused_result))
#else
#define FOLIO_WUR
#endif

/* Result codes.  Zero is success; every failure is one of these. */
#define FOLIO_OK 0
/* The input was refused: bad signature, unknown key, hash mismatch, expired,
 * wrong channel, unsafe or malformed content, a limit exceeded, a malformed
 * key file, a wrong passphrase.  The input is bad; trying again won't help. */
#define FOLIO_EREJECT (-1)
/* The caller asked for something impossible: a bad argument, an output that
 * already exists without FOLIO_FORCE. */
#define FOLIO_EUSAGE (-2)
/* The system failed: I/O, no space, permissions, out of memory.  The same
 * call may succeed later. */
#define FOLIO_ESYSTEM (-3)
/* folio_seckey_load(): the key is encrypted and no passphrase was given. */
#define FOLIO_ENEEDPASS (-4)

typedef struct folio_ctx folio_ctx;
typedef struct folio_pubkey folio_pubkey;
typedef struct folio_seckey folio_seckey;
typedef struct folio_bundle folio_bundle;

/* ---- context ------------------------------------------------------------ */

/* A new context with the default limits, or NULL when out of memory.
 * Initialises libsodium (safe to call any number of times). */
FOLIO_WUR folio_ctx *folio_new(void);
void folio_free(folio_ctx *ctx);

/* The sentence describing the last failure on ctx ("" if none).  Borrowed:
 * valid until the next call on ctx. */
const char *folio_errmsg(const folio_ctx *ctx);
/* The code of the last failure on ctx (FOLIO_OK if none). */
int folio_errcode(const folio_ctx *ctx);

/* Versions: folio's own and of the libraries in use, one line, borrowed. */
const char *folio_version_string(void);
/* t (seconds since 1970, UTC) as "YYYY-MM-DDTHH:MM:SSZ", the form the
 * trusted comment uses; right on every platform, also where time_t has 32
 * bits and t is after 2038. */
void folio_time_format(char out[32], int64_t t);

/* Limits applied when reading a bundle.  Defaults suit a cheap device;
 * docs/FORMAT.md lists them. */
enum folio_limit {
	FOLIO_LIMIT_WINDOW_LOG,     /* zstd window, log2 bytes (default 24) */
	FOLIO_LIMIT_MANIFEST_SIZE,  /* bytes of manifest.json (16 MiB) */
	FOLIO_LIMIT_FILE_SIZE,      /* bytes of one file (4 GiB) */
	FOLIO_LIMIT_TOTAL_SIZE,     /* bytes of all files (16 GiB) */
	FOLIO_LIMIT_FILE_COUNT,     /* files in the manifest (200000) */
	FOLIO_LIMIT_PATH_LENGTH,    /* bytes of one path (1024) */
	FOLIO_LIMIT_PATH_DEPTH,     /* components of one path (32) */
	FOLIO_LIMIT__COUNT
};
/* Sets one limit.  FOLIO_EUSAGE for an unknown limit or a value out of its
 * range (window log 10..31, others at least 1). */
int folio_set_limit(folio_ctx *ctx, enum folio_limit which, uint64_t value);
uint64_t folio_get_limit(const folio_ctx *ctx, enum folio_limit which);

/* Progress of the long calls on a context: folio_pack(), folio_bundle_verify(),
 * folio_bundle_unpack(), folio_library_install() and what calls them
 * (folio_bundle_split(), folio_library_install_parts()). */
enum folio_phase {
	FOLIO_PHASE_PREPARING = 1, /* pack: rendering articles, cleaning images */
	FOLIO_PHASE_HASHING,       /* pack: hashing every file for the manifest */
	FOLIO_PHASE_COMPRESSING,   /* pack: writing the bundle(s) */
	FOLIO_PHASE_VERIFYING,     /* reading a bundle, writing nothing */
	FOLIO_PHASE_UNPACKING      /* reading a bundle into a folder */
};
struct folio_progress {
	enum folio_phase phase;
	/* Files of the phase: pack counts the files it prepares, hashes or
	 * writes; a reader the manifest's files it holds, verified. */
	uint64_t files_done, files_total;
	/* Bytes: pack counts the files' bytes; a reader the bundle's bytes
	 * read.  A total of 0 is unknown (a bundle read from a pipe). */
	uint64_t bytes_done, bytes_total;
};
/* Calls fn(arg, progress) as the long calls on ctx advance: at the start
 * of each phase and about once per file, from the calling thread; the
 * struct is borrowed for the call.  fn must not call into libfolio with
 * ctx.  fn NULL (the default) stops the reports.  The library only
 * counts: drawing and rate limiting are the caller's. */
void folio_set_progress(folio_ctx *ctx, void (*fn)(void *arg, const struct folio_progress *progress),
			void *arg);

/* ---- keys (minisign formats) ---------------------------------------------- */

/* Writes PATH.key (mode 0600) and PATH.pub.  With passphrase NULL the secret
 * key is stored unencrypted; otherwise it is encrypted as minisign does
 * (scrypt, minisign's default cost).  Refuses to overwrite either file
 * (FOLIO_EUSAGE) unless force is non-zero.  Both files appear whole or not
 * at all.  keyid_out, if not NULL, receives the key id as minisign prints it
 * (16 upper-case hex digits and a NUL). */
FOLIO_WUR int folio_keygen(folio_ctx *ctx, const char *path,
			   const char *passphrase, int force, char keyid_out[17]);

/* Loads a public key file.  *out is the caller's, to free with
 * folio_pubkey_free().  FOLIO_EREJECT for a malformed file. */
FOLIO_WUR int folio_pubkey_load(folio_ctx *ctx, const char *path,
				folio_pubkey **out);
void folio_pubkey_free(folio_pubkey *key);
/* The key id as minisign prints it, borrowed. */
const char *folio_pubkey_id(const folio_pubkey *key);

/* Loads a secret key file.  passphrase may be NULL for an unencrypted key;
 * an encrypted key with passphrase NULL gives FOLIO_ENEEDPASS, a wrong
 * passphrase FOLIO_EREJECT.  The key lives in guarded memory and is wiped by
 * folio_seckey_free(). */
FOLIO_WUR int folio_seckey_load(folio_ctx *ctx, const char *path,
				const char *passphrase, folio_seckey **out);
void folio_seckey_free(folio_seckey *key);
const char *folio_seckey_id(const folio_seckey *key);

/* ---- pack ------------------------------------------------------------------ */

struct folio_pack_options {
	const char *channel;  /* required: [a-z0-9][a-z0-9._-]{0,63} */
	uint64_t edition;     /* 0: the creation time */
	int64_t created;      /* -1: SOURCE_DATE_EPOCH if set, else now */
	int64_t expires;      /* 0: created + valid_days */
	unsigned valid_days;  /* default 30 */
	int level;            /* zstd level 1..22, default 19 */
	int threads;          /* zstd workers, 0: one per core */
	int force;            /* replace an existing output file */
	const char *title;    /* edition title, NULL: the channel */
	/* Called after each file is written (stored 0: identical to an
	 * earlier file, not stored again), or NULL. */
	void (*on_file)(void *arg, const char *path, uint64_t size, int stored);
	void *on_file_arg;
	/* The reader's edition (FORMAT.md section 9): */
	int verbatim;            /* ship the files exactly as they are: no article
				    pages, no edition page, no image changes */
	int no_index;            /* no generated index.html, search or thumbnails */
	int keep_image_metadata; /* don't strip EXIF, XMP, IPTC and comments */
	unsigned max_image_width; /* 0: images keep their size */
	int optimize_images;     /* make JPEG and PNG images smaller without
				    changing a pixel (slow); with verbatim or
				    keep_image_metadata: FOLIO_EUSAGE */
	/* Called with a one-line warning about the source (an article that
	 * loads resources from the network, an image without a thumbnail),
	 * or NULL. */
	void (*on_warning)(void *arg, const char *message);
	void *on_warning_arg;
	/* A key list (FORMAT.md section 15): the path of CHANNEL.keys, whose
	 * signature is CHANNEL.keys.minisig beside it, carried in the bundle
	 * as entries 3 and 4; NULL: none (the key itself is the trusted one).
	 * The list must be for the channel, name the signing key and allow it
	 * the edition (FOLIO_EUSAGE otherwise); a malformed list or signature
	 * is FOLIO_EREJECT.  Its signature is not verified: the root's public
	 * key is not at hand here. */
	const char *keys;
	/* Bundles that carry part of the edition (FORMAT.md section 17).  The
	 * signed manifest is the same whatever a bundle carries. */
	uint64_t frame_size;  /* a zstd frame ends after the first entry that
				 brings it to this many bytes of tar; 0: 8 MiB */
	/* FOLIO_LAYER_TEXT and/or FOLIO_LAYER_MEDIA: one bundle per layer,
	 * written to OUT.text.folio and OUT.media.folio (out names the prefix;
	 * "-" is refused), each carrying the contents with a file in its layer.
	 * 0: one bundle OUT carrying every layer. */
	unsigned layers;
	/* An earlier edition of the channel the bundles are a delta against:
	 * a bundle (verified with the signing key's public half) or an unpacked
	 * edition folder (its .folio/manifest.json, not verified: the
	 * publisher's own).  Contents it lists are left out; a file it holds
	 * with other bytes under the same path may be sent as a zstd patch
	 * against them.  A base of another channel, or not older than the new
	 * edition, is FOLIO_EUSAGE.  NULL: none. */
	const char *base;
};
#define FOLIO_LAYER_TEXT 1
#define FOLIO_LAYER_MEDIA 2
/* Fills o with the defaults above (keys NULL). */
void folio_pack_options_init(struct folio_pack_options *o);

struct folio_pack_stats {
	uint64_t files;        /* files in the manifest */
	uint64_t stored;       /* tar entries for them (identical files once) */
	uint64_t input_bytes;  /* sum of file sizes */
	uint64_t output_bytes; /* bundle size (all bundles together) */
	uint64_t edition;
	uint64_t articles;        /* articles described in the manifest */
	uint64_t pages;           /* of them, Markdown and text rendered to pages */
	uint64_t images_cleaned;  /* images whose metadata was stripped */
	uint64_t images_located;  /* of them, images that carried a GPS position */
	uint64_t images_shrunk;   /* images scaled down to max_image_width */
	uint64_t image_bytes_saved; /* bytes the scaling saved */
	uint64_t images_optimized;  /* images optimize_images made smaller */
	uint64_t image_bytes_optimized; /* bytes that saved */
	uint64_t thumbnails;
	uint64_t reader_bytes;    /* index.html and everything under _folio/ */
	uint64_t search_bytes;    /* of them, the search index */
	uint64_t warnings;
	/* The bundles written: one, or one per layer asked for (text first). */
	size_t nbundles;
	struct folio_pack_bundle_stats {
		const char *layer;   /* "text", "media", or NULL: every layer */
		uint64_t bytes;      /* its size */
		uint64_t whole;      /* contents carried as they are */
		uint64_t patches;    /* contents carried as patches against the base */
		uint64_t in_base;    /* contents left out: the base has them */
	} bundles[2];
};

/* Packs the folder src into a bundle signed with key and writes it to out
 * ("-" is standard output), or with o->layers one bundle per layer to
 * out.LAYER.folio.  A file output is written to a temporary file beside it
 * and renamed: out never holds a partial bundle, and of several outputs
 * either all appear or none.  Same input, key
 * and options (created included) give the same bytes.  stats may be NULL.
 * FOLIO_EREJECT when the folder holds something folio refuses to ship
 * (symlink, device, unsafe name); the message names it. */
FOLIO_WUR int folio_pack(folio_ctx *ctx, const char *src,
			 const folio_seckey *key,
			 const struct folio_pack_options *o, const char *out,
			 struct folio_pack_stats *stats);

/* ---- key lists: a root key delegates signing (FORMAT.md section 15) ------- */

/* A channel is pinned to a long-lived root key.  The root signs a key list
 * (CHANNEL.keys and CHANNEL.keys.minisig) naming the day-to-day keys that
 * may sign editions, each with a range of edition numbers; bundles carry
 * the list. */
typedef struct folio_keylist folio_keylist;

/* Adds key day to the key list at path for channel (or replaces its range
 * and clears its revocation), allowing it editions first..last, signed by
 * root.  An existing list (path and path.minisig) must be for channel and
 * verify with root's public half (FOLIO_EREJECT otherwise; FOLIO_EUSAGE for
 * another channel); a missing one is started at version 1.  The version
 * goes up by one; created is SOURCE_DATE_EPOCH if set, else now.  Both
 * files are replaced atomically, the signature last. */
FOLIO_WUR int folio_keys_delegate(folio_ctx *ctx, const char *path, const folio_seckey *root,
				  const folio_pubkey *day, const char *channel, uint64_t first,
				  uint64_t last);
/* Marks key key_id revoked (at the creation time, as above) in the key
 * list at path for channel and narrows its range: with after >= 0 it may
 * still have signed editions up to after (last = min(last, after)), with
 * after < 0 none (last = 0).  A key the list does not name, or a missing
 * list, is FOLIO_EUSAGE.  Otherwise as folio_keys_delegate(). */
FOLIO_WUR int folio_keys_revoke(folio_ctx *ctx, const char *path, const folio_seckey *root,
				const char *key_id, const char *channel, int64_t after);

/* Reads the key list at path and its signature path.minisig.  With root,
 * the signature must verify with it; with root NULL the signature is only
 * parsed (and its trusted comment checked against the list): for showing a
 * list, never for trusting one.  FOLIO_EREJECT for a malformed or
 * unverified list.  *out is the caller's, to free with
 * folio_keylist_free(). */
FOLIO_WUR int folio_keylist_load(folio_ctx *ctx, const char *path, const folio_pubkey *root,
				 folio_keylist **out);
void folio_keylist_free(folio_keylist *kl);
const char *folio_keylist_channel(const folio_keylist *kl);
uint64_t folio_keylist_version(const folio_keylist *kl);
int64_t folio_keylist_created(const folio_keylist *kl);
/* The id of the key whose signature the list carries (the root), borrowed. */
const char *folio_keylist_signer_id(const folio_keylist *kl);
size_t folio_keylist_count(const folio_keylist *kl);
/* Key i (0 <= i < count), in list order: its id (borrowed), the editions it
 * may sign (first..last; none when last < first) and when it was revoked
 * (-1: it is not).  Returns 0, or FOLIO_EUSAGE for i out of range.  Any
 * out-pointer may be NULL. */
int folio_keylist_key(const folio_keylist *kl, size_t i, const char **id, uint64_t *first,
		      uint64_t *last, int64_t *revoked);

/* ---- read ------------------------------------------------------------------ */

/* Opens the bundle at path ("-" is standard input), reads its manifest and
 * signature and verifies them with key; when the bundle carries a key list
 * (FORMAT.md section 15), key is the channel's root: it must have signed
 * the list, and the manifest must be signed by a key the list allows the
 * edition.  Checks the manifest's fields, its
 * expiry against the clock and, when channel is not NULL, that the bundle is
 * for that channel.  Nothing but the signed head of the bundle is decoded.
 * *out is the caller's, to free with folio_bundle_free(). */
FOLIO_WUR int folio_bundle_open(folio_ctx *ctx, const char *path,
				const folio_pubkey *key, const char *channel,
				folio_bundle **out);
void folio_bundle_free(folio_bundle *b);

/* Getters on an open bundle: the signed manifest's fields.  Strings are
 * borrowed from b. */
const char *folio_bundle_channel(const folio_bundle *b);
const char *folio_bundle_title(const folio_bundle *b);
uint64_t folio_bundle_edition(const folio_bundle *b);
int64_t folio_bundle_created(const folio_bundle *b);
int64_t folio_bundle_expires(const folio_bundle *b);
/* The key that signed the manifest: the trusted key itself, or with a key
 * list, the listed key the trusted (root) key delegated to. */
const char *folio_bundle_key_id(const folio_bundle *b);
/* The trusted key the signature chain starts from (the root). */
const char *folio_bundle_root_id(const folio_bundle *b);
/* The version of the key list the bundle carries; 0: it carries none. */
uint64_t folio_bundle_keys_version(const folio_bundle *b);
size_t folio_bundle_file_count(const folio_bundle *b);
/* File i (0 <= i < count) in manifest order.  Returns 0, or FOLIO_EUSAGE for
 * i out of range.  Any out-pointer may be NULL. */
int folio_bundle_file(const folio_bundle *b, size_t i, const char **path,
		      uint64_t *size, const char **media_type,
		      const char **blake2b_hex, unsigned *mode);
/* An article's metadata as the signed manifest gives it (FORMAT.md section
 * 14.2).  Strings are borrowed from the bundle; optional ones are NULL when
 * absent. */
struct folio_article_info {
	const char *path, *source, *title, *lang, *dir, *date, *author, *summary,
		*image, *thumbnail;
	uint64_t words;
};
size_t folio_bundle_article_count(const folio_bundle *b);
/* Article i (0 <= i < count), in manifest order.  Returns 0, or
 * FOLIO_EUSAGE for i out of range. */
int folio_bundle_article(const folio_bundle *b, size_t i, struct folio_article_info *out);
/* The manifest's exact bytes (as signed), borrowed. */
const char *folio_bundle_manifest_json(const folio_bundle *b, size_t *len);

/* Streams the rest of the bundle and checks every file against the manifest,
 * writing nothing.  Can be called once per open bundle. */
FOLIO_WUR int folio_bundle_verify(folio_bundle *b);

#define FOLIO_FORCE 1 /* replace dest if it exists, atomically */
/* Accept an incomplete edition: after damage or truncation, reading resumes
 * at the next zstd frame, and what no bundle or source supplied is listed in
 * dest/.folio/missing (FORMAT.md section 17). */
#define FOLIO_PARTIAL 2

/* Streams the rest of the bundle into a private staging folder beside dest,
 * checking every byte as it is written, and renames the folder to dest only
 * when every file matched.  On any failure dest is as it was and no staging
 * is left.  dest must not exist unless flags has FOLIO_FORCE; with it, a dest
 * holding an edition of the same channel (dest/.folio/manifest.json) must
 * hold an older one, and its creation time is a floor for the clock.  The edition
 * keeps its signed manifest in dest/.folio/.  Can be called once per open
 * bundle. */
FOLIO_WUR int folio_bundle_unpack(folio_bundle *b, const char *dest, int flags);
/* After folio_bundle_unpack() with FOLIO_FORCE: 1 if dest already held this
 * edition of this channel, so that the bundle was verified and nothing
 * written, else 0.  (An older
 * edition than dest holds is refused with FOLIO_EREJECT: no rollback.) */
int folio_bundle_current(const folio_bundle *b);

/* Bundles that carry part of an edition (FORMAT.md section 17): a layer, a
 * delta, a damaged or truncated download.  Contents the bundle lacks are
 * taken from sources: edition folders (each with its .folio/manifest.json)
 * whose files are matched by size and BLAKE2b and hashed again as they are
 * copied.  Add sources before verify or unpack.  With FOLIO_FORCE, a dest
 * holding an edition of the same channel is a source itself. */
FOLIO_WUR int folio_bundle_add_source(folio_bundle *b, const char *dir);
/* folio_bundle_open() with sources given from the start: a delta's
 * manifest may itself be a patch against its base edition's, which a
 * source then has to supply before anything can be verified. */
FOLIO_WUR int folio_bundle_open_with(folio_ctx *ctx, const char *path, const folio_pubkey *key,
				     const char *channel, const char *const *sources,
				     size_t nsources, folio_bundle **out);
/* After verify or unpack: the files of the edition that neither the bundle
 * nor a source supplied, in manifest order.  Unpack accepts them missing
 * when they are all of the media layer (a text layer is a readable
 * edition) or with FOLIO_PARTIAL; else it refuses the bundle. */
size_t folio_bundle_missing_count(const folio_bundle *b);
const char *folio_bundle_missing(const folio_bundle *b, size_t i);
/* Of them, the number in the text layer. */
size_t folio_bundle_missing_text(const folio_bundle *b);
/* The edition a delta was made against, as the bundle says (unsigned: a
 * hint for messages); 0 when it does not say. */
uint64_t folio_bundle_base(const folio_bundle *b);
/* The first damage a FOLIO_PARTIAL read got past, or NULL. */
const char *folio_bundle_damage(const folio_bundle *b);
/* Contents the bundle carried that verified, and those taken from sources. */
size_t folio_bundle_received(const folio_bundle *b);
size_t folio_bundle_reused(const folio_bundle *b);

/* ---- the reader's library (docs/FORMAT.md section 16) --------------------- */

/* A folder that keeps editions of trusted channels side by side, as
 * DIR/CHANNEL/EDITION/, with identical files shared between editions, the
 * channels' pinned root keys and their rollback and clock floors in
 * DIR/.folio-library/state.json, and a library page DIR/index.html.
 * Lifecycle: folio_library_open() (which takes the library's lock), the
 * verbs below, folio_library_close() (which releases it). */
typedef struct folio_library folio_library;

#define FOLIO_LIBRARY_WRITE 1  /* exclusive lock: trust, install, prune */
#define FOLIO_LIBRARY_CREATE 2 /* make DIR and its layout if missing (with WRITE) */

/* Opens the library at dir and takes its lock: shared, or exclusive with
 * FOLIO_LIBRARY_WRITE.  When another process holds the lock, waiting (if not
 * NULL) is called once, then the call blocks until the lock is free.
 * FOLIO_EUSAGE when dir is not a library (and FOLIO_LIBRARY_CREATE is not
 * given).  A state file that does not parse is not a failure here: status
 * and check report it; the verbs that write refuse to run.  *out is the
 * caller's, to free with folio_library_close(); it keeps ctx (which must
 * outlive it) for its messages and limits. */
FOLIO_WUR int folio_library_open(folio_ctx *ctx, const char *dir, int flags,
				 void (*waiting)(void *arg, const char *dir), void *arg,
				 folio_library **out);
/* Releases the lock and frees lib; accepts NULL. */
void folio_library_close(folio_library *lib);

/* Pins channel to the public key in the minisign file pubkey_path: bundles
 * of the channel must be signed by it (its root).  A channel pinned to
 * another key is refused (FOLIO_EUSAGE) unless force; its floors are kept
 * either way.  *changed (may be NULL) is 0 when the channel was already
 * trusted with this key. */
FOLIO_WUR int folio_library_trust_add(folio_library *lib, const char *channel,
				      const char *pubkey_path, int force, int *changed);
/* Stops trusting channel: its editions stay, no more are installed; its
 * floors are kept for the day it is trusted again.  FOLIO_EUSAGE when the
 * channel is not trusted. */
FOLIO_WUR int folio_library_trust_remove(folio_library *lib, const char *channel);

struct folio_install_options {
	const char *channel;    /* refuse a bundle of another channel; NULL: any */
	uint64_t max_size;      /* then prune to fit this many bytes; 0: don't */
	int64_t future_margin;  /* seconds "created" may be past now; -1: 1 day */
	int force;              /* re-install the edition last accepted */
	int partial;            /* keep what verifies of a damaged or incomplete
				   bundle (FOLIO_PARTIAL); from parts, the missing
				   and damaged parts are left out */
};
struct folio_install_result {
	char channel[65];
	char title[513];
	uint64_t edition;
	/* 0: installed; 1: already installed, nothing written; 2: accepted
	 * before and pruned since, nothing written. */
	int nothing_to_do;
	uint64_t files;          /* files of the edition (manifest) */
	uint64_t bytes;          /* their bytes */
	uint64_t bytes_shared;   /* of them, in files shared with other editions */
	int sharing;             /* 1 hardlinks work here, 0 plain copies */
	uint64_t editions_pruned; /* by max_size */
	int still_too_big;       /* max_size could not be reached */
	/* editions removed because the key list the bundle brought revokes
	 * the key that signed them (FORMAT.md section 16.3) */
	uint64_t editions_revoked;
	/* Bundles that carry part of an edition (FORMAT.md section 17): */
	uint64_t received;       /* contents the bundle carried */
	uint64_t reused;         /* contents taken from editions kept here */
	uint64_t missing;        /* files still missing (listed in .folio/missing) */
	uint64_t missing_text;   /* of them, of the text layer */
	uint64_t base;           /* the edition a delta says it needs, 0 */
	char damage[700];        /* the first damage a partial install got past */
};
/* Verifies the bundle at path with the root pinned for its channel and the
 * library's policy (rollback, freeze, fast-forward, channel), then installs
 * it as DIR/CHANNEL/EDITION.  Needs FOLIO_LIBRARY_WRITE.  FOLIO_EREJECT for
 * a bundle the policy refuses; the library is then unchanged.  result may
 * be NULL. */
FOLIO_WUR int folio_library_install(folio_library *lib, const char *path,
				    const struct folio_install_options *o,
				    struct folio_install_result *result);

struct folio_prune_result {
	uint64_t editions_pruned;
	uint64_t bytes;          /* the library's disk use afterwards */
	int still_too_big;       /* max_size not reached: only newest editions left */
};
/* Keeps the newest keep editions of each channel (0: no such rule), then
 * removes the oldest editions (by creation time) across channels until the
 * library uses at most max_size bytes (0: no such rule).  The newest edition
 * of a channel is never removed.  Needs FOLIO_LIBRARY_WRITE. */
FOLIO_WUR int folio_library_prune(folio_library *lib, uint64_t keep, uint64_t max_size,
				  struct folio_prune_result *result);

#define FOLIO_STATUS_JSON 1
/* Describes the library: its channels, editions, disk use, leftovers of
 * interrupted runs and problems, as text or (FOLIO_STATUS_JSON) one JSON
 * object (docs/folio-unpack.1 lists its fields).  *out is malloc'd, the
 * caller frees it; *consistent is 1 when every edition is complete and the
 * state parses.  Writes nothing. */
FOLIO_WUR int folio_library_status(folio_library *lib, int flags, char **out, int *consistent);

struct folio_check_result {
	uint64_t editions, files, problems;
};
/* Re-checks every edition: its kept manifest's signature with the channel's
 * pinned root, then every file's size and BLAKE2b-256 hash.  problem (may be
 * NULL) is called once per problem with a sentence naming the path.
 * FOLIO_OK even when problems were found (see result). */
FOLIO_WUR int folio_library_check(folio_library *lib,
				  void (*problem)(void *arg, const char *message), void *arg,
				  struct folio_check_result *result);

/* ---- parts: a bundle cut into pieces for small media ----------------------- */

/* A bundle too large for one memory stick is cut into raw slices,
 * PREFIX.part001, PREFIX.part002, ... (cat gives the bundle back), described
 * by a signed index PREFIX.parts and PREFIX.parts.minisig: each part's name,
 * size and BLAKE2b-256, so that a reader can say exactly which parts to
 * send again.  Lifecycle: folio_parts_open() verifies the index;
 * folio_parts_find() looks for the parts; folio_parts_part() tells of each;
 * folio_library_install_parts() installs the bundle they make;
 * folio_parts_free(). */
typedef struct folio_parts folio_parts;

#define FOLIO_PARTS_MAX 100000           /* parts of one bundle */
#define FOLIO_PARTS_INDEX_MAX (16u << 20) /* bytes of an index */

struct folio_split_result {
	char channel[65];
	uint64_t edition;
	uint64_t bundle_size;
	size_t parts;
	char index[4096];    /* the index written: PREFIX.parts */
};
/* Verifies the bundle at path in full (folio_bundle_verify) with verify_key,
 * or with NULL the public half of key, then writes prefix.partNNN (NNN: the
 * part number, 3 digits or more, all of one width), each part_size bytes
 * but the last, then the index prefix.parts and its signature by key
 * prefix.parts.minisig.  Everything is written under temporary names and
 * renamed when complete; on failure nothing new is left.  An output that
 * exists is FOLIO_EUSAGE unless force (then other prefix.partN files, left
 * by an earlier split, are removed too).  More than FOLIO_PARTS_MAX parts is
 * FOLIO_EUSAGE.  result may be NULL. */
FOLIO_WUR int folio_bundle_split(folio_ctx *ctx, const char *path, const folio_seckey *key,
				 const folio_pubkey *verify_key, uint64_t part_size,
				 const char *prefix, int force, struct folio_split_result *result);
/* The same, verifying with sources (folio_bundle_open_with()): a delta
 * verifies only with its base edition at hand. */
FOLIO_WUR int folio_bundle_split_with(folio_ctx *ctx, const char *path, const folio_seckey *key,
				      const folio_pubkey *verify_key, const char *const *sources,
				      size_t nsources, uint64_t part_size, const char *prefix, int force,
				      struct folio_split_result *result);

/* Reads the index at path and its signature path.minisig, verifies the
 * signature with key, or (key NULL) with the key lib trusts for the index's
 * channel: its root, or a key of the newest key list it accepted that is
 * not revoked; then parses the index strictly.  A key lib does not know
 * yet (the first edition of a channel that delegates signing) is taken
 * from the bundle's head at the start of part 1 (NAME.part001 for an index
 * NAME.parts, looked for as folio_parts_find() looks, in places[0..n)):
 * a head that verifies with lib's roots and carries a key list newer than
 * lib's naming the key; the index must then describe that bundle (its
 * manifest hash).  FOLIO_EREJECT for an index that does not verify or is
 * malformed.  *out is the caller's, to free with folio_parts_free(); lib is
 * not kept. */
FOLIO_WUR int folio_parts_open(folio_ctx *ctx, const char *path, const folio_pubkey *key,
			       folio_library *lib, const char *const *places, size_t n,
			       folio_parts **out);
void folio_parts_free(folio_parts *p);
const char *folio_parts_channel(const folio_parts *p);
uint64_t folio_parts_edition(const folio_parts *p);
uint64_t folio_parts_bundle_size(const folio_parts *p);
size_t folio_parts_count(const folio_parts *p);

/* Looks for every part beside the index, then in places[0..n): folders
 * (the part's name in it) or files (taken when their name is a part's),
 * and checks each copy found by size and BLAKE2b-256; the first good one
 * counts.  FOLIO_EUSAGE for a place that does not exist; a part that is
 * missing or damaged is not a failure (see folio_parts_part()). */
FOLIO_WUR int folio_parts_find(folio_parts *p, const char *const *places, size_t n);

#define FOLIO_PART_GOOD 0
#define FOLIO_PART_DAMAGED 1 /* found, but of another size or other bytes */
#define FOLIO_PART_MISSING 2
struct folio_part_info {
	const char *name;    /* as the index names it */
	uint64_t size;       /* as the index gives it */
	int state;           /* FOLIO_PART_* (MISSING before folio_parts_find()) */
	const char *path;    /* the good copy, or the first damaged one; NULL if missing */
	const char *problem; /* what is wrong with a damaged part, else "" */
};
/* Part i (0 <= i < count), in order; strings borrowed from p.  Returns 0, or
 * FOLIO_EUSAGE for i out of range. */
int folio_parts_part(const folio_parts *p, size_t i, struct folio_part_info *out);
/* The number of parts found good. */
size_t folio_parts_good(const folio_parts *p);

/* Joins the good parts found (folio_parts_find()), in order, into a
 * temporary file in lib's own folder, checking every byte again, and
 * installs it as folio_library_install() does.  A part missing or damaged
 * is FOLIO_EREJECT naming it, unless o->partial (then it is left out).
 * Messages name the index, not the temporary file, and are on lib's
 * context.  The temporary file is removed. */
FOLIO_WUR int folio_library_install_parts(folio_library *lib, folio_parts *p,
					  const struct folio_install_options *o,
					  struct folio_install_result *result);

#ifdef __cplusplus
}
#endif
#endif /* FOLIO_H */
