/* SPDX-License-Identifier: ISC */
/* folio_pack(): folder -> signed manifest -> pax tar -> zstd frames. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <zstd.h>

#include "folio-internal.h"

#define IO_CHUNK (256u << 10)

void folio_pack_options_init(struct folio_pack_options *o)
{
	memset(o, 0, sizeof(*o));
	o->created = -1;
	o->valid_days = 30;
	o->level = 19;
}

/* ---- walking the source folder ------------------------------------------- */

struct walk {
	folio_ctx *ctx;
	const char *src;
	struct folio_file *files;
	size_t nfiles, cap;
};

static const char *file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

static int walk_add(struct walk *w, char *rel, const struct stat *st)
{
	if (w->nfiles == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct folio_file *files = realloc(w->files, cap * sizeof(*files));
		if (files == NULL)
			return folio_fail_errno(w->ctx, ENOMEM, "cannot pack '%s'", w->src);
		w->files = files;
		w->cap = cap;
	}
	struct folio_file *f = &w->files[w->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = rel;
	f->size = (uint64_t)st->st_size;
	f->mode = (st->st_mode & S_IXUSR) ? 0755 : 0644;
	return FOLIO_OK;
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix)
{
	folio_ctx *ctx = w->ctx;
	DIR *dir = fdopendir(dirfd);
	if (dir == NULL) {
		int err = errno;
		close(dirfd);
		return folio_fail_errno(ctx, err, "cannot read '%s/%s'", w->src, prefix);
	}
	int rc = FOLIO_OK;
	struct dirent *de;
	while (rc == FOLIO_OK && (errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		size_t size = strlen(prefix) + strlen(de->d_name) + 2;
		char *rel = malloc(size);
		if (rel == NULL) {
			rc = folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", w->src);
			break;
		}
		snprintf(rel, size, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name);
		const char *why = folio_path_problem(rel, ctx->limits[FOLIO_LIMIT_PATH_LENGTH],
						     (unsigned)ctx->limits[FOLIO_LIMIT_PATH_DEPTH]);
		struct stat st;
		if (why != NULL) {
			rc = folio_fail(ctx, FOLIO_EREJECT, "cannot pack '%s/%s': %s", w->src, rel, why);
		} else if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = folio_fail_errno(ctx, errno, "cannot pack '%s/%s'", w->src, rel);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = fd < 0 ? folio_fail_errno(ctx, errno, "cannot pack '%s/%s'", w->src, rel)
				    : walk_dir(w, fd, rel);
		} else if (S_ISREG(st.st_mode)) {
			rc = walk_add(w, rel, &st);
			if (rc == FOLIO_OK)
				rel = NULL; /* owned by the list now */
		} else {
			rc = folio_fail(ctx, FOLIO_EREJECT, "cannot pack '%s/%s': %s", w->src, rel,
					file_kind(st.st_mode));
		}
		free(rel);
	}
	if (rc == FOLIO_OK && errno != 0)
		rc = folio_fail_errno(ctx, errno, "cannot read '%s/%s'", w->src, prefix);
	closedir(dir);
	return rc;
}

/* What a reader with the same limits would refuse, the publisher learns now:
 * too many files, too large a file or edition, names that clash on disk. */
static int check_tree(folio_ctx *ctx, const char *src, const struct folio_file *files, size_t nfiles)
{
	const uint64_t *lim = ctx->limits;
	if (nfiles > lim[FOLIO_LIMIT_FILE_COUNT])
		return folio_fail(ctx, FOLIO_EREJECT, "cannot pack '%s': %zu files is more than the limit of %llu",
				  src, nfiles, (unsigned long long)lim[FOLIO_LIMIT_FILE_COUNT]);
	uint64_t total = 0;
	for (size_t i = 0; i < nfiles; i++) {
		const struct folio_file *f = &files[i];
		if (f->size > lim[FOLIO_LIMIT_FILE_SIZE])
			return folio_fail(ctx, FOLIO_EREJECT,
					  "cannot pack '%s/%s': %llu bytes is more than the limit of %llu",
					  src, f->path, (unsigned long long)f->size,
					  (unsigned long long)lim[FOLIO_LIMIT_FILE_SIZE]);
		total += f->size;
		if (total > lim[FOLIO_LIMIT_TOTAL_SIZE])
			return folio_fail(ctx, FOLIO_EREJECT,
					  "cannot pack '%s': files add up to more than the limit of %llu bytes",
					  src, (unsigned long long)lim[FOLIO_LIMIT_TOTAL_SIZE]);
	}
	char **paths = malloc(nfiles * sizeof(*paths) + 1);
	if (paths == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
	for (size_t i = 0; i < nfiles; i++)
		paths[i] = files[i].path;
	struct folio_path_clash clash;
	int r = folio_path_set_check(paths, nfiles, &clash);
	free(paths);
	if (r < 0)
		return folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
	if (r > 0) {
		char what[600];
		folio_path_clash_describe(&clash, what, sizeof(what));
		return folio_fail(ctx, FOLIO_EREJECT, "cannot pack '%s': %s", src, what);
	}
	return FOLIO_OK;
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

static const char *extension(const char *path)
{
	const char *name = file_name(path), *dot = strrchr(name, '.');
	return dot != NULL && dot != name ? dot + 1 : "";
}

/* Bundle order (FORMAT.md section 6): the text layer first, so that a
 * cut-short download still holds every article, then media; within a
 * layer, files that compress alike together: text before what is
 * compressed already, then by extension, then by file name, so that the
 * same page in two languages or two sections sits side by side; then by
 * path.  Byte order throughout, no locale. */
static int compare_files(const void *a, const void *b)
{
	const struct folio_file *x = a, *y = b;
	int c = strcmp(x->layer, y->layer); /* "media" < "text" */
	if (c != 0)
		return -c;
	bool xp = folio_type_compressed(x->type), yp = folio_type_compressed(y->type);
	if (xp != yp)
		return xp ? 1 : -1;
	if ((c = strcmp(extension(x->path), extension(y->path))) != 0)
		return c;
	if ((c = strcmp(file_name(x->path), file_name(y->path))) != 0)
		return c;
	return strcmp(x->path, y->path);
}

/* Hashes size bytes of file f (from the source or the work folder); calls sink for each
 * chunk when it is not NULL.  Refuses a file whose size changed. */
typedef int (*chunk_sink)(void *arg, const void *buf, size_t len);

static int read_file(folio_ctx *ctx, const char *src, const int dirs[2], const struct folio_file *f,
		     uint8_t *buf, uint8_t hash[FOLIO_HASH_BYTES], chunk_sink sink, void *arg)
{
	/* dirs: the source folder, then the work folder of generated files */
	int fd = openat(dirs[f->generated], f->origin != NULL ? f->origin : f->path,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return folio_fail_errno(ctx, errno, "cannot read '%s/%s'", src, f->path);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, FOLIO_HASH_BYTES);
	uint64_t left = f->size;
	int rc = FOLIO_OK;
	while (rc == FOLIO_OK) {
		ssize_t n = read(fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = folio_fail_errno(ctx, errno, "cannot read '%s/%s'", src, f->path);
			break;
		}
		if ((uint64_t)n > left || (n == 0 && left != 0)) {
			rc = folio_fail(ctx, FOLIO_ESYSTEM,
					"cannot pack '%s/%s': the file changed while it was read",
					src, f->path);
			break;
		}
		if (n == 0)
			break;
		left -= (uint64_t)n;
		crypto_generichash_update(&st, buf, (size_t)n);
		if (sink != NULL)
			rc = sink(arg, buf, (size_t)n);
	}
	close(fd);
	crypto_generichash_final(&st, hash, FOLIO_HASH_BYTES);
	return rc;
}

/* ---- the tar layer -------------------------------------------------------- */

struct base;

struct packer {
	folio_ctx *ctx;
	const char *src;
	const struct folio_pack_options *o;
	struct archive *tar;
	struct archive_entry *entry;
	struct folio_frames *fw;
	const char *out_name;
	int write_rc;            /* the frames' failure, told after libarchive returns */
	uint8_t *buf;
	uint64_t frame_size;
	bool in_head;            /* frame 1 ends only after the head, whatever its size */
	const struct base *base; /* a delta's base edition, or NULL */
	ZSTD_CCtx *pcctx;        /* patches, and the same contents compressed alone */
};

static la_ssize_t tar_write_cb(struct archive *a, void *arg, const void *data, size_t len)
{
	(void)a;
	struct packer *p = arg;
	if (p->write_rc == FOLIO_OK)
		p->write_rc = folio_frames_write(p->fw, data, len);
	return p->write_rc == FOLIO_OK ? (la_ssize_t)len : -1;
}

static int tar_fail(struct packer *p, const char *what)
{
	if (p->write_rc != FOLIO_OK)
		return p->write_rc;
	return folio_fail(p->ctx, FOLIO_ESYSTEM, "cannot write '%s': %s: %s", p->out_name,
			  what, archive_error_string(p->tar));
}

static int tar_header(struct packer *p, const char *path, uint64_t size)
{
	struct archive_entry *e = archive_entry_clear(p->entry);
	archive_entry_set_pathname_utf8(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)p->o->created, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(p->tar, e) != ARCHIVE_OK)
		return tar_fail(p, path);
	return FOLIO_OK;
}

static int tar_data(void *arg, const void *buf, size_t len)
{
	struct packer *p = arg;
	if (archive_write_data(p->tar, buf, len) != (la_ssize_t)len)
		return tar_fail(p, "data");
	return FOLIO_OK;
}

static int tar_finish_entry(struct packer *p, const char *path, bool end_frame)
{
	if (archive_write_finish_entry(p->tar) != ARCHIVE_OK)
		return tar_fail(p, path);
	if (end_frame || (!p->in_head && folio_frames_in(p->fw) >= p->frame_size))
		return folio_frames_end(p->fw);
	return FOLIO_OK;
}

static int tar_memory_entry(struct packer *p, const char *path, const char *data,
			    size_t len, bool end_frame)
{
	int rc = tar_header(p, path, len);
	if (rc == FOLIO_OK)
		rc = tar_data(p, data, len);
	if (rc == FOLIO_OK)
		rc = tar_finish_entry(p, path, end_frame);
	return rc;
}

static int tar_file_entry(struct packer *p, const int dirs[2], const struct folio_file *f)
{
	int rc = tar_header(p, f->path, f->size);
	uint8_t hash[FOLIO_HASH_BYTES];
	if (rc == FOLIO_OK)
		rc = read_file(p->ctx, p->src, dirs, f, p->buf, hash, tar_data, p);
	if (rc == FOLIO_OK && memcmp(hash, f->hash, FOLIO_HASH_BYTES) != 0)
		rc = folio_fail(p->ctx, FOLIO_ESYSTEM,
				"cannot pack '%s/%s': the file changed while it was read", p->src, f->path);
	if (rc == FOLIO_OK)
		rc = tar_finish_entry(p, f->path, false);
	return rc;
}

/* ---- the base edition of a delta ------------------------------------------ */

struct base {
	const char *name;            /* as given, for messages */
	struct folio_manifest m;
	const struct folio_file **by_content; /* m's files by size and hash */
	const struct folio_file **by_path;    /* and by path */
	int dirfd;                   /* the base edition's files; -1: none */
	struct folio_work work;      /* where a base bundle was unpacked */
	char *json;                  /* its manifest's bytes: the new one is a patch */
	size_t json_len;
};

static int compare_content(const void *a, const void *b)
{
	const struct folio_file *x = *(const struct folio_file *const *)a;
	const struct folio_file *y = *(const struct folio_file *const *)b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->hash, y->hash, FOLIO_HASH_BYTES);
}

static int compare_path(const void *a, const void *b)
{
	const struct folio_file *x = *(const struct folio_file *const *)a;
	const struct folio_file *y = *(const struct folio_file *const *)b;
	return strcmp(x->path, y->path);
}

static bool base_has_content(const struct base *b, const struct folio_file *f)
{
	return bsearch(&f, b->by_content, b->m.nfiles, sizeof(*b->by_content), compare_content) != NULL;
}

static const struct folio_file *base_file_at(const struct base *b, const char *path)
{
	struct folio_file key = {.path = (char *)(uintptr_t)path};
	const struct folio_file *k = &key;
	const struct folio_file **hit =
		bsearch(&k, b->by_path, b->m.nfiles, sizeof(*b->by_path), compare_path);
	return hit != NULL ? *hit : NULL;
}

static void base_release(struct base *b)
{
	if (b->dirfd >= 0)
		close(b->dirfd);
	b->dirfd = -1;
	if (b->work.dir != NULL) {
		folio_remove_tree(b->work.fd, "base");
		folio_work_remove(&b->work);
	}
	free(b->by_content);
	free(b->by_path);
	free(b->json);
	b->json = NULL;
	b->by_content = b->by_path = NULL;
	folio_manifest_release(&b->m);
}

/* Same channel, older edition: anything else is a mistake of the caller. */
static int base_check(folio_ctx *ctx, const struct folio_pack_options *o, const struct base *b)
{
	if (strcmp(b->m.channel, o->channel) != 0)
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "cannot pack against base '%s': it is an edition of channel '%s', not '%s'",
				  b->name, b->m.channel, o->channel);
	if (b->m.edition >= o->edition)
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "cannot pack against base '%s': its edition %llu is not older than edition %llu",
				  b->name, (unsigned long long)b->m.edition, (unsigned long long)o->edition);
	return FOLIO_OK;
}

/* An edition folder: its manifest as it is (the publisher's own, not
 * verified), its files where they are. */
static int base_from_folder(folio_ctx *ctx, const struct folio_pack_options *o, struct base *b)
{
	size_t size = strlen(b->name) + sizeof("/" FOLIO_MANIFEST_PATH);
	char *path = malloc(size);
	if (path == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot read base '%s'", b->name);
	snprintf(path, size, "%s/%s", b->name, FOLIO_MANIFEST_PATH);
	char *json = NULL;
	size_t len = 0;
	int rc;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot use base '%s': it is a folder without %s, not an edition",
				b->name, FOLIO_MANIFEST_PATH);
	else
		rc = folio_read_small_file(ctx, path, ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE], &json, &len);
	if (rc == FOLIO_OK)
		rc = folio_manifest_decode(ctx, path, json, len, &b->m);
	b->json = json;
	b->json_len = len;
	free(path);
	if (rc == FOLIO_OK)
		rc = base_check(ctx, o, b);
	if (rc == FOLIO_OK && (b->dirfd = open(b->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = folio_fail_errno(ctx, errno, "cannot read base '%s'", b->name);
	return rc;
}

/* A bundle: verified with the signing key's public half, then unpacked
 * (whatever part of the edition it carries) into a work folder, where its
 * files serve as the bytes patches are made against. */
static int base_from_bundle(folio_ctx *ctx, const struct folio_pack_options *o,
			    const folio_seckey *key, struct base *b)
{
	folio_pubkey *pub = NULL;
	folio_bundle *bundle = NULL;
	int rc = folio_seckey_public(ctx, key, &pub);
	/* the publisher's own earlier edition: that it has expired since (or
	 * that the clock is behind) does not make its bytes a worse base */
	struct folio_open_opts oo = {.key = pub, .future_margin = -1, .any_time = true};
	if (rc == FOLIO_OK)
		rc = folio_bundle_open_opts(ctx, b->name, &oo, &bundle);
	if (rc != FOLIO_OK && ctx->needs_base != 0)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot use base '%s': it is itself a delta (against edition %llu), whose "
				"manifest cannot be read alone: give its edition's folder (unpacked), or a "
				"bundle of it made without --base",
				b->name, (unsigned long long)ctx->needs_base);
	if (rc == FOLIO_OK) {
		size_t len;
		const char *json = folio_bundle_manifest_json(bundle, &len);
		rc = folio_manifest_decode(ctx, b->name, json, len, &b->m);
		if (rc == FOLIO_OK && (b->json = malloc(len + 1)) == NULL)
			rc = folio_fail_errno(ctx, ENOMEM, "cannot read base '%s'", b->name);
		if (rc == FOLIO_OK) {
			memcpy(b->json, json, len);
			b->json_len = len;
		}
	}
	if (rc == FOLIO_OK)
		rc = base_check(ctx, o, b);
	if (rc == FOLIO_OK)
		rc = folio_work_open(ctx, &b->work);
	char *dest = NULL;
	if (rc == FOLIO_OK) {
		size_t size = strlen(b->work.dir) + sizeof("/base");
		if ((dest = malloc(size)) == NULL)
			rc = folio_fail_errno(ctx, ENOMEM, "cannot read base '%s'", b->name);
		else
			snprintf(dest, size, "%s/base", b->work.dir);
	}
	if (rc == FOLIO_OK)
		rc = folio_bundle_unpack(bundle, dest, FOLIO_PARTIAL);
	if (rc == FOLIO_OK &&
	    (b->dirfd = openat(b->work.fd, "base", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = folio_fail_errno(ctx, errno, "cannot read base '%s'", dest);
	free(dest);
	folio_bundle_free(bundle);
	folio_pubkey_free(pub);
	return rc;
}

static int load_base(folio_ctx *ctx, const struct folio_pack_options *o, const folio_seckey *key,
		     struct base *b)
{
	b->name = o->base;
	b->dirfd = -1;
	b->work.fd = -1;
	struct stat st;
	if (stat(b->name, &st) != 0)
		return folio_fail_errno(ctx, errno, "cannot open base '%s'", b->name);
	int rc = S_ISDIR(st.st_mode) ? base_from_folder(ctx, o, b) : base_from_bundle(ctx, o, key, b);
	if (rc != FOLIO_OK)
		return rc;
	size_t n = b->m.nfiles;
	b->by_content = malloc((n + 1) * sizeof(*b->by_content));
	b->by_path = malloc((n + 1) * sizeof(*b->by_path));
	if (b->by_content == NULL || b->by_path == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot read base '%s'", b->name);
	for (size_t i = 0; i < n; i++)
		b->by_content[i] = b->by_path[i] = &b->m.files[i];
	qsort(b->by_content, n, sizeof(*b->by_content), compare_content);
	qsort(b->by_path, n, sizeof(*b->by_path), compare_path);
	return FOLIO_OK;
}

/* ---- patches against the base --------------------------------------------- */

struct memory_sink {
	uint8_t *data;
	size_t len;
};

static int memory_sink_add(void *arg, const void *buf, size_t len)
{
	struct memory_sink *m = arg;
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return FOLIO_OK;
}

/* The base's bytes of file bf, when its copy is there and hashes right;
 * NULL otherwise (the content then goes whole: no failure). */
static uint8_t *base_bytes(const struct base *b, const struct folio_file *bf)
{
	if (b->dirfd < 0)
		return NULL;
	/* O_NONBLOCK: a FIFO planted there does not hang the pack */
	int fd = openat(b->dirfd, bf->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	uint8_t *data = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == bf->size)
		data = malloc(bf->size);
	size_t got = 0;
	while (data != NULL && got < bf->size) {
		ssize_t n = read(fd, data + got, bf->size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			data = NULL;
		} else {
			got += (size_t)n;
		}
	}
	close(fd);
	uint8_t hash[FOLIO_HASH_BYTES];
	if (data != NULL) {
		crypto_generichash(hash, sizeof(hash), data, bf->size, NULL, 0);
		if (memcmp(hash, bf->hash, sizeof(hash)) != 0) {
			free(data);
			data = NULL;
		}
	}
	return data;
}

/* One zstd frame that decodes to data[0..len) with base[0..base_len) as
 * its reference prefix: checksum on, no dictionary id, no content size
 * (so the header states the window, a power of two just covering base and
 * data).  *out is malloc'd; NULL and 0 bytes when it is not smaller than
 * below bytes. */
static int make_patch(struct packer *p, const char *path, const uint8_t *base, size_t base_len,
		      const uint8_t *data, size_t len, size_t below, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	int wlog = 10;
	while (((uint64_t)1 << wlog) < (uint64_t)base_len + len)
		wlog++;
	/* one context for every patch: its tables are allocated once */
	if (p->pcctx == NULL)
		p->pcctx = ZSTD_createCCtx();
	ZSTD_CCtx *cctx = p->pcctx;
	size_t bound = ZSTD_compressBound(len);
	uint8_t *buf = malloc(bound);
	if (cctx == NULL || buf == NULL) {
		free(buf);
		return folio_fail_errno(p->ctx, ENOMEM, "cannot pack '%s/%s'", p->src, path);
	}
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, p->o->level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, wlog);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_refPrefix(cctx, base, base_len);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(cctx, buf, bound, data, len);
	if (ZSTD_isError(r)) {
		free(buf);
		return folio_fail(p->ctx, FOLIO_ESYSTEM, "cannot compress '%s/%s': %s", p->src, path,
				  ZSTD_getErrorName(r));
	}
	if (r >= below) {
		free(buf);
		return FOLIO_OK;
	}
	*out = buf;
	*out_len = r;
	return FOLIO_OK;
}

/* The content of file f, as a patch against the base's file of the same
 * path when there is one to make and it is smaller than the content
 * compressed alone, else whole.  *patched tells which. */
static int tar_content_entry(struct packer *p, const int dirs[2], const struct folio_file *f,
			     bool *patched)
{
	*patched = false;
	const struct base *b = p->base;
	const struct folio_file *bf = b != NULL ? base_file_at(b, f->path) : NULL;
	uint64_t limit_log = p->ctx->limits[FOLIO_LIMIT_WINDOW_LOG];
	if (limit_log > FOLIO_PACK_WINDOW_LOG)
		limit_log = FOLIO_PACK_WINDOW_LOG;
	if (bf == NULL || bf->size == 0 || f->size == 0 ||
	    bf->size + f->size > ((uint64_t)1 << limit_log))
		return tar_file_entry(p, dirs, f);
	uint8_t *old = base_bytes(b, bf);
	if (old == NULL)
		return tar_file_entry(p, dirs, f);

	folio_ctx *ctx = p->ctx;
	struct memory_sink now = {.data = malloc(f->size)};
	uint8_t *alone = NULL, *patch = NULL;
	size_t patch_len = 0;
	uint8_t hash[FOLIO_HASH_BYTES];
	int rc = now.data == NULL ? folio_fail_errno(ctx, ENOMEM, "cannot pack '%s/%s'", p->src, f->path)
				  : read_file(ctx, p->src, dirs, f, p->buf, hash, memory_sink_add, &now);
	if (rc == FOLIO_OK && memcmp(hash, f->hash, FOLIO_HASH_BYTES) != 0)
		rc = folio_fail(ctx, FOLIO_ESYSTEM,
				"cannot pack '%s/%s': the file changed while it was read", p->src, f->path);
	size_t bound = ZSTD_compressBound(f->size);
	if (rc == FOLIO_OK && p->pcctx == NULL)
		p->pcctx = ZSTD_createCCtx();
	if (rc == FOLIO_OK && ((alone = malloc(bound)) == NULL || p->pcctx == NULL))
		rc = folio_fail_errno(ctx, ENOMEM, "cannot pack '%s/%s'", p->src, f->path);
	size_t alone_len = 0;
	if (rc == FOLIO_OK) {
		ZSTD_CCtx_reset(p->pcctx, ZSTD_reset_session_and_parameters);
		alone_len = ZSTD_compressCCtx(p->pcctx, alone, bound, now.data, f->size, p->o->level);
		if (ZSTD_isError(alone_len))
			rc = folio_fail(ctx, FOLIO_ESYSTEM, "cannot compress '%s/%s': %s", p->src,
					f->path, ZSTD_getErrorName(alone_len));
	}
	if (rc == FOLIO_OK)
		rc = make_patch(p, f->path, old, bf->size, now.data, f->size, alone_len, &patch,
				&patch_len);
	if (rc == FOLIO_OK && patch_len > 0) {
		size_t size = sizeof(FOLIO_PATCH_PREFIX) + 2 * FOLIO_HASH_BYTES + 1 + strlen(f->path);
		char *name = malloc(size);
		if (name == NULL) {
			rc = folio_fail_errno(ctx, ENOMEM, "cannot pack '%s/%s'", p->src, f->path);
		} else {
			snprintf(name, size, FOLIO_PATCH_PREFIX "%s/%s", bf->hex, f->path);
			rc = tar_memory_entry(p, name, (const char *)patch, patch_len, false);
			*patched = true;
			free(name);
		}
	} else if (rc == FOLIO_OK) {
		rc = tar_memory_entry(p, f->path, (const char *)now.data, f->size, false);
	}
	free(patch);
	free(alone);
	free(now.data);
	free(old);
	return rc;
}

/* Entry 1: the manifest, or in a delta a patch of it against the base's
 * manifest (most of an edition's metadata is the same from day to day). */
static int manifest_entry(struct packer *p, const char *manifest, size_t len)
{
	const struct base *b = p->base;
	uint64_t limit_log = p->ctx->limits[FOLIO_LIMIT_WINDOW_LOG];
	if (limit_log > FOLIO_PACK_WINDOW_LOG)
		limit_log = FOLIO_PACK_WINDOW_LOG;
	if (b == NULL || b->json == NULL || b->json_len + len > ((uint64_t)1 << limit_log))
		return tar_memory_entry(p, FOLIO_MANIFEST_PATH, manifest, len, false);
	uint8_t *patch = NULL;
	size_t patch_len = 0;
	int rc = make_patch(p, FOLIO_MANIFEST_PATH, (const uint8_t *)b->json, b->json_len,
			    (const uint8_t *)manifest, len, len, &patch, &patch_len);
	if (rc != FOLIO_OK || patch_len == 0) {
		free(patch);
		return rc != FOLIO_OK ? rc : tar_memory_entry(p, FOLIO_MANIFEST_PATH, manifest, len, false);
	}
	uint8_t hash[FOLIO_HASH_BYTES];
	char name[sizeof(FOLIO_PATCH_PREFIX) + 2 * FOLIO_HASH_BYTES + sizeof("/" FOLIO_MANIFEST_PATH)];
	crypto_generichash(hash, sizeof(hash), (const uint8_t *)b->json, b->json_len, NULL, 0);
	memcpy(name, FOLIO_PATCH_PREFIX, strlen(FOLIO_PATCH_PREFIX));
	folio_hex(name + strlen(FOLIO_PATCH_PREFIX), hash, sizeof(hash));
	strcat(name, "/" FOLIO_MANIFEST_PATH);
	rc = tar_memory_entry(p, name, (const char *)patch, patch_len, false);
	free(patch);
	return rc;
}

/* ---- one bundle ------------------------------------------------------------ */

/* A bundle to write: all of the edition or one layer, whole or a delta. */
struct output {
	char *name;     /* the file, or "-" */
	char *tmp;      /* its temporary name while it is written */
	int fd;
	bool renamed;
	const char *layer; /* "text", "media", or NULL: every layer */
	char *info;     /* .folio/bundle.json, or NULL (a full bundle has none) */
	size_t info_len;
	struct folio_pack_bundle_stats st;
};

/* .folio/bundle.json: what a bundle that carries part of the edition
 * carries (FORMAT.md section 17).  Unsigned: a hint for messages. */
static int bundle_info(folio_ctx *ctx, const struct base *b, struct output *out)
{
	if (b == NULL && out->layer == NULL)
		return FOLIO_OK;
	struct folio_buf buf = {0};
	folio_buf_add(&buf, "{\"format\":\"folio-bundle-1\"");
	if (b != NULL) {
		folio_buf_add(&buf, ",\"base\":");
		folio_buf_addu(&buf, b->m.edition);
	}
	if (out->layer != NULL) {
		folio_buf_add(&buf, ",\"layers\":[\"");
		folio_buf_add(&buf, out->layer);
		folio_buf_add(&buf, "\"]");
	}
	folio_buf_add(&buf, "}\n");
	if (buf.oom) {
		free(buf.p);
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out->name);
	}
	out->info = buf.p;
	out->info_len = buf.len;
	return FOLIO_OK;
}

/* The libarchive and zstd state of one bundle, for the next. */
static void packer_reset(struct packer *p)
{
	archive_write_free(p->tar);
	archive_entry_free(p->entry);
	folio_frames_free(p->fw);
	p->tar = NULL;
	p->entry = NULL;
	p->fw = NULL;
	p->write_rc = FOLIO_OK;
}

/* A frame holds text or already-compressed media, never both (FORMAT.md
 * section 2.1): the kinds are compressed differently. */
static enum folio_frame_kind frame_kind(const struct folio_file *f)
{
	return folio_type_compressed(f->type) ? FOLIO_FRAME_MEDIA : FOLIO_FRAME_TEXT;
}

static int write_bundle(struct packer *p, const int dirs[2], const struct folio_manifest *m,
			const char *manifest, size_t manifest_len, const char *sig, size_t sig_len,
			const struct folio_keylist *keys, struct output *out)
{
	folio_ctx *ctx = p->ctx;
	int rc = folio_frames_new(ctx, out->name, out->fd, p->o->level, p->o->threads, p->frame_size,
				  &p->fw);
	if (rc != FOLIO_OK)
		return rc;
	p->out_name = out->name;
	p->tar = archive_write_new();
	p->entry = archive_entry_new();
	if (p->tar == NULL || p->entry == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", p->out_name);
	/* Unblocked: every byte of an entry reaches tar_write_cb before
	 * archive_write_finish_entry() returns, so frames can end there. */
	if (archive_write_set_format_pax_restricted(p->tar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(p->tar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(p->tar, 0) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(p->tar, 1) != ARCHIVE_OK ||
	    archive_write_open2(p->tar, p, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK)
		return tar_fail(p, "tar");

	/* Frame 1 is the head: the manifest, its signature and any key list,
	 * and what the bundle carries when it is not all of the edition. */
	bool info = out->info != NULL;
	p->in_head = true;
	rc = manifest_entry(p, manifest, manifest_len);
	if (rc == FOLIO_OK)
		rc = tar_memory_entry(p, FOLIO_SIGNATURE_PATH, sig, sig_len, keys == NULL && !info);
	if (rc == FOLIO_OK && keys != NULL) {
		size_t len;
		const char *data = folio_keylist_json(keys, &len);
		rc = tar_memory_entry(p, FOLIO_KEYS_PATH, data, len, false);
		data = folio_keylist_sig(keys, &len);
		if (rc == FOLIO_OK)
			rc = tar_memory_entry(p, FOLIO_KEYS_SIGNATURE_PATH, data, len, !info);
	}
	if (rc == FOLIO_OK && info)
		rc = tar_memory_entry(p, FOLIO_BUNDLE_INFO_PATH, out->info, out->info_len, true);
	p->in_head = false;

	/* One entry per content with a file in the bundle's layer, named by
	 * the first such file: in manifest order, as a reader expects them. */
	bool *carried = calloc(m->nfiles + 1, sizeof(*carried));
	if (rc == FOLIO_OK && carried == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", p->out_name);
	for (size_t i = 0; i < m->nfiles && rc == FOLIO_OK; i++) {
		const struct folio_file *f = &m->files[i];
		if (out->layer != NULL && strcmp(f->layer, out->layer) != 0)
			continue;
		bool first = !carried[f->same_as];
		carried[f->same_as] = true;
		bool stored = false, patched = false;
		if (first && p->base != NULL && base_has_content(p->base, f)) {
			out->st.in_base++;
		} else if (first) {
			rc = folio_frames_kind(p->fw, frame_kind(f));
			if (rc == FOLIO_OK)
				rc = p->base != NULL ? tar_content_entry(p, dirs, f, &patched)
					     : tar_file_entry(p, dirs, f);
			stored = true;
			if (patched)
				out->st.patches++;
			else
				out->st.whole++;
		}
		if (rc == FOLIO_OK && p->o->on_file != NULL)
			p->o->on_file(p->o->on_file_arg, f->path, f->size, stored);
		if (rc == FOLIO_OK)
			folio_progress_add(ctx, 1, f->size);
	}
	free(carried);
	if (rc == FOLIO_OK && archive_write_close(p->tar) != ARCHIVE_OK)
		rc = tar_fail(p, "end of archive");
	if (rc == FOLIO_OK)
		rc = folio_frames_finish(p->fw);
	if (rc == FOLIO_OK)
		out->st.bytes = folio_frames_written(p->fw);
	return rc;
}

/* ---- the whole job -------------------------------------------------------- */

static int check_options(folio_ctx *ctx, const struct folio_pack_options *o)
{
	if (o->channel == NULL || !folio_channel_valid(o->channel))
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "channel '%s' is not [a-z0-9][a-z0-9._-]{0,63}",
				  o->channel ? o->channel : "");
	if (o->level < 1 || o->level > ZSTD_maxCLevel())
		return folio_fail(ctx, FOLIO_EUSAGE, "level %d is not between 1 and %d",
				  o->level, ZSTD_maxCLevel());
	if (o->optimize_images && (o->verbatim || o->keep_image_metadata))
		return folio_fail(ctx, FOLIO_EUSAGE, "optimising images changes them: not with %s",
				  o->verbatim ? "verbatim" : "keeping their metadata");
	if (o->title != NULL) {
		if (strlen(o->title) > FOLIO_TITLE_MAX)
			return folio_fail(ctx, FOLIO_EUSAGE, "title longer than %d bytes", FOLIO_TITLE_MAX);
		if (!folio_utf8_valid(o->title))
			return folio_fail(ctx, FOLIO_EUSAGE, "title is not valid UTF-8");
		for (const unsigned char *s = (const unsigned char *)o->title; *s; s++)
			if (*s < 0x20 || *s == 0x7f)
				return folio_fail(ctx, FOLIO_EUSAGE, "title has a control character");
	}
	return FOLIO_OK;
}

/* The key list o->keys, read and checked against what is being signed:
 * the list must be for the channel, name the key and allow it the
 * edition.  Its signature is parsed, not verified: that takes the root's
 * public key, which the reader has. */
static int load_keys(folio_ctx *ctx, const struct folio_pack_options *o, const folio_seckey *key,
		     struct folio_keylist **out)
{
	*out = NULL;
	if (o->keys == NULL)
		return FOLIO_OK;
	struct folio_keylist *kl;
	int rc = folio_keylist_load(ctx, o->keys, NULL, &kl);
	if (rc != FOLIO_OK)
		return rc;
	const char *channel = folio_keylist_channel(kl);
	uint64_t first, last;
	bool revoked;
	if (strcmp(channel, o->channel) != 0) {
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot pack with key list '%s': it is for channel '%s', not '%s'",
				o->keys, channel, o->channel);
	} else if (folio_keylist_find(kl, key->id, &first, &last, &revoked) == NULL) {
		rc = folio_fail(ctx, FOLIO_EUSAGE,
				"cannot pack with key list '%s': it does not name key %s (add it with folio-pack delegate)",
				o->keys, key->id);
	} else if (o->edition < first || o->edition > last) {
		if (revoked)
			rc = folio_fail(ctx, FOLIO_EUSAGE,
					"cannot pack with key list '%s': key %s is revoked (version %llu) and may not sign edition %llu",
					o->keys, key->id, (unsigned long long)folio_keylist_version(kl),
					(unsigned long long)o->edition);
		else if (last < first)
			rc = folio_fail(ctx, FOLIO_EUSAGE,
					"cannot pack with key list '%s': key %s may sign no edition",
					o->keys, key->id);
		else
			rc = folio_fail(ctx, FOLIO_EUSAGE,
					"cannot pack with key list '%s': edition %llu is outside the editions key %s may sign (%llu to %llu)",
					o->keys, (unsigned long long)o->edition, key->id,
					(unsigned long long)first, (unsigned long long)last);
	}
	if (rc != FOLIO_OK) {
		folio_keylist_free(kl);
		return rc;
	}
	*out = kl;
	return FOLIO_OK;
}

static int64_t creation_time(folio_ctx *ctx, const struct folio_pack_options *o, int *rc)
{
	*rc = FOLIO_OK;
	if (o->created >= 0)
		return o->created;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde != NULL && *sde != '\0') {
		char *end;
		errno = 0;
		long long t = strtoll(sde, &end, 10);
		if (errno != 0 || *end != '\0' || t < 0) {
			*rc = folio_fail(ctx, FOLIO_EUSAGE, "SOURCE_DATE_EPOCH '%s' is not a time", sde);
			return 0;
		}
		return t;
	}
	return (int64_t)time(NULL);
}

/* The manifest's head, and the source files with their types. */
static int start_manifest(folio_ctx *ctx, const char *src, const struct folio_pack_options *o,
			  struct walk *w, struct folio_manifest *m)
{
	m->files = w->files;
	m->nfiles = w->nfiles;
	w->files = NULL;
	w->nfiles = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		struct folio_file *f = &m->files[i];
		const char *type = folio_media_type(f->path);
		f->type = strdup(type);
		f->layer = strdup(folio_layer_for_type(type));
		if (f->type == NULL || f->layer == NULL)
			return folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
	}
	m->channel = strdup(o->channel);
	m->title = strdup(o->title != NULL ? o->title : o->channel);
	if (m->channel == NULL || m->title == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
	m->created = o->created;
	m->expires = o->expires;
	m->edition = o->edition;
	return FOLIO_OK;
}

/* Puts the edition's files in bundle order and hashes them. */
static int hash_files(folio_ctx *ctx, const char *src, const int dirs[2],
		      struct folio_manifest *m, uint8_t *buf)
{
	if (m->nfiles > 1)
		qsort(m->files, m->nfiles, sizeof(*m->files), compare_files);
	int rc = FOLIO_OK;
	for (size_t i = 0; i < m->nfiles && rc == FOLIO_OK; i++) {
		struct folio_file *f = &m->files[i];
		rc = read_file(ctx, src, dirs, f, buf, f->hash, NULL, NULL);
		folio_hex(f->hex, f->hash, FOLIO_HASH_BYTES);
		folio_progress_add(ctx, 1, f->size);
	}
	if (rc == FOLIO_OK)
		folio_manifest_link_duplicates(m);
	return rc;
}

/* Summaries are most of an article entry.  When they would make the
 * manifest larger than a reader takes, the manifest goes without them (the
 * edition page, already made, keeps them) rather than the pack failing. */
static int drop_summaries(folio_ctx *ctx, const struct folio_pack_options *o,
			  struct folio_manifest *m, char **manifest, size_t *len,
			  struct folio_pack_stats *st)
{
	size_t dropped = 0;
	for (size_t i = 0; i < m->narticles; i++) {
		dropped += m->articles[i].summary != NULL;
		free(m->articles[i].summary);
		m->articles[i].summary = NULL;
	}
	if (dropped == 0)
		return FOLIO_OK;
	size_t before = *len;
	free(*manifest);
	*manifest = NULL;
	int rc = folio_manifest_encode(ctx, m, manifest, len);
	if (rc == FOLIO_OK && o->on_warning != NULL) {
		char msg[300];
		snprintf(msg, sizeof(msg),
			 "the manifest leaves out the summaries of %zu articles: with them it would be %zu bytes, more than the limit of %llu",
			 dropped, before, (unsigned long long)ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE]);
		st->warnings++;
		o->on_warning(o->on_warning_arg, msg);
	}
	return rc;
}

/* ---- the output file ------------------------------------------------------- */

/* Whether name is "BASE.tmp-XXXXXX", a temporary name of output BASE. */
static bool is_temp_of(const char *name, const char *base)
{
	size_t n = strlen(base);
	return strncmp(name, base, n) == 0 && strncmp(name + n, ".tmp-", 5) == 0 &&
	       strlen(name + n + 5) == 6;
}

/* Temporary files left beside out by packs that were killed: named like ours
 * and not locked by a live process (flock dies with its holder). */
static void remove_stale_temps(const char *out)
{
	char *copy = strdup(out);
	if (copy == NULL)
		return;
	char *slash = strrchr(copy, '/');
	const char *base = slash != NULL ? slash + 1 : copy;
	if (slash != NULL)
		*slash = '\0';
	int dirfd = open(slash == NULL ? "." : slash == copy ? "/" : copy,
			 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dirfd >= 0 ? fdopendir(dirfd) : NULL;
	if (dir == NULL) {
		if (dirfd >= 0)
			close(dirfd);
		free(copy);
		return;
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (!is_temp_of(de->d_name, base))
			continue;
		int fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd, de->d_name, 0);
		close(fd);
	}
	closedir(dir);
	free(copy);
}

/* A new temporary file "OUT.tmp-XXXXXX" (name in tmp), locked while this
 * process lives so that no other run takes it for stale; -1 and errno. */
static int make_temp(char *tmp, size_t size, const char *out)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(tmp, size, "%s.tmp-XXXXXX", out);
		int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -1;
		struct stat st;
		/* Another run may have removed it between mkostemp and flock. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0) {
			fchmod(fd, 0644);
			return fd;
		}
		close(fd);
	}
	errno = EEXIST;
	return -1;
}

/* The bundles to write: out, or out.LAYER.folio for each layer asked for. */
static int plan_outputs(folio_ctx *ctx, const struct folio_pack_options *o, const char *out,
			struct output outs[2], size_t *n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} layers[] = {{FOLIO_LAYER_TEXT, "text"}, {FOLIO_LAYER_MEDIA, "media"}};
	*n = 0;
	if ((o->layers & ~(unsigned)(FOLIO_LAYER_TEXT | FOLIO_LAYER_MEDIA)) != 0)
		return folio_fail(ctx, FOLIO_EUSAGE, "layers %#x: only text and media exist", o->layers);
	if (o->layers == 0) {
		outs[0] = (struct output){.fd = -1, .name = strdup(out)};
		if (outs[0].name == NULL)
			return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out);
		*n = 1;
		return FOLIO_OK;
	}
	if (strcmp(out, "-") == 0)
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "cannot write layers to standard output: they go to PREFIX.LAYER.folio files");
	for (size_t i = 0; i < 2; i++) {
		if ((o->layers & layers[i].bit) == 0)
			continue;
		size_t size = strlen(out) + strlen(layers[i].name) + sizeof("..folio");
		struct output *w = &outs[(*n)++];
		*w = (struct output){.fd = -1, .layer = layers[i].name, .name = malloc(size)};
		if (w->name == NULL)
			return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out);
		snprintf(w->name, size, "%s.%s.folio", out, layers[i].name);
		w->st.layer = layers[i].name;
	}
	return FOLIO_OK;
}

/* Renames every temporary file to its name, or, when one cannot be, removes
 * those already renamed: all the bundles appear, or none. */
static int commit_outputs(folio_ctx *ctx, const struct folio_pack_options *o, struct output *outs,
			  size_t n)
{
	int rc = FOLIO_OK;
	for (size_t i = 0; i < n && rc == FOLIO_OK; i++) {
		struct output *w = &outs[i];
		int r = o->force ? rename(w->tmp, w->name)
				 : renameat2(AT_FDCWD, w->tmp, AT_FDCWD, w->name, RENAME_NOREPLACE);
		if (r != 0)
			rc = errno == EEXIST
				? folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': it exists (use --force to replace it)", w->name)
				: folio_fail_errno(ctx, errno, "cannot write '%s'", w->name);
		else
			w->renamed = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!outs[i].renamed)
			continue;
		if (rc != FOLIO_OK) {
			unlink(outs[i].name);
			outs[i].renamed = false;
		}
		folio_sync_parent(outs[i].name); /* the new name survives a power cut too */
	}
	return rc;
}

static int pack(folio_ctx *ctx, const char *src, const folio_seckey *key,
		const struct folio_pack_options *opts, const char *out,
		struct folio_pack_stats *stats)
{
	folio_clear_error(ctx);
	struct folio_pack_options o = *opts;
	int rc = check_options(ctx, &o);
	if (rc != FOLIO_OK)
		return rc;
	o.created = creation_time(ctx, &o, &rc);
	if (rc != FOLIO_OK)
		return rc;
	if (o.expires == 0)
		o.expires = o.created + (int64_t)(o.valid_days ? o.valid_days : 30) * 86400;
	if (o.expires <= o.created)
		return folio_fail(ctx, FOLIO_EUSAGE, "expiry is not after the creation time");
	if (o.edition == 0)
		o.edition = o.created > 0 ? (uint64_t)o.created : 1;

	struct output outs[2] = {{.fd = -1}, {.fd = -1}};
	size_t nouts = 0;
	struct folio_keylist *keys = NULL;
	struct base base = {.dirfd = -1, .work = {.fd = -1}};
	bool have_base = false;
	struct walk w = {.ctx = ctx, .src = src};
	struct folio_manifest m = {0};
	struct folio_work work = {.fd = -1};
	struct folio_pack_stats st = {0};
	struct packer p = {.ctx = ctx, .src = src, .o = &o,
			   .frame_size = o.frame_size ? o.frame_size : FOLIO_FRAME_TARGET};
	char *manifest = NULL, *sig = NULL, *comment = NULL;
	size_t manifest_len = 0, sig_len = 0;
	int rootfd = -1;
	bool to_stdout = strcmp(out, "-") == 0;

	rc = plan_outputs(ctx, &o, out, outs, &nouts);
	/* A folder cannot be replaced, --force or not: refused before anything
	 * is written, not after another output was renamed over an old file
	 * (the renames are all or nothing, but the old file is gone then). */
	struct stat ost;
	for (size_t i = 0; i < nouts && rc == FOLIO_OK; i++)
		if (!to_stdout && stat(outs[i].name, &ost) == 0 && S_ISDIR(ost.st_mode))
			rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': it is a folder", outs[i].name);
	for (size_t i = 0; i < nouts && rc == FOLIO_OK; i++)
		if (!to_stdout && !o.force && access(outs[i].name, F_OK) == 0)
			rc = folio_fail(ctx, FOLIO_EUSAGE,
					"cannot write '%s': it exists (use --force to replace it)", outs[i].name);
	if (rc == FOLIO_OK && to_stdout && isatty(STDOUT_FILENO))
		rc = folio_fail(ctx, FOLIO_EUSAGE, "refusing to write a bundle to a terminal");
	if (rc == FOLIO_OK)
		rc = load_keys(ctx, &o, key, &keys);
	if (rc == FOLIO_OK && o.base != NULL) {
		have_base = true;
		rc = load_base(ctx, &o, key, &base);
		p.base = &base;
	}
	if (rc != FOLIO_OK)
		goto out;

	rootfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		rc = folio_fail_errno(ctx, errno, "cannot open '%s'", src);
		goto out;
	}
	p.buf = malloc(IO_CHUNK);
	if (p.buf == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
		goto out;
	}
	int dupfd = dup(rootfd);
	rc = dupfd < 0 ? folio_fail_errno(ctx, errno, "cannot read '%s'", src) : walk_dir(&w, dupfd, "");
	if (rc == FOLIO_OK)
		rc = check_tree(ctx, src, w.files, w.nfiles);
	if (rc == FOLIO_OK)
		rc = start_manifest(ctx, src, &o, &w, &m);
	if (rc == FOLIO_OK)
		rc = folio_edition_prepare(ctx, src, rootfd, &o, &m, &work, &st);
	/* what was added must fit the same limits and names */
	if (rc == FOLIO_OK && !o.verbatim)
		rc = check_tree(ctx, src, m.files, m.nfiles);
	int dirs[2] = {rootfd, work.fd};
	uint64_t nfiles = 0, nbytes = 0;
	folio_manifest_count(&m, NULL, &nfiles, &nbytes);
	if (rc == FOLIO_OK)
		folio_progress_start(ctx, FOLIO_PHASE_HASHING, nfiles, nbytes);
	if (rc == FOLIO_OK)
		rc = hash_files(ctx, src, dirs, &m, p.buf);
	if (rc == FOLIO_OK)
		rc = folio_manifest_encode(ctx, &m, &manifest, &manifest_len);
	if (rc == FOLIO_OK && manifest_len > ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE])
		rc = drop_summaries(ctx, &o, &m, &manifest, &manifest_len, &st);
	if (rc == FOLIO_OK && manifest_len > ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE])
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot pack '%s': the manifest (%zu bytes) is larger than the limit of %llu",
				src, manifest_len, (unsigned long long)ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE]);
	if (rc == FOLIO_OK && (comment = folio_trusted_comment(&m)) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot pack '%s'", src);
	if (rc == FOLIO_OK)
		rc = folio_sig_create(ctx, key, manifest, manifest_len, comment, &sig, &sig_len);

	nfiles = nbytes = 0;
	for (size_t i = 0; i < nouts; i++)
		folio_manifest_count(&m, outs[i].layer, &nfiles, &nbytes);
	if (rc == FOLIO_OK)
		folio_progress_start(ctx, FOLIO_PHASE_COMPRESSING, nfiles, nbytes);
	/* The same signed head in each bundle; each is written to a temporary
	 * file, and all are renamed once all are written. */
	for (size_t i = 0; i < nouts && rc == FOLIO_OK; i++) {
		struct output *wo = &outs[i];
		rc = bundle_info(ctx, have_base ? &base : NULL, wo);
		if (rc != FOLIO_OK)
			break;
		if (to_stdout) {
			wo->fd = STDOUT_FILENO;
		} else {
			size_t size = strlen(wo->name) + 16;
			if ((wo->tmp = malloc(size)) == NULL) {
				rc = folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", wo->name);
				break;
			}
			remove_stale_temps(wo->name);
			wo->fd = make_temp(wo->tmp, size, wo->name);
			if (wo->fd < 0) {
				rc = folio_fail_errno(ctx, errno, "cannot write '%s'", wo->name);
				free(wo->tmp);
				wo->tmp = NULL;
				break;
			}
		}
		rc = write_bundle(&p, dirs, &m, manifest, manifest_len, sig, sig_len, keys, wo);
		packer_reset(&p);
		if (rc == FOLIO_OK && !to_stdout && fsync(wo->fd) != 0)
			rc = folio_fail_errno(ctx, errno, "cannot write '%s'", wo->name);
	}
	if (rc == FOLIO_OK && !to_stdout)
		rc = commit_outputs(ctx, &o, outs, nouts);
	/* closed (and unlocked) only now: a temporary file is never unlocked
	 * while it still has its temporary name */
	for (size_t i = 0; i < nouts; i++) {
		struct output *wo = &outs[i];
		if (wo->tmp == NULL || wo->fd < 0)
			continue;
		if (rc != FOLIO_OK && !wo->renamed)
			unlink(wo->tmp);
		if (close(wo->fd) != 0 && rc == FOLIO_OK)
			rc = folio_fail_errno(ctx, errno, "cannot write '%s'", wo->name);
		wo->fd = -1;
	}
	if (rc == FOLIO_OK && stats != NULL) {
		*stats = st;
		stats->files = m.nfiles;
		for (size_t i = 0; i < m.nfiles; i++) {
			stats->input_bytes += m.files[i].size;
			stats->stored += m.files[i].same_as == i;
		}
		stats->nbundles = nouts;
		for (size_t i = 0; i < nouts; i++) {
			stats->bundles[i] = outs[i].st;
			stats->output_bytes += outs[i].st.bytes;
		}
		stats->edition = m.edition;
	}
out:
	for (size_t i = 0; i < nouts; i++) {
		free(outs[i].name);
		free(outs[i].tmp);
		free(outs[i].info);
	}
	packer_reset(&p);
	ZSTD_freeCCtx(p.pcctx);
	free(p.buf);
	free(manifest);
	free(sig);
	free(comment);
	for (size_t i = 0; i < w.nfiles; i++)
		free(w.files[i].path);
	free(w.files);
	folio_manifest_release(&m);
	folio_work_remove(&work);
	folio_keylist_free(keys);
	if (have_base)
		base_release(&base);
	if (rootfd >= 0)
		close(rootfd);
	return rc;
}

int folio_pack(folio_ctx *ctx, const char *src, const folio_seckey *key,
	       const struct folio_pack_options *opts, const char *out,
	       struct folio_pack_stats *stats)
{
	locale_t previous = folio_utf8_begin(ctx);
	int rc = pack(ctx, src, key, opts, out, stats);
	folio_utf8_end(previous);
	return rc;
}
