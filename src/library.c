/* SPDX-License-Identifier: ISC */
/* The reader's library (docs/FORMAT.md section 16): editions of trusted
 * channels kept side by side as DIR/CHANNEL/EDITION/, identical files shared
 * through content-addressed hard links, the trust and the floors in one
 * small state file, all changes made under one lock so that two runs cannot
 * corrupt it, and in an order that a kill at any moment leaves readable. */
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

#include <jansson.h>
#include <sodium.h>

#include "folio-internal.h"

#define META_DIR ".folio-library"
#define STATE_NAME "state.json"
#define LOCK_NAME "lock"
#define OBJECTS_DIR "objects"
#define PAGE_NAME "index.html"
#define STATE_FORMAT "folio-library-1"
#define STATE_MAX (16u << 20)
#define DEFAULT_MARGIN 86400

struct root {
	char channel[FOLIO_CHANNEL_MAX + 1];
	folio_pubkey *key;
	bool trusted;
};

struct folio_library {
	folio_ctx *ctx;
	folio_ctx *quiet;   /* for reading what may be damaged: not an error */
	char *dir;
	int dirfd, metafd, lockfd;
	bool write;
	json_t *state;      /* NULL when it does not parse */
	char state_problem[600];
	struct root *roots;
	size_t nroots;
	char unknown_key[17]; /* install: the key lookup did not find */
};

/* One edition folder, as a scan finds it. */
struct edition {
	char channel[FOLIO_CHANNEL_MAX + 1];
	uint64_t number;
	bool parsed;              /* m holds its manifest */
	struct folio_manifest m;
	uint64_t bytes;           /* of its files, per the manifest */
	char problem[700];        /* the first thing incomplete, "" if none */
	bool has_index;
	bool evicted;
	char signer[17];          /* the key that signed its manifest, "" if unknown */
	size_t missing;           /* files its .folio/missing lists (not a problem) */
};

struct scan {
	struct edition *e;
	size_t n;
};

/* ---- small helpers ----------------------------------------------------------- */

static bool is_edition_name(const char *n, uint64_t *number)
{
	if (n[0] < '1' || n[0] > '9' || strlen(n) > 19 || strspn(n, "0123456789") != strlen(n))
		return false;
	*number = strtoull(n, NULL, 10);
	return true;
}

/* ".NAME" + tag + 8 hex digits, e.g. ".7.removing-0a1b2c3d" */
static bool has_random_tail(const char *n, const char *tag)
{
	const char *p = strstr(n, tag);
	if (p == NULL)
		return false;
	p += strlen(tag);
	return strlen(p) == 8 && strspn(p, "0123456789abcdef") == 8;
}

static bool is_staging_name(const char *n)
{
	return n[0] == '.' && has_random_tail(n, ".folio-");
}

static bool is_removing_name(const char *n)
{
	return n[0] == '.' && has_random_tail(n, ".removing-");
}

static bool is_temp_name(const char *n)
{
	return has_random_tail(n, ".tmp-");
}

/* The names in dirfd (without . and ..), malloc'd, sorted; NULL when the
 * folder cannot be read (errno set). */
static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_dir(int dirfd, const char *name, size_t *count)
{
	*count = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return NULL;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool oom = false;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **p = realloc(names, ncap * sizeof(*p));
			if (p == NULL) {
				oom = true;
				break;
			}
			names = p;
			cap = ncap;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			oom = true;
			break;
		}
		n++;
	}
	closedir(dir);
	if (oom) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		errno = ENOMEM;
		return NULL;
	}
	if (names == NULL) /* empty: still not NULL */
		names = malloc(sizeof(*names));
	if (names != NULL && n > 0)
		qsort(names, n, sizeof(*names), compare_names);
	*count = n;
	return names;
}

static void free_names(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}


/* Writes name in dirfd whole or not at all: a temporary file NAME.tmp-XXXXXXXX
 * beside it, fsync, rename, fsync of the folder.  what names the file in
 * messages. */
static int write_atomic(folio_library *lib, int dirfd, const char *name, const char *data,
			size_t len, const char *what)
{
	char tmp[300];
	int fd = -1;
	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		snprintf(tmp, sizeof(tmp), "%s.tmp-%08x", name, randombytes_random());
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return folio_fail_errno(lib->ctx, errno, "cannot write '%s'", what);
	}
	if (fd < 0)
		return folio_fail(lib->ctx, FOLIO_ESYSTEM, "cannot write '%s': no temporary name free", what);
	if (folio_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int err = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return folio_fail_errno(lib->ctx, err, "cannot write '%s'", what);
	}
	if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		int err = errno;
		unlinkat(dirfd, tmp, 0);
		return folio_fail_errno(lib->ctx, err, "cannot write '%s'", what);
	}
	if (fsync(dirfd) != 0 && errno != EINVAL)
		return folio_fail_errno(lib->ctx, errno, "cannot write '%s'", what);
	return FOLIO_OK;
}

/* ---- the state file ---------------------------------------------------------- */

static void free_roots(folio_library *lib)
{
	for (size_t i = 0; i < lib->nroots; i++)
		folio_pubkey_free(lib->roots[i].key);
	free(lib->roots);
	lib->roots = NULL;
	lib->nroots = 0;
}

static bool json_uint(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* A public key from its base64 line (line 2 of a minisign .pub file). */
static int key_from_line(folio_ctx *ctx, const char *name, const char *line, folio_pubkey **out)
{
	char *text = NULL;
	if (asprintf(&text, "untrusted comment: folio library\n%s\n", line) < 0)
		return folio_fail_errno(ctx, ENOMEM, "cannot read '%s'", name);
	int rc = folio_pubkey_parse(ctx, name, text, strlen(text), out);
	free(text);
	return rc;
}

/* Checks the parsed state and loads the pinned roots; false (problem set)
 * when it is not a state this version understands. */
static bool state_valid(folio_library *lib, json_t *st)
{
	const char *fmt = json_string_value(json_object_get(st, "format"));
	json_t *channels = json_object_get(st, "channels");
	if (!json_is_object(st) || fmt == NULL || strcmp(fmt, STATE_FORMAT) != 0 ||
	    !json_is_object(channels)) {
		snprintf(lib->state_problem, sizeof(lib->state_problem),
			 "it is not a " STATE_FORMAT " state (format or channels missing)");
		return false;
	}
	const char *name;
	json_t *c;
	size_t n = json_object_size(channels);
	lib->roots = calloc(n ? n : 1, sizeof(*lib->roots));
	if (lib->roots == NULL) {
		snprintf(lib->state_problem, sizeof(lib->state_problem), "out of memory");
		return false;
	}
	json_object_foreach(channels, name, c) {
		const char *root = json_string_value(json_object_get(c, "root"));
		const char *root_id = json_string_value(json_object_get(c, "root_id"));
		json_t *trusted = json_object_get(c, "trusted");
		folio_pubkey *key = NULL;
		if (!folio_channel_valid(name) || !json_is_object(c) || root == NULL || root_id == NULL ||
		    !json_uint(json_object_get(c, "edition")) || !json_is_integer(json_object_get(c, "created")) ||
		    !json_is_object(json_object_get(c, "signers")) ||
		    (trusted != NULL && !json_is_boolean(trusted)) ||
		    key_from_line(lib->quiet, "state", root, &key) != FOLIO_OK ||
		    strcmp(key->id, root_id) != 0) {
			folio_pubkey_free(key);
			snprintf(lib->state_problem, sizeof(lib->state_problem),
				 "channel '%s' is malformed", name);
			return false;
		}
		struct root *r = &lib->roots[lib->nroots++];
		snprintf(r->channel, sizeof(r->channel), "%s", name);
		r->key = key;
		r->trusted = trusted == NULL || json_is_true(trusted);
	}
	return true;
}

static void load_state(folio_library *lib)
{
	json_decref(lib->state);
	lib->state = NULL;
	free_roots(lib);
	lib->state_problem[0] = '\0';
	int fd = openat(lib->metafd, STATE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		lib->state = json_pack("{s:s,s:{}}", "format", STATE_FORMAT, "channels");
		if (lib->state == NULL)
			snprintf(lib->state_problem, sizeof(lib->state_problem), "out of memory");
		return;
	}
	if (fd < 0) {
		snprintf(lib->state_problem, sizeof(lib->state_problem), "%s", strerror(errno));
		return;
	}
	json_error_t err;
	FILE *f = fdopen(fd, "r");
	json_t *st = f ? json_loadf(f, JSON_REJECT_DUPLICATES, &err) : NULL;
	if (f != NULL)
		fclose(f);
	else
		close(fd);
	if (st == NULL) {
		snprintf(lib->state_problem, sizeof(lib->state_problem), "%s (line %d)",
			 f ? err.text : strerror(errno), err.line);
		return;
	}
	if (!state_valid(lib, st)) {
		json_decref(st);
		free_roots(lib);
		return;
	}
	lib->state = st;
}

static int save_state(folio_library *lib)
{
	char *withlf;
	size_t len;
	int rc = folio_json_line(lib->ctx, lib->state, "the library's state", &withlf, &len);
	if (rc != FOLIO_OK)
		return rc;
	char what[PATH_MAX];
	snprintf(what, sizeof(what), "%s/" META_DIR "/" STATE_NAME, lib->dir);
	rc = write_atomic(lib, lib->metafd, STATE_NAME, withlf, len, what);
	free(withlf);
	return rc;
}

static int need_state(folio_library *lib)
{
	if (lib->state != NULL)
		return FOLIO_OK;
	return folio_fail(lib->ctx, FOLIO_EREJECT,
			  "cannot use the library '%s': its state file '" META_DIR "/" STATE_NAME
			  "' is damaged (%s); move it away and trust the channels again",
			  lib->dir, lib->state_problem);
}

static json_t *state_channel(folio_library *lib, const char *channel)
{
	return json_object_get(json_object_get(lib->state, "channels"), channel);
}

static int64_t jint(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static const struct root *find_root(const folio_library *lib, const char *channel)
{
	for (size_t i = 0; i < lib->nroots; i++)
		if (strcmp(lib->roots[i].channel, channel) == 0)
			return &lib->roots[i];
	return NULL;
}

/* ---- open and close ------------------------------------------------------------ */

/* flock(fd, op), saying once (*told) that the library is busy before it waits. */
static int take_lock(folio_library *lib, int fd, int op,
		     void (*waiting)(void *arg, const char *dir), void *arg, bool *told)
{
	if (flock(fd, op | LOCK_NB) == 0)
		return FOLIO_OK;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return folio_fail_errno(lib->ctx, errno, "cannot lock the library '%s'", lib->dir);
	if (!*told && waiting != NULL)
		waiting(arg, lib->dir);
	*told = true;
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return folio_fail_errno(lib->ctx, errno, "cannot lock the library '%s'", lib->dir);
	return FOLIO_OK;
}

int folio_library_open(folio_ctx *ctx, const char *dir, int flags,
		       void (*waiting)(void *arg, const char *dir), void *arg,
		       folio_library **out)
{
	folio_clear_error(ctx);
	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return folio_fail(ctx, FOLIO_EUSAGE, "no library folder given");
	folio_library *lib = calloc(1, sizeof(*lib));
	if (lib == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot open the library '%s'", dir);
	lib->ctx = ctx;
	lib->dirfd = lib->metafd = lib->lockfd = -1;
	lib->write = (flags & FOLIO_LIBRARY_WRITE) != 0;
	lib->quiet = folio_new();
	lib->dir = strdup(dir);
	int rc = FOLIO_OK;
	if (lib->quiet == NULL || lib->dir == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot open the library '%s'", dir);
		goto out;
	}
	memcpy(lib->quiet->limits, ctx->limits, sizeof(ctx->limits));
	bool create = lib->write && (flags & FOLIO_LIBRARY_CREATE) != 0;
	if (create && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = folio_fail_errno(ctx, errno, "cannot make the library '%s'", dir);
		goto out;
	}
	lib->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lib->dirfd < 0) {
		rc = errno == ENOENT && !create
			     ? folio_fail(ctx, FOLIO_EUSAGE,
					  "'%s' is not a folio library (no such folder); "
					  "folio-unpack trust add makes one", dir)
			     : folio_fail_errno(ctx, errno, "cannot open the library '%s'", dir);
		goto out;
	}
	if (create && mkdirat(lib->dirfd, META_DIR, 0755) != 0 && errno != EEXIST) {
		rc = folio_fail_errno(ctx, errno, "cannot make '%s/" META_DIR "'", dir);
		goto out;
	}
	lib->metafd = openat(lib->dirfd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lib->metafd < 0) {
		rc = errno == ENOENT
			     ? folio_fail(ctx, FOLIO_EUSAGE,
					  "'%s' is not a folio library (it has no " META_DIR "/); "
					  "folio-unpack trust add makes one", dir)
			     : folio_fail_errno(ctx, errno, "cannot open '%s/" META_DIR "'", dir);
		goto out;
	}
	if (create && mkdirat(lib->metafd, OBJECTS_DIR, 0755) != 0 && errno != EEXIST) {
		rc = folio_fail_errno(ctx, errno, "cannot make '%s/" META_DIR "/" OBJECTS_DIR "'", dir);
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted as the lock must not hang the open */
	lib->lockfd = openat(lib->metafd, LOCK_NAME,
			     (lib->write ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			     0644);
	if (lib->lockfd < 0 && errno == ENOENT) /* read-only: lock the folder itself */
		lib->lockfd = dup(lib->metafd);
	if (lib->lockfd < 0) {
		rc = folio_fail_errno(ctx, errno, "cannot open '%s/" META_DIR "/" LOCK_NAME "'", dir);
		goto out;
	}
	/* A reader that finds no lock file locks the folder instead (it may not
	 * make one), so a writer takes both, the lock file first: readers hold
	 * one of the two and wait for nothing else, so no order deadlocks. */
	bool told = false;
	rc = take_lock(lib, lib->lockfd, lib->write ? LOCK_EX : LOCK_SH, waiting, arg, &told);
	if (rc == FOLIO_OK && lib->write)
		rc = take_lock(lib, lib->metafd, LOCK_EX, waiting, arg, &told);
	if (rc != FOLIO_OK)
		goto out;
	load_state(lib);
out:
	if (rc != FOLIO_OK) {
		folio_library_close(lib);
		return rc;
	}
	*out = lib;
	return FOLIO_OK;
}

void folio_library_close(folio_library *lib)
{
	if (lib == NULL)
		return;
	if (lib->lockfd >= 0)
		close(lib->lockfd); /* releases the lock */
	if (lib->metafd >= 0)
		close(lib->metafd);
	if (lib->dirfd >= 0)
		close(lib->dirfd);
	json_decref(lib->state);
	free_roots(lib);
	folio_free(lib->quiet);
	free(lib->dir);
	free(lib);
}

static int need_write(folio_library *lib, const char *what)
{
	if (!lib->write)
		return folio_fail(lib->ctx, FOLIO_EUSAGE, "%s needs the library opened for writing", what);
	return need_state(lib);
}

/* ---- scanning the editions ------------------------------------------------------- */

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		folio_manifest_release(&s->e[i].m);
	free(s->e);
	s->e = NULL;
	s->n = 0;
}

static int compare_editions(const void *a, const void *b)
{
	const struct edition *x = a, *y = b;
	int c = strcmp(x->channel, y->channel);
	if (c != 0)
		return c;
	return x->number < y->number ? 1 : x->number > y->number ? -1 : 0; /* newest first */
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths an incomplete edition lacks, from its .folio/missing, sorted
 * (pointers into *blob); 0 and NULL for a complete edition. */
static char **missing_list(folio_library *lib, int edfd, size_t *n, char **blob)
{
	*n = 0;
	*blob = NULL;
	int fd = openat(edfd, FOLIO_MISSING_PATH, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct folio_buf b = {0};
	uint64_t max = lib->quiet->limits[FOLIO_LIMIT_MANIFEST_SIZE];
	for (;;) {
		if (!folio_buf_reserve(&b, 65536))
			break;
		ssize_t r = read(fd, b.p + b.len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || b.len + (size_t)r > max)
			break;
		b.len += (size_t)r;
		b.p[b.len] = '\0';
	}
	close(fd);
	size_t cap = 0;
	for (size_t i = 0; i < b.len; i++)
		cap += b.p[i] == '\n';
	char **list = b.oom ? NULL : malloc((cap + 1) * sizeof(*list));
	if (list == NULL) {
		free(b.p);
		return NULL;
	}
	for (char *p = b.p, *nl; *n < cap && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		list[(*n)++] = p;
	}
	qsort(list, *n, sizeof(*list), compare_paths);
	*blob = b.p;
	return list;
}

static bool listed(char **list, size_t n, const char *path)
{
	return list != NULL && bsearch(&path, list, n, sizeof(*list), compare_paths) != NULL;
}

/* Reads DIR/CHANNEL/EDITION's kept manifest and sees that every file is
 * there with its size, but those its .folio/missing lists.  Problems are
 * recorded on e, not failures. */
static void read_edition(folio_library *lib, struct edition *e, int chanfd, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s/" FOLIO_MANIFEST_PATH, lib->dir, e->channel, name);
	char *json = NULL;
	size_t len;
	if (folio_read_small_file(lib->quiet, path, lib->quiet->limits[FOLIO_LIMIT_MANIFEST_SIZE],
				  &json, &len) != FOLIO_OK ||
	    folio_manifest_decode(lib->quiet, path, json, len, &e->m) != FOLIO_OK) {
		snprintf(e->problem, sizeof(e->problem), "%s", folio_errmsg(lib->quiet));
		free(json);
		return;
	}
	free(json);
	e->parsed = true;
	if (strcmp(e->m.channel, e->channel) != 0 || e->m.edition != e->number) {
		snprintf(e->problem, sizeof(e->problem),
			 "'%s/%s/%s' holds edition %llu of channel '%s', not what its name says",
			 lib->dir, e->channel, name, (unsigned long long)e->m.edition, e->m.channel);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/%s/" FOLIO_SIGNATURE_PATH, lib->dir, e->channel, name);
	char *sigtext = NULL;
	struct folio_sig sig;
	if (folio_read_small_file(lib->quiet, path, FOLIO_SIGNATURE_MAX, &sigtext, &len) == FOLIO_OK &&
	    folio_sig_parse(lib->quiet, path, sigtext, len, &sig) == FOLIO_OK)
		folio_keyid_format(e->signer, sig.keyid);
	free(sigtext);
	int fd = openat(chanfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (fstatat(fd, FOLIO_SIGNATURE_PATH, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		snprintf(e->problem, sizeof(e->problem), "'%s/%s/%s/" FOLIO_SIGNATURE_PATH "' is missing",
			 lib->dir, e->channel, name);
	e->has_index = fstatat(fd, "index.html", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
	size_t nmissing;
	char *blob;
	char **missing = missing_list(lib, fd, &nmissing, &blob);
	for (size_t i = 0; i < e->m.nfiles; i++) {
		const struct folio_file *f = &e->m.files[i];
		e->bytes += f->size;
		if (e->problem[0] != '\0')
			continue;
		bool absent = fstatat(fd, f->path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode);
		if (absent && listed(missing, nmissing, f->path))
			e->missing++;
		else if (absent)
			snprintf(e->problem, sizeof(e->problem), "'%s/%s/%s/%s' is missing",
				 lib->dir, e->channel, name, f->path);
		else if ((uint64_t)st.st_size != f->size)
			snprintf(e->problem, sizeof(e->problem),
				 "'%s/%s/%s/%s' has %llu bytes, not the %llu its manifest says",
				 lib->dir, e->channel, name, f->path, (unsigned long long)st.st_size,
				 (unsigned long long)f->size);
	}
	free(missing);
	free(blob);
	close(fd);
}

/* Every edition folder of every channel folder, newest first per channel.
 * deep: read each manifest and look at every file (else only names). */
static int scan_library(folio_library *lib, struct scan *s, bool deep)
{
	s->e = NULL;
	s->n = 0;
	size_t nch;
	char **chans = list_dir(lib->dirfd, ".", &nch);
	if (chans == NULL)
		return folio_fail_errno(lib->ctx, errno, "cannot read the library '%s'", lib->dir);
	size_t cap = 0;
	int rc = FOLIO_OK;
	for (size_t i = 0; i < nch && rc == FOLIO_OK; i++) {
		struct stat st;
		if (!folio_channel_valid(chans[i]) || fstatat(lib->dirfd, chans[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		int chanfd = openat(lib->dirfd, chans[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		size_t ned;
		char **eds = chanfd >= 0 ? list_dir(chanfd, ".", &ned) : NULL;
		if (eds == NULL) {
			rc = folio_fail_errno(lib->ctx, errno, "cannot read '%s/%s'", lib->dir, chans[i]);
			if (chanfd >= 0)
				close(chanfd);
			break;
		}
		for (size_t j = 0; j < ned; j++) {
			uint64_t number;
			if (!is_edition_name(eds[j], &number) ||
			    fstatat(chanfd, eds[j], &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
				continue;
			if (s->n == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct edition *p = realloc(s->e, ncap * sizeof(*p));
				if (p == NULL) {
					rc = folio_fail_errno(lib->ctx, ENOMEM, "cannot read the library '%s'", lib->dir);
					break;
				}
				s->e = p;
				cap = ncap;
			}
			struct edition *e = &s->e[s->n++];
			memset(e, 0, sizeof(*e));
			snprintf(e->channel, sizeof(e->channel), "%s", chans[i]);
			e->number = number;
			if (deep)
				read_edition(lib, e, chanfd, eds[j]);
		}
		free_names(eds, ned);
		close(chanfd);
	}
	free_names(chans, nch);
	if (rc != FOLIO_OK) {
		scan_free(s);
		return rc;
	}
	if (s->n > 0)
		qsort(s->e, s->n, sizeof(*s->e), compare_editions);
	return FOLIO_OK;
}

/* The newest edition number present for channel (0: none). */
static uint64_t newest_present(const struct scan *s, const char *channel)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!s->e[i].evicted && strcmp(s->e[i].channel, channel) == 0 && s->e[i].number > n)
			n = s->e[i].number;
	return n;
}

/* max(every channel's created, every installed edition's created). */
static int64_t clock_floor(const folio_library *lib, const struct scan *s)
{
	int64_t floor = 0;
	const char *name;
	json_t *c;
	json_object_foreach(json_object_get(lib->state, "channels"), name, c)
		if (jint(c, "created") > floor)
			floor = jint(c, "created");
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].parsed && s->e[i].m.created > floor)
			floor = s->e[i].m.created;
	return floor;
}

static int64_t effective_now(const folio_library *lib, const struct scan *s, int64_t *clock_out)
{
	int64_t clock = (int64_t)time(NULL), floor = clock_floor(lib, s);
	if (clock_out != NULL)
		*clock_out = clock;
	return clock > floor ? clock : floor;
}

/* ---- disk use and leftovers --------------------------------------------------------- */

struct inode {
	dev_t dev;
	ino_t ino;
	off_t size;
};

struct usage {
	struct inode *in;
	size_t n, cap;
	uint64_t unshared; /* every path outside objects/, links counted each time */
	bool oom;
};

static void usage_add(struct usage *u, const struct stat *st)
{
	if (u->n == u->cap) {
		size_t ncap = u->cap ? 2 * u->cap : 256;
		struct inode *p = realloc(u->in, ncap * sizeof(*p));
		if (p == NULL) {
			u->oom = true;
			return;
		}
		u->in = p;
		u->cap = ncap;
	}
	u->in[u->n++] = (struct inode){st->st_dev, st->st_ino, st->st_size};
}

static void usage_walk(struct usage *u, int dirfd, bool in_objects, int depth)
{
	if (depth > 64)
		return;
	/* a new open file description: a dup would share dirfd's offset, left
	 * at the end, and the next walk of the same folder would see nothing */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		usage_add(u, &st);
		bool objects = in_objects || (depth == 1 && strcmp(de->d_name, OBJECTS_DIR) == 0);
		if (!objects)
			u->unshared += (uint64_t)st.st_size;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				/* depth 0 is DIR; objects/ is at depth 1 below META_DIR */
				bool meta = depth == 0 && strcmp(de->d_name, META_DIR) == 0;
				usage_walk(u, sub, objects, meta ? 1 : depth + 2);
				close(sub);
			}
		}
	}
	closedir(dir);
}

static int compare_inodes(const void *a, const void *b)
{
	const struct inode *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino ? 1 : 0;
}

/* The library's disk use (distinct inodes, as du -b counts) and what it
 * would use with every shared file a copy. */
static int disk_use(folio_library *lib, uint64_t *bytes, uint64_t *unshared)
{
	struct usage u = {0};
	struct stat st;
	if (fstat(lib->dirfd, &st) == 0) {
		usage_add(&u, &st);
		u.unshared += (uint64_t)st.st_size;
	}
	usage_walk(&u, lib->dirfd, false, 0);
	if (u.oom) {
		free(u.in);
		return folio_fail_errno(lib->ctx, ENOMEM, "cannot measure the library '%s'", lib->dir);
	}
	if (u.n > 0)
		qsort(u.in, u.n, sizeof(*u.in), compare_inodes);
	uint64_t sum = 0;
	for (size_t i = 0; i < u.n; i++)
		if (i == 0 || compare_inodes(&u.in[i - 1], &u.in[i]) != 0)
			sum += (uint64_t)u.in[i].size;
	free(u.in);
	*bytes = sum;
	if (unshared != NULL)
		*unshared = u.unshared;
	return FOLIO_OK;
}

static uint64_t tree_bytes(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	uint64_t sum = (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode))
		return sum;
	size_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names = fd >= 0 ? list_dir(fd, ".", &n) : NULL;
	for (size_t i = 0; names != NULL && i < n; i++)
		sum += tree_bytes(fd, names[i]);
	free_names(names, n);
	if (fd >= 0)
		close(fd);
	return sum;
}

struct leftovers {
	uint64_t count, bytes;
};

/* Calls fn on (or counts) what killed runs left: staging and removing
 * folders in channel folders, temporary files, objects no edition links. */
static void visit_leftovers(folio_library *lib, bool remove, struct leftovers *l)
{
	size_t n;
	char **names = list_dir(lib->dirfd, ".", &n);
	for (size_t i = 0; names != NULL && i < n; i++) {
		struct stat st;
		if (is_temp_name(names[i]) && strncmp(names[i], PAGE_NAME ".tmp-", 15) == 0) {
			l->count++;
			l->bytes += tree_bytes(lib->dirfd, names[i]);
			if (remove)
				unlinkat(lib->dirfd, names[i], 0);
			continue;
		}
		if (!folio_channel_valid(names[i]) ||
		    fstatat(lib->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		int chanfd = openat(lib->dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		size_t m;
		char **sub = chanfd >= 0 ? list_dir(chanfd, ".", &m) : NULL;
		for (size_t j = 0; sub != NULL && j < m; j++) {
			if (!is_staging_name(sub[j]) && !is_removing_name(sub[j]))
				continue;
			if (is_staging_name(sub[j])) {
				/* a live unpack's staging is locked (see unpack.c) */
				int sfd = openat(chanfd, sub[j], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				bool live = sfd >= 0 && flock(sfd, LOCK_SH | LOCK_NB) != 0;
				if (sfd >= 0)
					close(sfd);
				if (live)
					continue;
			}
			l->count++;
			l->bytes += tree_bytes(chanfd, sub[j]);
			if (remove)
				folio_remove_tree(chanfd, sub[j]);
		}
		free_names(sub, m);
		if (chanfd >= 0)
			close(chanfd);
	}
	free_names(names, n);
	names = list_dir(lib->metafd, ".", &n);
	for (size_t i = 0; names != NULL && i < n; i++) {
		if (!is_temp_name(names[i]))
			continue;
		/* a live run's temporary file is locked (parts.c: folio_library_temp) */
		int tfd = openat(lib->metafd, names[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		bool live = tfd >= 0 && flock(tfd, LOCK_SH | LOCK_NB) != 0;
		if (tfd >= 0)
			close(tfd);
		if (live)
			continue;
		l->count++;
		l->bytes += tree_bytes(lib->metafd, names[i]);
		if (remove)
			unlinkat(lib->metafd, names[i], 0);
	}
	free_names(names, n);
	/* objects: none linked from an edition any more, or a killed run's temporary name */
	int objfd = openat(lib->metafd, OBJECTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	names = objfd >= 0 ? list_dir(objfd, ".", &n) : NULL;
	for (size_t i = 0; names != NULL && i < n; i++) {
		struct stat st;
		if (fstatat(objfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (st.st_nlink > 1 && !is_temp_name(names[i]) && S_ISREG(st.st_mode))
			continue;
		/* an object counts only once nothing else links it */
		if (st.st_nlink <= 1 || !S_ISREG(st.st_mode)) {
			l->count++;
			l->bytes += S_ISDIR(st.st_mode) ? tree_bytes(objfd, names[i]) : (uint64_t)st.st_size;
		}
		if (remove) {
			if (S_ISDIR(st.st_mode))
				folio_remove_tree(objfd, names[i]);
			else
				unlinkat(objfd, names[i], 0);
		}
	}
	free_names(names, n);
	if (objfd >= 0)
		close(objfd);
}

static void sweep(folio_library *lib)
{
	struct leftovers l = {0};
	visit_leftovers(lib, true, &l);
}

/* ---- the library page ------------------------------------------------------------ */

static const char page_css[] =
	"*{box-sizing:border-box}"
	"body{margin:0 auto;max-width:52rem;padding:0 1rem 2rem;"
	"font:1rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"Noto Naskh Arabic\",\"Noto Sans Arabic\",Tahoma,\"DejaVu Sans\",sans-serif;"
	"color:#1b1b1b;background:#fdfdfb;overflow-wrap:break-word}"
	"a{color:#0b4f9c}"
	"header{padding-block:1.25rem .75rem;border-block-end:2px solid #1b1b1b}"
	"h1{margin:0;font-size:1.9rem;line-height:1.2}"
	"h2{font-size:1.25rem;margin-block:1.6rem .6rem;padding-block-end:.2rem;"
	"border-block-end:1px solid #ccc}"
	"ol{list-style:none;margin:0;padding:0}"
	"li{padding-block:.45rem;border-block-end:1px solid #e3e3e3;text-align:start}"
	".meta{font-size:.85rem;color:#555;margin-inline-start:.4rem}"
	".expired{color:#8a1c1c;font-weight:bold}"
	".none{color:#555}"
	"@media (prefers-color-scheme:dark){"
	"body{color:#e4e4e4;background:#141414}a{color:#8fc1ff}"
	"header{border-color:#e4e4e4}h2{border-color:#444}li{border-color:#2c2c2c}"
	".meta,.none{color:#aaa}.expired{color:#ff9d9d}}";

static int write_page(folio_library *lib, const struct scan *s)
{
	int64_t now = effective_now(lib, s, NULL);
	struct folio_buf b = {0};
	folio_buf_add(&b, "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"script-src 'self' file:; style-src 'unsafe-inline'; "
		"img-src 'self' file: data:; form-action 'self' file:\">\n"
		"<meta name=\"color-scheme\" content=\"light dark\">\n<title>Library</title><style>");
	folio_buf_add(&b, page_css);
	folio_buf_add(&b, "</style></head>\n<body>\n<header><h1>Library</h1></header>\n");
	const char *name;
	json_t *c;
	size_t shown = 0;
	/* the trusted channels, then any folder of a channel the state no longer names */
	json_object_foreach(json_object_get(lib->state, "channels"), name, c) {
		folio_buf_add(&b, "<section>\n<h2 id=\"channel-");
		folio_buf_html(&b, name);
		folio_buf_add(&b, "\">");
		folio_buf_html(&b, name);
		folio_buf_add(&b, "</h2>\n<ol>\n");
		size_t here = 0;
		for (size_t i = 0; i < s->n; i++) {
			const struct edition *e = &s->e[i];
			if (e->evicted || strcmp(e->channel, name) != 0)
				continue;
			here++;
			char num[24], created[32];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)e->number);
			folio_buf_add(&b, " <li><a href=\"");
			folio_buf_html(&b, name);
			folio_buf_addc(&b, '/');
			folio_buf_add(&b, num);
			folio_buf_add(&b, e->has_index ? "/index.html\"" : "/\"");
			folio_buf_add(&b, " dir=\"auto\">");
			folio_buf_html(&b, e->parsed ? e->m.title : name);
			folio_buf_add(&b, "</a> <span class=\"meta\">edition ");
			folio_buf_add(&b, num);
			if (e->parsed) {
				folio_time_format(created, e->m.created);
				created[10] = '\0';
				folio_buf_add(&b, " \xc2\xb7 <time datetime=\"");
				folio_buf_add(&b, created);
				folio_buf_add(&b, "\">");
				folio_buf_add(&b, created);
				folio_buf_add(&b, "</time>");
			}
			folio_buf_add(&b, "</span>");
			if (e->parsed && now >= e->m.expires)
				folio_buf_add(&b, " <span class=\"expired\">expired</span>");
			folio_buf_add(&b, "</li>\n");
		}
		if (here == 0)
			folio_buf_add(&b, " <li class=\"none\">no edition yet</li>\n");
		folio_buf_add(&b, "</ol>\n</section>\n");
		shown++;
	}
	if (shown == 0)
		folio_buf_add(&b, "<p class=\"none\">No channel is trusted yet.</p>\n");
	folio_buf_add(&b, "</body></html>\n");
	if (b.oom) {
		free(b.p);
		return folio_fail_errno(lib->ctx, ENOMEM, "cannot write '%s/" PAGE_NAME "'", lib->dir);
	}
	char what[PATH_MAX];
	snprintf(what, sizeof(what), "%s/" PAGE_NAME, lib->dir);
	int rc = write_atomic(lib, lib->dirfd, PAGE_NAME, b.p, b.len, what);
	free(b.p);
	return rc;
}

static int rewrite_page(folio_library *lib)
{
	struct scan s;
	int rc = scan_library(lib, &s, true);
	if (rc == FOLIO_OK)
		rc = write_page(lib, &s);
	scan_free(&s);
	return rc;
}

/* ---- trust ---------------------------------------------------------------------------- */

int folio_library_trust_add(folio_library *lib, const char *channel, const char *pubkey_path,
			    int force, int *changed)
{
	folio_clear_error(lib->ctx);
	if (changed != NULL)
		*changed = 0;
	int rc = need_write(lib, "trust add");
	if (rc != FOLIO_OK)
		return rc;
	if (channel == NULL || !folio_channel_valid(channel))
		return folio_fail(lib->ctx, FOLIO_EUSAGE,
				  "'%s' is not a channel name (a-z, 0-9, '.', '_', '-'; at most 64)",
				  channel ? channel : "");
	char *text;
	size_t len;
	folio_pubkey *key = NULL;
	rc = folio_read_small_file(lib->ctx, pubkey_path, 4096, &text, &len);
	if (rc != FOLIO_OK)
		return rc;
	rc = folio_pubkey_parse(lib->ctx, pubkey_path, text, len, &key);
	if (rc != FOLIO_OK) {
		free(text);
		return rc;
	}
	/* line 2, the key itself, as the state keeps it */
	char *line = strchr(text, '\n');
	line = line ? line + 1 : text;
	line[strcspn(line, "\r\n")] = '\0';
	json_t *c = state_channel(lib, channel);
	if (c != NULL) {
		const char *old = json_string_value(json_object_get(c, "root_id"));
		bool trusted = !json_is_false(json_object_get(c, "trusted"));
		if (strcmp(old, key->id) == 0 && trusted) {
			free(text);
			folio_pubkey_free(key);
			return FOLIO_OK;
		}
		if (strcmp(old, key->id) != 0 && !force) {
			rc = folio_fail(lib->ctx, FOLIO_EUSAGE,
					"cannot trust '%s' for channel '%s': the channel is pinned to key %s; "
					"if its publisher really replaced its root key, add --force",
					pubkey_path, channel, old);
			free(text);
			folio_pubkey_free(key);
			return rc;
		}
		json_object_set_new(c, "root", json_string(line));
		json_object_set_new(c, "root_id", json_string(key->id));
		json_object_del(c, "trusted");
	} else {
		c = json_pack("{s:s,s:s,s:I,s:I,s:{}}", "root", line, "root_id", key->id,
			      "edition", (json_int_t)0, "created", (json_int_t)0, "signers");
		if (c == NULL || json_object_set_new(json_object_get(lib->state, "channels"), channel, c) != 0)
			rc = folio_fail_errno(lib->ctx, ENOMEM, "cannot trust '%s'", pubkey_path);
	}
	free(text);
	folio_pubkey_free(key);
	if (rc == FOLIO_OK)
		rc = save_state(lib);
	if (rc == FOLIO_OK && changed != NULL)
		*changed = 1;
	if (rc == FOLIO_OK)
		rc = rewrite_page(lib);
	load_state(lib);
	return rc;
}

int folio_library_trust_remove(folio_library *lib, const char *channel)
{
	folio_clear_error(lib->ctx);
	int rc = need_write(lib, "trust remove");
	if (rc != FOLIO_OK)
		return rc;
	json_t *c = channel ? state_channel(lib, channel) : NULL;
	if (c == NULL || json_is_false(json_object_get(c, "trusted")))
		return folio_fail(lib->ctx, FOLIO_EUSAGE, "channel '%s' is not trusted in the library '%s'",
				  channel ? channel : "", lib->dir);
	json_object_set_new(c, "trusted", json_false());
	rc = save_state(lib);
	if (rc == FOLIO_OK)
		rc = rewrite_page(lib);
	load_state(lib);
	return rc;
}

/* ---- install ---------------------------------------------------------------------------- */

struct install {
	folio_library *lib;
	const char *path;   /* the bundle, for messages */
	int objfd;
	bool sharing;       /* hard links work here (so far) */
	bool tried;         /* a link was attempted */
	uint64_t shared;    /* bytes of files linked to an object that was there */
	uint8_t *buf;
	/* objects this run made (a duplicate file of the edition links one of
	 * these: not shared with another edition) */
	ino_t *made;
	size_t nmade, capmade;
};

static bool made_here(const struct install *in, ino_t ino)
{
	if (in->capmade == 0)
		return false;
	for (size_t i = (size_t)ino % in->capmade; in->made[i] != 0; i = (i + 1) % in->capmade)
		if (in->made[i] == ino)
			return true;
	return false;
}

static void remember_made(struct install *in, ino_t ino)
{
	if (ino == 0 || made_here(in, ino))
		return;
	if (2 * (in->nmade + 1) > in->capmade) { /* grow, rehash */
		size_t cap = in->capmade ? 2 * in->capmade : 1024;
		ino_t *t = calloc(cap, sizeof(*t));
		if (t == NULL)
			return; /* only the count of shared bytes suffers */
		for (size_t i = 0; i < in->capmade; i++)
			if (in->made[i] != 0) {
				size_t j = (size_t)in->made[i] % cap;
				while (t[j] != 0)
					j = (j + 1) % cap;
				t[j] = in->made[i];
			}
		free(in->made);
		in->made = t;
		in->capmade = cap;
	}
	size_t j = (size_t)ino % in->capmade;
	while (in->made[j] != 0)
		j = (j + 1) % in->capmade;
	in->made[j] = ino;
	in->nmade++;
}

static const folio_pubkey *lookup(void *arg, const char *key_id)
{
	folio_library *lib = arg;
	const folio_pubkey *found = NULL;
	for (size_t i = 0; i < lib->nroots; i++)
		if (strcmp(lib->roots[i].key->id, key_id) == 0 && (found == NULL || lib->roots[i].trusted))
			found = lib->roots[i].key;
	if (found == NULL)
		snprintf(lib->unknown_key, sizeof(lib->unknown_key), "%s", key_id);
	return found;
}

/* Whether the file name in dirfd has the content hash hex (a shared object
 * is re-hashed before it is linked into a new edition: a copy that rotted
 * is not spread). */
static bool hash_matches(int dirfd, const char *name, const char *hex, uint8_t *buf, size_t bufsize)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, FOLIO_HASH_BYTES);
	bool ok = true;
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ok = false;
		if (n <= 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
	}
	close(fd);
	uint8_t hash[FOLIO_HASH_BYTES];
	char got[2 * FOLIO_HASH_BYTES + 1];
	crypto_generichash_final(&st, hash, sizeof(hash));
	folio_hex(got, hash, sizeof(hash));
	return ok && strcmp(got, hex) == 0;
}

static bool link_unsupported(int err)
{
	return err == EPERM || err == EOPNOTSUPP || err == EXDEV || err == ENOSYS;
}

#define SHARE_BUF (1u << 16)

/* An object whose bytes rotted is rewritten in place from the staged copy
 * (just verified against the signed manifest): every edition that links
 * it is repaired at once.  The only write to an existing object, under the
 * exclusive lock. */
static int repair_object(struct install *in, int stagingfd, const char *path, const char *obj)
{
	int src = openat(stagingfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int dst = openat(in->objfd, obj, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	int rc = src >= 0 && dst >= 0 ? 0 : -1;
	while (rc == 0) {
		ssize_t n = read(src, in->buf, SHARE_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		rc = folio_write_all(dst, in->buf, (size_t)n);
	}
	if (rc == 0 && fsync(dst) != 0)
		rc = -1;
	if (src >= 0)
		close(src);
	if (dst >= 0 && close(dst) != 0)
		rc = -1;
	return rc;
}

/* Before the edition's rename: each file of the manifest in staging is
 * replaced by a link to its object when there is one (linked to a
 * temporary name beside it, renamed over it: a kill leaves only staging
 * garbage), else becomes the object. */
static int share_files(void *arg, folio_bundle *b, int stagingfd)
{
	struct install *in = arg;
	folio_library *lib = in->lib;
	/* opened (made, if it went missing) only now: a bundle refused while it
	 * is read leaves the library as it was */
	in->objfd = openat(lib->metafd, OBJECTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in->objfd < 0 && errno == ENOENT && mkdirat(lib->metafd, OBJECTS_DIR, 0755) == 0)
		in->objfd = openat(lib->metafd, OBJECTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in->objfd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return folio_fail(lib->ctx, FOLIO_EUSAGE,
				  "cannot install '%s': '%s/" META_DIR "/" OBJECTS_DIR "' is not a folder "
				  "(a symbolic link or a file?); the library writes only inside '%s': move it away",
				  in->path, lib->dir, lib->dir);
	if (in->objfd < 0)
		return folio_fail_errno(lib->ctx, errno, "cannot open '%s/" META_DIR "/" OBJECTS_DIR "'",
					lib->dir);
	size_t n = folio_bundle_file_count(b);
	for (size_t i = 0; i < n && in->sharing; i++) {
		const char *path, *hex;
		uint64_t size;
		unsigned mode;
		(void)folio_bundle_file(b, i, &path, &size, NULL, &hex, &mode);
		char obj[128], tmp[PATH_MAX + 64];
		if (strlen(path) >= PATH_MAX)
			continue; /* kept as a copy */
		snprintf(obj, sizeof(obj), "%s%s", hex, mode == 0755 ? ".x" : "");
		struct stat ost, fst;
		if (fstatat(stagingfd, path, &fst, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
		    folio_bundle_missing_count(b) > 0)
			continue; /* not received: listed in .folio/missing */
		if (fstatat(stagingfd, path, &fst, AT_SYMLINK_NOFOLLOW) != 0)
			return folio_fail_errno(lib->ctx, errno, "cannot share '%s'", path);
		bool have = fstatat(in->objfd, obj, &ost, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ost.st_mode);
		if (have && ost.st_dev == fst.st_dev && ost.st_ino == fst.st_ino)
			continue; /* a duplicate in this edition, linked already */
		bool good = have && (uint64_t)ost.st_size == size &&
			    hash_matches(in->objfd, obj, hex, in->buf, SHARE_BUF);
		if (have && !good && repair_object(in, stagingfd, path, obj) == 0)
			good = hash_matches(in->objfd, obj, hex, in->buf, SHARE_BUF);
		if (good) {
			/* the staged copy gives way to the object */
			const char *slash = strrchr(path, '/');
			int dirlen = slash ? (int)(slash - path + 1) : 0;
			snprintf(tmp, sizeof(tmp), "%.*s.folio-link.tmp-%08x", dirlen, path, randombytes_random());
			in->tried = true;
			if (linkat(in->objfd, obj, stagingfd, tmp, 0) != 0) {
				if (link_unsupported(errno)) {
					in->sharing = false;
					continue;
				}
				if (errno == EMLINK) /* this object has all the links it can */
					continue;
				return folio_fail_errno(lib->ctx, errno, "cannot share '%s'", path);
			}
			if (renameat(stagingfd, tmp, stagingfd, path) != 0) {
				int err = errno;
				unlinkat(stagingfd, tmp, 0);
				return folio_fail_errno(lib->ctx, err, "cannot share '%s'", path);
			}
			if (!made_here(in, ost.st_ino))
				in->shared += size;
			continue;
		}
		/* the staged copy becomes the object (replacing one that rotted) */
		snprintf(tmp, sizeof(tmp), "%s.tmp-%08x", obj, randombytes_random());
		in->tried = true;
		if (linkat(stagingfd, path, in->objfd, tmp, 0) != 0) {
			if (link_unsupported(errno)) {
				in->sharing = false;
				continue;
			}
			if (errno == EMLINK)
				continue;
			return folio_fail_errno(lib->ctx, errno, "cannot share '%s'", path);
		}
		if (renameat(in->objfd, tmp, in->objfd, obj) != 0) {
			int err = errno;
			unlinkat(in->objfd, tmp, 0);
			return folio_fail_errno(lib->ctx, err, "cannot share '%s'", path);
		}
		remember_made(in, fst.st_ino);
	}
	return FOLIO_OK;
}

static int prune_locked(folio_library *lib, struct scan *s, uint64_t keep, uint64_t max_size,
			const char *protect_channel, uint64_t protect_edition,
			struct folio_prune_result *result);
static int evict(folio_library *lib, struct scan *s, struct edition *e);

/* ---- key lists (FORMAT.md section 15) ------------------------------------------- */

/* The newest key list the channel accepted (state "keys"), verified again
 * with root; *out NULL when the channel has none. */
static int stored_keylist(folio_library *lib, json_t *c, const folio_pubkey *root,
			  struct folio_keylist **out)
{
	*out = NULL;
	json_t *k = json_object_get(c, "keys");
	if (k == NULL)
		return FOLIO_OK;
	const char *json = json_string_value(json_object_get(k, "json"));
	const char *sig = json_string_value(json_object_get(k, "minisig"));
	char name[PATH_MAX];
	snprintf(name, sizeof(name), "%s/" META_DIR "/" STATE_NAME, lib->dir);
	if (json == NULL || sig == NULL)
		return folio_fail(lib->ctx, FOLIO_EREJECT,
				  "the state file '%s' is damaged: a channel's key list is not readable", name);
	return folio_keylist_parse(lib->ctx, name, json, strlen(json), sig, strlen(sig), root, out);
}

/* Whether kl takes back edition number of a key it lists: the key's range
 * no longer holds it.  (A key the list does not name signs nothing new,
 * but what it signed before stays: only a revocation voids editions.) */
static bool revoked_for(const struct folio_keylist *kl, const char *root_id, const char *signer,
			uint64_t edition)
{
	uint64_t first, last;
	if (kl == NULL || signer[0] == '\0' || strcmp(signer, root_id) == 0 ||
	    folio_keylist_find(kl, signer, &first, &last, NULL) == NULL)
		return false;
	return edition < first || edition > last;
}

/* The channel's rollback floor under kl: each signer's newest accepted
 * edition, cut back to the last edition kl still lets it sign.  A stolen
 * key that pushed the edition number up is undone by the revocation that
 * names it: edition numbers reset only through a signed key list.  With
 * apply, the state's signers are rewritten so. */
static uint64_t floor_under(json_t *c, const struct folio_keylist *kl, const char *root_id,
			    bool apply)
{
	json_t *signers = json_object_get(c, "signers");
	uint64_t floor = 0;
	const char *id;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(signers, tmp, id, v) {
		uint64_t n = (uint64_t)json_integer_value(v), first, last;
		if (strcmp(id, root_id) != 0 && folio_keylist_find(kl, id, &first, &last, NULL) != NULL &&
		    n > last) {
			n = last >= first ? last : 0;
			if (apply && n == 0)
				json_object_del(signers, id);
			else if (apply)
				json_object_set_new(signers, id, json_integer((json_int_t)n));
		}
		if (n > floor)
			floor = n;
	}
	return floor;
}

/* Removes the channel's editions that kl voids (signed by a revoked key
 * beyond its range), as prune removes editions. */
static int evict_revoked(folio_library *lib, struct scan *s, const char *channel,
			 const struct folio_keylist *kl, const char *root_id, uint64_t *count)
{
	int rc = FOLIO_OK;
	for (size_t i = 0; i < s->n && rc == FOLIO_OK; i++) {
		struct edition *e = &s->e[i];
		if (!e->evicted && strcmp(e->channel, channel) == 0 &&
		    revoked_for(kl, root_id, e->signer, e->number)) {
			rc = evict(lib, s, e);
			if (rc == FOLIO_OK && count != NULL)
				(*count)++;
		}
	}
	return rc;
}

int folio_library_install(folio_library *lib, const char *path,
			  const struct folio_install_options *o,
			  struct folio_install_result *result)
{
	folio_clear_error(lib->ctx);
	struct folio_install_result res;
	memset(&res, 0, sizeof(res));
	if (result == NULL)
		result = &res;
	memset(result, 0, sizeof(*result));
	struct folio_install_options defaults = {.future_margin = -1};
	if (o == NULL)
		o = &defaults;
	int rc = need_write(lib, "install");
	if (rc != FOLIO_OK)
		return rc;
	sweep(lib);
	struct scan s;
	rc = scan_library(lib, &s, true);
	if (rc != FOLIO_OK)
		return rc;
	int64_t floor = clock_floor(lib, &s);
	struct folio_open_opts oo = {
		.lookup = lookup, .lookup_arg = lib, .channel = o->channel,
		/* non-zero: the library's words for time refusals */
		.now_floor = floor > 0 ? floor : 1,
		.future_margin = o->future_margin >= 0 ? o->future_margin : DEFAULT_MARGIN,
	};
	/* Editions kept here supply what a delta or a layer does not carry
	 * (hashed again as they are copied), the incomplete edition itself
	 * among them, and a delta's manifest's base. */
	char **sources = calloc(s.n + 1, sizeof(*sources));
	size_t nsources = 0;
	for (size_t i = 0; sources != NULL && i < s.n; i++)
		if (s.e[i].parsed && asprintf(&sources[nsources], "%s/%s/%llu", lib->dir, s.e[i].channel,
					      (unsigned long long)s.e[i].number) >= 0)
			nsources++;
	oo.sources = (const char *const *)sources;
	oo.nsources = nsources;
	folio_bundle *b = NULL;
	struct folio_keylist *stored = NULL;
	lib->unknown_key[0] = '\0';
	struct install in = {.lib = lib, .path = path, .objfd = -1, .sharing = true};
	bool made_channel = false;
	char *dest = NULL;
	rc = folio_bundle_open_opts(lib->ctx, path, &oo, &b);
	if (rc != FOLIO_OK && lib->ctx->needs_base != 0) {
		uint64_t need = lib->ctx->needs_base;
		/* what it says it is (unverified: only the words depend on it) */
		const char *dch = lib->ctx->delta_channel;
		uint64_t ded = lib->ctx->delta_edition, have = (uint64_t)jint(state_channel(lib, dch), "edition");
		if (newest_present(&s, dch) > have)
			have = newest_present(&s, dch);
		if (ded != 0 && have >= ded) {
			rc = folio_fail(lib->ctx, FOLIO_EREJECT,
					"cannot install '%s': it says it is edition %llu of channel '%s', not newer "
					"than edition %llu, already accepted (and it is a delta against edition %llu, "
					"which this library does not hold)",
					path, (unsigned long long)ded, dch, (unsigned long long)have,
					(unsigned long long)need);
			goto out;
		}
		rc = folio_fail(lib->ctx, FOLIO_EREJECT,
				"cannot install '%s': it is a delta against edition %llu, which this library "
				"does not hold: install edition %llu (or a full bundle of this edition) first",
				path, (unsigned long long)need, (unsigned long long)need);
		goto out;
	}
	if (rc != FOLIO_OK) {
		if (lib->unknown_key[0] != '\0' && folio_errcode(lib->ctx) == FOLIO_EREJECT)
			rc = folio_fail(lib->ctx, FOLIO_EREJECT,
					"cannot install '%s': it is signed by key %s, which this library trusts "
					"for no channel; if you trust its publisher: folio-unpack trust add "
					"CHANNEL KEY.pub --library %s",
					path, lib->unknown_key, lib->dir);
		goto out;
	}
	const char *channel = folio_bundle_channel(b);
	uint64_t edition = folio_bundle_edition(b);
	snprintf(result->channel, sizeof(result->channel), "%s", channel);
	snprintf(result->title, sizeof(result->title), "%s", folio_bundle_title(b));
	result->edition = edition;
	const struct root *root = find_root(lib, channel);
	json_t *c = state_channel(lib, channel);
	const char *signer_channel = NULL;
	for (size_t i = 0; i < lib->nroots; i++)
		if (strcmp(lib->roots[i].key->id, folio_bundle_root_id(b)) == 0)
			signer_channel = lib->roots[i].channel;
	if (root == NULL || c == NULL) {
		rc = folio_fail(lib->ctx, FOLIO_EREJECT,
				"cannot install '%s': it is for channel '%s', which this library does not "
				"trust (it is signed by the key of channel '%s'); if you trust its publisher: "
				"folio-unpack trust add %s KEY.pub --library %s",
				path, channel, signer_channel ? signer_channel : "?", channel, lib->dir);
		goto out;
	}
	if (strcmp(root->key->id, folio_bundle_root_id(b)) != 0) {
		rc = folio_fail(lib->ctx, FOLIO_EREJECT,
				"cannot install '%s': it says it is for channel '%s' but is signed by key %s "
				"(channel '%s'), not by key %s, the one channel '%s' is pinned to",
				path, channel, folio_bundle_root_id(b), signer_channel ? signer_channel : "?",
				root->key->id, channel);
		goto out;
	}
	if (!root->trusted) {
		rc = folio_fail(lib->ctx, FOLIO_EREJECT,
				"cannot install '%s': channel '%s' is no longer trusted by this library "
				"(trust was removed); to trust it again: folio-unpack trust add %s KEY.pub "
				"--library %s",
				path, channel, channel, lib->dir);
		goto out;
	}
	/* The newest key list decides: the one accepted before, or the one the
	 * bundle carries when it is newer (it then resets the floors). */
	rc = stored_keylist(lib, c, root->key, &stored);
	if (rc != FOLIO_OK)
		goto out;
	const struct folio_keylist *carried = folio_bundle_keylist(b);
	uint64_t v_stored = stored ? folio_keylist_version(stored) : 0;
	uint64_t v_carried = carried ? folio_keylist_version(carried) : 0;
	const char *kid = folio_bundle_key_id(b), *root_id = folio_bundle_root_id(b);
	if (carried != NULL && v_carried == v_stored) {
		size_t la, lb;
		const char *ja = folio_bundle_keylist_json(b, &la), *jb = folio_keylist_json(stored, &lb);
		if (la != lb || memcmp(ja, jb, la) != 0) {
			rc = folio_fail(lib->ctx, FOLIO_EREJECT,
					"cannot install '%s': its key list of channel '%s' is version %llu but not "
					"the version %llu accepted before; the channel's root key may be misused: "
					"ask the publisher",
					path, channel, (unsigned long long)v_carried, (unsigned long long)v_stored);
			goto out;
		}
	}
	bool adopt = carried != NULL && v_carried > v_stored;
	const struct folio_keylist *rule = adopt ? carried : stored;
	if (!adopt && stored != NULL && strcmp(kid, root_id) != 0) {
		rc = folio_keylist_allows(lib->ctx, path, stored, kid, edition);
		if (rc != FOLIO_OK)
			goto out;
	}
	uint64_t accepted = adopt ? floor_under(c, rule, root_id, false) : (uint64_t)jint(c, "edition");
	uint64_t present = 0;
	for (size_t i = 0; i < s.n; i++)
		if (strcmp(s.e[i].channel, channel) == 0 && s.e[i].number > present &&
		    !revoked_for(rule, root_id, s.e[i].signer, s.e[i].number))
			present = s.e[i].number;
	uint64_t rollback = accepted > present ? accepted : present;
	if (edition < rollback) {
		rc = folio_fail(lib->ctx, FOLIO_EREJECT,
				"cannot install '%s': edition %llu of channel '%s' is older than edition %llu, "
				"already accepted; an older edition can bring back what was corrected or "
				"withdrawn: get the newest edition",
				path, (unsigned long long)edition, channel, (unsigned long long)rollback);
		goto out;
	}
	char name[24];
	snprintf(name, sizeof(name), "%llu", (unsigned long long)edition);
	if (asprintf(&dest, "%s/%s/%s", lib->dir, channel, name) < 0) {
		dest = NULL;
		rc = folio_fail_errno(lib->ctx, ENOMEM, "cannot install '%s'", path);
		goto out;
	}
	struct stat st;
	bool there = fstatat(lib->dirfd, dest + strlen(lib->dir) + 1, &st, AT_SYMLINK_NOFOLLOW) == 0;
	size_t n = folio_bundle_file_count(b);
	result->files = n;
	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		(void)folio_bundle_file(b, i, NULL, &size, NULL, NULL, NULL);
		result->bytes += size;
	}
	const struct edition *same = NULL;
	for (size_t i = 0; i < s.n; i++)
		if (s.e[i].parsed && strcmp(s.e[i].channel, channel) == 0 && s.e[i].number == edition)
			same = &s.e[i];
	bool complete = same == NULL || (same->missing == 0 && same->problem[0] == '\0');
	if (edition == rollback && !o->force && complete) {
		/* still verified in full: a damaged copy is refused, not waved
		 * through, unless --partial takes damage anyway */
		rc = folio_bundle_verify_flags(b, o->partial ? FOLIO_PARTIAL : 0);
		if (rc == FOLIO_OK)
			result->nothing_to_do = there ? 1 : 2;
		if (rc == FOLIO_OK && folio_bundle_damage(b) != NULL)
			snprintf(result->damage, sizeof(result->damage), "%s", folio_bundle_damage(b));
		goto out;
	}
	if (mkdirat(lib->dirfd, channel, 0755) == 0)
		made_channel = true;
	else if (errno != EEXIST) {
		rc = folio_fail_errno(lib->ctx, errno, "cannot make '%s/%s'", lib->dir, channel);
		goto out;
	}
	/* a symbolic link planted as DIR/CHANNEL would take the edition outside
	 * the library (the unpack opens it with O_NOFOLLOW too, for a swap
	 * after this look) */
	if (fstatat(lib->dirfd, channel, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
		rc = folio_fail(lib->ctx, FOLIO_EUSAGE,
				"cannot install '%s': '%s/%s' is not a folder (a symbolic link or a file?); "
				"the library writes only inside '%s': move it away",
				path, lib->dir, channel, lib->dir);
		goto out;
	}
	in.buf = malloc(SHARE_BUF);
	if (in.buf == NULL) {
		rc = folio_fail_errno(lib->ctx, ENOMEM, "cannot install '%s'", path);
		goto out;
	}
	rc = folio_bundle_unpack_hook(b, dest,
				      (there ? FOLIO_FORCE | FOLIO_UNPACK_REPLACE_ANY : 0) |
					      FOLIO_UNPACK_PARENT_NOFOLLOW | (o->partial ? FOLIO_PARTIAL : 0) |
					      /* an incomplete copy kept: what is added is kept */
					      (same != NULL && same->missing > 0 ? FOLIO_UNPACK_KEEP_MISSING : 0),
				      share_files, &in);
	result->base = folio_bundle_base(b);
	if (rc != FOLIO_OK) {
		if (in.tried) /* objects the failed run made: no edition links them */
			sweep(lib);
		if (folio_errcode(lib->ctx) == FOLIO_EREJECT && folio_bundle_missing_text(b) > 0) {
			const char *first = folio_bundle_missing(b, 0);
			/* "install the base first" only when it is not here: a delta
			 * (a layer of one) may also lack what an incomplete copy of
			 * this edition still lacks */
			bool base_here = false;
			for (size_t i = 0; i < s.n; i++)
				base_here |= s.e[i].parsed && strcmp(s.e[i].channel, channel) == 0 &&
					     s.e[i].number == result->base;
			if (result->base != 0 && !base_here)
				rc = folio_fail(lib->ctx, FOLIO_EREJECT,
						"cannot install '%s': it is a delta against edition %llu of channel "
						"'%s', and %zu of its files are in no edition kept here ('%s' among "
						"them): install edition %llu (or a full bundle of edition %llu) first",
						path, (unsigned long long)result->base, channel,
						folio_bundle_missing_count(b), first, (unsigned long long)result->base,
						(unsigned long long)edition);
			else if (folio_bundle_damage(b) == NULL)
				rc = folio_fail(lib->ctx, FOLIO_EREJECT,
						"cannot install '%s': incomplete: %zu of %zu files of edition %llu "
						"are neither in it nor kept here ('%s' among them); --partial keeps "
						"what it has",
						path, folio_bundle_missing_count(b), n, (unsigned long long)edition, first);
		}
		goto out;
	}
	result->received = folio_bundle_received(b);
	result->reused = folio_bundle_reused(b);
	result->missing = folio_bundle_missing_count(b);
	result->missing_text = folio_bundle_missing_text(b);
	if (folio_bundle_damage(b) != NULL)
		snprintf(result->damage, sizeof(result->damage), "%s", folio_bundle_damage(b));
	made_channel = false;
	result->bytes_shared = in.shared;
	/* the floors: never lower, but through a newer key list */
	if (adopt) {
		size_t jl, sl;
		const char *kj = folio_bundle_keylist_json(b, &jl), *ks = folio_bundle_keylist_sig(b, &sl);
		json_object_set_new(c, "keys", json_pack("{s:I,s:s%,s:s%}", "version", (json_int_t)v_carried,
							 "json", kj, jl, "minisig", ks, sl));
		(void)floor_under(c, rule, root_id, true);
		json_object_set_new(c, "edition", json_integer((json_int_t)accepted));
	}
	if (edition > accepted)
		json_object_set_new(c, "edition", json_integer((json_int_t)edition));
	if (folio_bundle_created(b) > jint(c, "created"))
		json_object_set_new(c, "created", json_integer((json_int_t)folio_bundle_created(b)));
	json_t *signers = json_object_get(c, "signers");
	if ((uint64_t)json_integer_value(json_object_get(signers, kid)) < edition ||
	    json_object_get(signers, kid) == NULL)
		json_object_set_new(signers, kid, json_integer((json_int_t)edition));
	if (in.tried || json_object_get(lib->state, "sharing") == NULL)
		json_object_set_new(lib->state, "sharing", json_boolean(in.sharing));
	result->sharing = json_is_true(json_object_get(lib->state, "sharing"));
	rc = save_state(lib);
	if (rc != FOLIO_OK)
		goto out;
	scan_free(&s);
	rc = scan_library(lib, &s, true);
	if (rc != FOLIO_OK)
		goto out;
	if (rule != NULL) {
		rc = evict_revoked(lib, &s, channel, rule, root_id, &result->editions_revoked);
		if (rc != FOLIO_OK)
			goto out;
	}
	if (o->max_size > 0) {
		struct folio_prune_result pr;
		rc = prune_locked(lib, &s, 0, o->max_size, channel, edition, &pr);
		result->editions_pruned = pr.editions_pruned;
		result->still_too_big = pr.still_too_big;
		if (rc != FOLIO_OK)
			goto out;
	}
	sweep(lib); /* objects the replaced edition held */
	rc = write_page(lib, &s);
out:
	if (made_channel)
		unlinkat(lib->dirfd, channel, AT_REMOVEDIR);
	if (in.objfd >= 0)
		close(in.objfd);
	free(in.buf);
	free(in.made);
	free(dest);
	folio_keylist_free(stored);
	folio_bundle_free(b);
	scan_free(&s);
	for (size_t i = 0; i < nsources; i++)
		free(sources[i]);
	free(sources);
	return rc;
}

/* ---- prune -------------------------------------------------------------------------- */

/* Takes edition e out: renamed to .EDITION.removing-XXXXXXXX (atomic),
 * channel folder synced, page rewritten, then the tree removed and objects
 * no edition links any more. */
static int evict(folio_library *lib, struct scan *s, struct edition *e)
{
	char name[24], gone[48];
	snprintf(name, sizeof(name), "%llu", (unsigned long long)e->number);
	int chanfd = openat(lib->dirfd, e->channel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (chanfd < 0)
		return folio_fail_errno(lib->ctx, errno, "cannot prune '%s/%s'", lib->dir, e->channel);
	int r = -1;
	for (int attempt = 0; attempt < 100 && r != 0; attempt++) {
		snprintf(gone, sizeof(gone), ".%s.removing-%08x", name, randombytes_random());
		r = renameat2(chanfd, name, chanfd, gone, RENAME_NOREPLACE);
		if (r != 0 && errno == EINVAL) { /* no renameat2 flags here; under our lock */
			struct stat st;
			if (fstatat(chanfd, gone, &st, AT_SYMLINK_NOFOLLOW) == 0)
				errno = EEXIST;
			else
				r = renameat(chanfd, name, chanfd, gone);
		}
		if (r != 0 && errno != EEXIST)
			break;
	}
	if (r != 0) {
		int err = errno;
		close(chanfd);
		return folio_fail_errno(lib->ctx, err, "cannot prune '%s/%s/%s'", lib->dir, e->channel, name);
	}
	e->evicted = true;
	if (fsync(chanfd) != 0 && errno != EINVAL) {
		int err = errno;
		close(chanfd);
		return folio_fail_errno(lib->ctx, err, "cannot prune '%s/%s/%s'", lib->dir, e->channel, name);
	}
	int rc = write_page(lib, s);
	folio_remove_tree(chanfd, gone);
	close(chanfd);
	sweep(lib);
	return rc;
}

static int compare_age(const void *a, const void *b)
{
	const struct edition *x = *(struct edition *const *)a, *y = *(struct edition *const *)b;
	int64_t cx = x->parsed ? x->m.created : INT64_MIN, cy = y->parsed ? y->m.created : INT64_MIN;
	if (cx != cy)
		return cx < cy ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number ? 1 : strcmp(x->channel, y->channel);
}

static int prune_locked(folio_library *lib, struct scan *s, uint64_t keep, uint64_t max_size,
			const char *protect_channel, uint64_t protect_edition,
			struct folio_prune_result *result)
{
	memset(result, 0, sizeof(*result));
	int rc = FOLIO_OK;
	/* --keep: s is newest first per channel */
	if (keep > 0) {
		uint64_t seen = 0;
		const char *chan = NULL;
		for (size_t i = 0; i < s->n && rc == FOLIO_OK; i++) {
			struct edition *e = &s->e[i];
			if (chan == NULL || strcmp(chan, e->channel) != 0) {
				chan = e->channel;
				seen = 0;
			}
			if (e->evicted)
				continue;
			if (++seen <= keep)
				continue;
			if (protect_channel && strcmp(e->channel, protect_channel) == 0 && e->number == protect_edition)
				continue;
			rc = evict(lib, s, e);
			if (rc == FOLIO_OK)
				result->editions_pruned++;
		}
	}
	uint64_t bytes = 0;
	if (rc == FOLIO_OK)
		rc = disk_use(lib, &bytes, NULL);
	if (rc == FOLIO_OK && max_size > 0 && bytes > max_size) {
		struct edition **order = malloc((s->n ? s->n : 1) * sizeof(*order));
		if (order == NULL)
			return folio_fail_errno(lib->ctx, ENOMEM, "cannot prune '%s'", lib->dir);
		size_t n = 0;
		for (size_t i = 0; i < s->n; i++) {
			struct edition *e = &s->e[i];
			if (e->evicted || e->number == newest_present(s, e->channel) ||
			    (protect_channel && strcmp(e->channel, protect_channel) == 0 && e->number == protect_edition))
				continue;
			order[n++] = e;
		}
		qsort(order, n, sizeof(*order), compare_age);
		for (size_t i = 0; i < n && rc == FOLIO_OK && bytes > max_size; i++) {
			rc = evict(lib, s, order[i]);
			if (rc == FOLIO_OK) {
				result->editions_pruned++;
				rc = disk_use(lib, &bytes, NULL);
			}
		}
		free(order);
		if (rc == FOLIO_OK && bytes > max_size)
			result->still_too_big = 1;
	}
	result->bytes = bytes;
	return rc;
}

int folio_library_prune(folio_library *lib, uint64_t keep, uint64_t max_size,
			struct folio_prune_result *result)
{
	folio_clear_error(lib->ctx);
	struct folio_prune_result res;
	if (result == NULL)
		result = &res;
	memset(result, 0, sizeof(*result));
	int rc = need_write(lib, "prune");
	if (rc != FOLIO_OK)
		return rc;
	if (keep == 0 && max_size == 0)
		return folio_fail(lib->ctx, FOLIO_EUSAGE, "prune needs --keep N or --max-size SIZE");
	sweep(lib);
	struct scan s;
	rc = scan_library(lib, &s, true);
	if (rc == FOLIO_OK)
		rc = prune_locked(lib, &s, keep, max_size, NULL, 0, result);
	if (rc == FOLIO_OK)
		rc = write_page(lib, &s);
	scan_free(&s);
	return rc;
}

/* ---- status --------------------------------------------------------------------------- */

static void add_time(struct folio_buf *b, int64_t t)
{
	char when[32];
	folio_time_format(when, t);
	folio_buf_add(b, when);
}

static int status_text(json_t *j, char **out)
{
	struct folio_buf b = {0};
	char line[1400];
	json_t *ch, *e, *p;
	size_t i, k;
	snprintf(line, sizeof(line), "library %s: %llu bytes on disk, %llu without sharing\n",
		 json_string_value(json_object_get(j, "library")),
		 (unsigned long long)json_integer_value(json_object_get(j, "bytes")),
		 (unsigned long long)json_integer_value(json_object_get(j, "bytes_unshared")));
	folio_buf_add(&b, line);
	folio_buf_add(&b, json_is_true(json_object_get(j, "sharing"))
				  ? "sharing: identical files are shared between editions (hard links)\n"
				  : "sharing: unavailable on this file system (no hard links): editions are plain copies\n");
	if (json_is_true(json_object_get(j, "clock_behind"))) {
		folio_buf_add(&b, "time: this device's clock says ");
		add_time(&b, json_integer_value(json_object_get(j, "clock")));
		folio_buf_add(&b, ", before the newest edition accepted was made; taken as ");
		add_time(&b, json_integer_value(json_object_get(j, "now")));
		folio_buf_add(&b, "\n");
	}
	json_array_foreach(json_object_get(j, "channels"), i, ch) {
		snprintf(line, sizeof(line), "channel %s: root key %s%s, newest edition accepted %llu",
			 json_string_value(json_object_get(ch, "channel")),
			 json_string_value(json_object_get(ch, "root_id")),
			 json_is_true(json_object_get(ch, "trusted")) ? "" : " (no longer trusted)",
			 (unsigned long long)json_integer_value(json_object_get(ch, "edition")));
		folio_buf_add(&b, line);
		if (json_integer_value(json_object_get(ch, "created")) > 0) {
			folio_buf_add(&b, " (made ");
			add_time(&b, json_integer_value(json_object_get(ch, "created")));
			folio_buf_add(&b, ")");
		}
		folio_buf_add(&b, "\n");
		if (json_integer_value(json_object_get(ch, "keys_version")) > 0) {
			snprintf(line, sizeof(line), "  key list version %llu (day-to-day keys the root delegates to)\n",
				 (unsigned long long)json_integer_value(json_object_get(ch, "keys_version")));
			folio_buf_add(&b, line);
		}
		if (json_array_size(json_object_get(ch, "editions")) == 0)
			folio_buf_add(&b, "  no edition present\n");
		json_array_foreach(json_object_get(ch, "editions"), k, e) {
			char created[32] = "?", expires[32] = "?";
			if (json_is_integer(json_object_get(e, "created")))
				folio_time_format(created, json_integer_value(json_object_get(e, "created")));
			if (json_is_integer(json_object_get(e, "expires")))
				folio_time_format(expires, json_integer_value(json_object_get(e, "expires")));
			const char *title = json_string_value(json_object_get(e, "title"));
			snprintf(line, sizeof(line), "  %6llu  made %s  %s %s  %llu files, %llu bytes  %s%s\n",
				 (unsigned long long)json_integer_value(json_object_get(e, "edition")),
				 created, json_is_true(json_object_get(e, "expired")) ? "expired" : "expires",
				 expires, (unsigned long long)json_integer_value(json_object_get(e, "files")),
				 (unsigned long long)json_integer_value(json_object_get(e, "bytes")),
				 title ? title : "",
				 !json_is_true(json_object_get(e, "complete")) ? "  (DAMAGED)"
				 : json_is_true(json_object_get(e, "revoked")) ? "  (signed by a revoked key)" : "");
			folio_buf_add(&b, line);
			if (json_integer_value(json_object_get(e, "missing")) > 0) {
				snprintf(line, sizeof(line), "          %llu files not received yet (listed in "
					 FOLIO_MISSING_PATH "): another layer or bundle of this edition completes it\n",
					 (unsigned long long)json_integer_value(json_object_get(e, "missing")));
				folio_buf_add(&b, line);
			}
		}
		json_array_foreach(json_object_get(ch, "problems"), k, p) {
			folio_buf_add(&b, "  problem: ");
			folio_buf_add(&b, json_string_value(p));
			folio_buf_add(&b, "\n");
		}
	}
	json_array_foreach(json_object_get(j, "problems"), k, p) {
		folio_buf_add(&b, "problem: ");
		folio_buf_add(&b, json_string_value(p));
		folio_buf_add(&b, "\n");
	}
	json_t *l = json_object_get(j, "leftovers");
	if (json_integer_value(json_object_get(l, "count")) > 0) {
		snprintf(line, sizeof(line),
			 "leftovers of interrupted runs: %llu (%llu bytes), removed by the next install or prune\n",
			 (unsigned long long)json_integer_value(json_object_get(l, "count")),
			 (unsigned long long)json_integer_value(json_object_get(l, "bytes")));
		folio_buf_add(&b, line);
	}
	size_t waiting = 0, ci;
	json_t *c;
	json_array_foreach(json_object_get(j, "channels"), ci, c) {
		size_t ei;
		json_t *ed;
		json_array_foreach(json_object_get(c, "editions"), ei, ed)
			waiting += json_integer_value(json_object_get(ed, "missing")) > 0;
	}
	if (!json_is_true(json_object_get(j, "consistent")))
		folio_buf_add(&b, "consistent: no (see the problems above)\n");
	else if (waiting == 0)
		folio_buf_add(&b, "consistent: yes, every edition is complete\n");
	else {
		snprintf(line, sizeof(line), "consistent: yes; %zu edition%s still lack%s files not received "
			 "yet\n", waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "");
		folio_buf_add(&b, line);
	}
	if (b.oom) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	return 0;
}

int folio_library_status(folio_library *lib, int flags, char **out, int *consistent)
{
	folio_clear_error(lib->ctx);
	*out = NULL;
	*consistent = 0;
	struct scan s;
	int rc = scan_library(lib, &s, true);
	if (rc != FOLIO_OK)
		return rc;
	uint64_t bytes = 0, unshared = 0;
	rc = disk_use(lib, &bytes, &unshared);
	if (rc != FOLIO_OK) {
		scan_free(&s);
		return rc;
	}
	struct leftovers left = {0};
	visit_leftovers(lib, false, &left);
	int64_t clock;
	int64_t now = effective_now(lib, &s, &clock);
	bool ok = lib->state != NULL;
	json_t *j = json_object(), *channels = json_array(), *problems = json_array();
	json_object_set_new(j, "library", json_string(lib->dir));
	json_object_set_new(j, "consistent", json_false());
	json_object_set_new(j, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(j, "bytes_unshared", json_integer((json_int_t)unshared));
	json_object_set_new(j, "sharing", json_boolean(!json_is_false(json_object_get(lib->state, "sharing"))));
	json_object_set_new(j, "clock", json_integer(clock));
	json_object_set_new(j, "now", json_integer(now));
	json_object_set_new(j, "clock_behind", json_boolean(now > clock));
	json_object_set_new(j, "leftovers", json_pack("{s:I,s:I}", "count", (json_int_t)left.count,
						      "bytes", (json_int_t)left.bytes));
	if (lib->state == NULL) {
		char msg[800];
		snprintf(msg, sizeof(msg), "the state file '%s/" META_DIR "/" STATE_NAME "' is damaged: %s",
			 lib->dir, lib->state_problem);
		json_array_append_new(problems, json_string(msg));
	}
	/* channels the state names, then folders of channels it does not */
	const char *name;
	json_t *c;
	json_t *st_channels = json_object_get(lib->state, "channels");
	json_t *all = json_object();
	json_object_foreach(st_channels, name, c)
		json_object_set_new(all, name, json_true());
	for (size_t i = 0; i < s.n; i++)
		json_object_set_new(all, s.e[i].channel, json_true());
	json_t *unused;
	json_object_foreach(all, name, unused) {
		c = json_object_get(st_channels, name);
		json_t *ch = json_object(), *eds = json_array(), *cp = json_array();
		json_object_set_new(ch, "channel", json_string(name));
		json_object_set_new(ch, "trusted", json_boolean(c != NULL && !json_is_false(json_object_get(c, "trusted"))));
		json_object_set_new(ch, "root_id", c ? json_incref(json_object_get(c, "root_id")) : json_null());
		json_object_set_new(ch, "edition", json_integer(c ? jint(c, "edition") : 0));
		json_object_set_new(ch, "created", json_integer(c ? jint(c, "created") : 0));
		if (c != NULL)
			json_object_set(ch, "signers", json_object_get(c, "signers"));
		json_t *kv = json_object_get(json_object_get(c, "keys"), "version");
		json_object_set_new(ch, "keys_version", json_integer(kv ? json_integer_value(kv) : 0));
		struct folio_keylist *kl = NULL;
		const struct root *root = find_root(lib, name);
		if (root != NULL && c != NULL && stored_keylist(lib, c, root->key, &kl) != FOLIO_OK) {
			json_array_append_new(cp, json_string(folio_errmsg(lib->ctx)));
			folio_clear_error(lib->ctx);
		}
		if (c == NULL && lib->state != NULL) {
			char msg[300];
			snprintf(msg, sizeof(msg), "channel '%s' has editions but is not in the state", name);
			json_array_append_new(cp, json_string(msg));
		}
		for (size_t i = 0; i < s.n; i++) {
			struct edition *e = &s.e[i];
			if (strcmp(e->channel, name) != 0)
				continue;
			json_t *je = json_object();
			json_object_set_new(je, "edition", json_integer((json_int_t)e->number));
			if (e->parsed) {
				json_object_set_new(je, "title", json_string(e->m.title));
				json_object_set_new(je, "created", json_integer(e->m.created));
				json_object_set_new(je, "expires", json_integer(e->m.expires));
				json_object_set_new(je, "expired", json_boolean(now >= e->m.expires));
				json_object_set_new(je, "files", json_integer((json_int_t)e->m.nfiles));
				json_object_set_new(je, "bytes", json_integer((json_int_t)e->bytes));
			}
			json_object_set_new(je, "signer", json_string(e->signer));
			bool revoked = root != NULL && revoked_for(kl, root->key->id, e->signer, e->number);
			json_object_set_new(je, "revoked", json_boolean(revoked));
			json_object_set_new(je, "complete", json_boolean(e->problem[0] == '\0'));
			json_object_set_new(je, "missing", json_integer((json_int_t)e->missing));
			if (e->problem[0] != '\0') {
				json_object_set_new(je, "problem", json_string(e->problem));
				json_array_append_new(cp, json_string(e->problem));
			}
			json_array_append_new(eds, je);
		}
		folio_keylist_free(kl);
		json_object_set_new(ch, "editions", eds);
		json_object_set_new(ch, "problems", cp);
		if (json_array_size(cp) > 0)
			ok = false;
		json_array_append_new(channels, ch);
	}
	json_decref(all);
	json_object_set_new(j, "channels", channels);
	json_object_set_new(j, "problems", problems);
	json_object_set_new(j, "consistent", json_boolean(ok));
	scan_free(&s);
	int bad = 0;
	if (flags & FOLIO_STATUS_JSON) {
		char *text = json_dumps(j, JSON_COMPACT);
		if (text != NULL && asprintf(out, "%s\n", text) < 0)
			*out = NULL;
		free(text);
		bad = *out == NULL;
	} else {
		bad = status_text(j, out) != 0;
	}
	json_decref(j);
	if (bad)
		return folio_fail_errno(lib->ctx, ENOMEM, "cannot describe the library '%s'", lib->dir);
	*consistent = ok;
	return FOLIO_OK;
}

/* ---- check ------------------------------------------------------------------------------ */

struct checker {
	folio_library *lib;
	void (*problem)(void *arg, const char *message);
	void *arg;
	struct folio_check_result *r;
	uint8_t *buf;
	struct folio_keylist *keys; /* the channel's newest accepted key list, or NULL */
};

static void report(struct checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct checker *k, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the same escaping as every message (names may hold control characters) */
	folio_fail(k->lib->quiet, FOLIO_EREJECT, "%s", msg);
	k->r->problems++;
	if (k->problem != NULL)
		k->problem(k->arg, folio_errmsg(k->lib->quiet));
}

/* Files under the edition that its manifest does not list. */
static void find_extra(struct checker *k, int dirfd, const char *rel, char **sorted, size_t n,
		       const char *ed, int depth)
{
	size_t m;
	char **names = depth < 40 ? list_dir(dirfd, ".", &m) : NULL;
	for (size_t i = 0; names != NULL && i < m; i++) {
		char *path = NULL;
		if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0)
			break;
		struct stat st;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				find_extra(k, sub, path, sorted, n, ed, depth + 1);
				close(sub);
			}
		} else if (strcmp(path, FOLIO_MANIFEST_PATH) != 0 && strcmp(path, FOLIO_SIGNATURE_PATH) != 0 &&
			   strcmp(path, FOLIO_KEYS_PATH) != 0 && strcmp(path, FOLIO_KEYS_SIGNATURE_PATH) != 0 &&
			   strcmp(path, FOLIO_MISSING_PATH) != 0 &&
			   bsearch(&path, sorted, n, sizeof(*sorted), compare_paths) == NULL) {
			report(k, "%s/%s: not in the signed manifest of its edition (something else wrote it)", ed, path);
		}
		free(path);
	}
	free_names(names, m);
}

static void check_edition(struct checker *k, struct edition *e)
{
	folio_library *lib = k->lib;
	char ed[PATH_MAX];
	snprintf(ed, sizeof(ed), "%s/%s/%llu", lib->dir, e->channel, (unsigned long long)e->number);
	k->r->editions++;
	char *json = NULL, *sigtext = NULL, *mpath = NULL, *spath = NULL, *kpath = NULL, *kspath = NULL;
	char *keys = NULL, *keys_sig = NULL;
	size_t len, siglen, keys_len = 0, keys_sig_len = 0;
	struct folio_manifest m = {0};
	const struct root *root = find_root(lib, e->channel);
	if (asprintf(&mpath, "%s/" FOLIO_MANIFEST_PATH, ed) < 0 ||
	    asprintf(&spath, "%s/" FOLIO_SIGNATURE_PATH, ed) < 0) {
		report(k, "%s: out of memory", ed);
		goto out;
	}
	if (folio_read_small_file(lib->quiet, mpath, lib->quiet->limits[FOLIO_LIMIT_MANIFEST_SIZE], &json, &len) != FOLIO_OK ||
	    folio_read_small_file(lib->quiet, spath, FOLIO_SIGNATURE_MAX, &sigtext, &siglen) != FOLIO_OK) {
		report(k, "%s; reinstall edition %llu with --force", folio_errmsg(lib->quiet),
		       (unsigned long long)e->number);
		goto out;
	}
	if (root == NULL) {
		report(k, "%s: channel '%s' has no pinned key in the library's state: its signature cannot be checked",
		       ed, e->channel);
		goto out;
	}
	/* the key list kept beside the manifest, if the edition came with one */
	if (asprintf(&kpath, "%s/" FOLIO_KEYS_PATH, ed) < 0 ||
	    asprintf(&kspath, "%s/" FOLIO_KEYS_SIGNATURE_PATH, ed) < 0) {
		report(k, "%s: out of memory", ed);
		goto out;
	}
	struct stat kst;
	if (lstat(kpath, &kst) == 0 &&
	    (folio_read_small_file(lib->quiet, kpath, FOLIO_KEYS_MAX, &keys, &keys_len) != FOLIO_OK ||
	     folio_read_small_file(lib->quiet, kspath, FOLIO_SIGNATURE_MAX, &keys_sig, &keys_sig_len) != FOLIO_OK)) {
		report(k, "%s; reinstall edition %llu with --force", folio_errmsg(lib->quiet),
		       (unsigned long long)e->number);
		goto out;
	}
	struct folio_head h = {
		.manifest = json, .manifest_len = len, .sig = sigtext, .sig_len = siglen,
		.keys = keys, .keys_len = keys_len, .keys_sig = keys_sig, .keys_sig_len = keys_sig_len,
	};
	char signer[17];
	if (folio_head_verify(lib->quiet, mpath, root->key, &h, &m, signer, NULL) != FOLIO_OK) {
		report(k, "%s; reinstall edition %llu with --force", folio_errmsg(lib->quiet),
		       (unsigned long long)e->number);
		goto out;
	}
	if (revoked_for(k->keys, root->key->id, signer, m.edition)) {
		report(k, "%s: signed by key %s, which the publisher has revoked for edition %llu: its content "
		       "cannot be trusted; the next install removes it",
		       ed, signer, (unsigned long long)m.edition);
		goto out;
	}
	if (strcmp(m.channel, e->channel) != 0 || m.edition != e->number) {
		report(k, "%s: its signed manifest is not edition %llu of channel '%s'; reinstall it with --force",
		       ed, (unsigned long long)e->number, e->channel);
		goto out;
	}
	int dfd = openat(lib->dirfd, ed + strlen(lib->dir) + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		report(k, "%s: cannot be read: %s", ed, strerror(errno));
		goto out;
	}
	char **paths = malloc((m.nfiles ? m.nfiles : 1) * sizeof(*paths));
	size_t nmissing;
	char *blob;
	char **missing = missing_list(lib, dfd, &nmissing, &blob);
	for (size_t i = 0; i < m.nfiles; i++) {
		const struct folio_file *f = &m.files[i];
		k->r->files++;
		if (paths != NULL)
			paths[i] = f->path;
		int fd = openat(dfd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 && errno == ENOENT && listed(missing, nmissing, f->path))
			continue; /* never installed: the edition is incomplete, not damaged */
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			report(k, "%s/%s: missing (%s); reinstall edition %llu with --force", ed, f->path,
			       fd < 0 ? strerror(errno) : "not a file", (unsigned long long)e->number);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if ((uint64_t)st.st_size != f->size) {
			report(k, "%s/%s: %llu bytes, not the %llu of the signed manifest (the storage may be "
			       "failing); reinstall edition %llu with --force",
			       ed, f->path, (unsigned long long)st.st_size, (unsigned long long)f->size,
			       (unsigned long long)e->number);
			close(fd);
			continue;
		}
		crypto_generichash_state hs;
		crypto_generichash_init(&hs, NULL, 0, FOLIO_HASH_BYTES);
		bool read_ok = true;
		for (;;) {
			ssize_t n = read(fd, k->buf, SHARE_BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				read_ok = false;
			if (n <= 0)
				break;
			crypto_generichash_update(&hs, k->buf, (size_t)n);
		}
		close(fd);
		uint8_t hash[FOLIO_HASH_BYTES];
		crypto_generichash_final(&hs, hash, sizeof(hash));
		if (!read_ok)
			report(k, "%s/%s: cannot be read (the storage may be failing); reinstall edition %llu with --force",
			       ed, f->path, (unsigned long long)e->number);
		else if (sodium_memcmp(hash, f->hash, sizeof(hash)) != 0)
			report(k, "%s/%s: its bytes differ from the signed manifest (the storage may be "
			       "failing); reinstall edition %llu with --force",
			       ed, f->path, (unsigned long long)e->number);
	}
	if (paths != NULL) {
		qsort(paths, m.nfiles, sizeof(*paths), compare_paths);
		find_extra(k, dfd, "", paths, m.nfiles, ed, 0);
	}
	free(paths);
	free(missing);
	free(blob);
	close(dfd);
out:
	folio_manifest_release(&m);
	free(json);
	free(sigtext);
	free(mpath);
	free(spath);
	free(kpath);
	free(kspath);
	free(keys);
	free(keys_sig);
}

int folio_library_check(folio_library *lib, void (*problem)(void *arg, const char *message), void *arg,
			struct folio_check_result *result)
{
	folio_clear_error(lib->ctx);
	struct folio_check_result res;
	if (result == NULL)
		result = &res;
	memset(result, 0, sizeof(*result));
	struct checker k = {lib, problem, arg, result, malloc(SHARE_BUF), NULL};
	if (k.buf == NULL)
		return folio_fail_errno(lib->ctx, ENOMEM, "cannot check the library '%s'", lib->dir);
	if (lib->state == NULL)
		report(&k, "%s/" META_DIR "/" STATE_NAME ": damaged (%s)", lib->dir, lib->state_problem);
	struct scan s;
	int rc = scan_library(lib, &s, false);
	for (size_t i = 0; rc == FOLIO_OK && i < s.n; i++) {
		if (i == 0 || strcmp(s.e[i].channel, s.e[i - 1].channel) != 0) {
			folio_keylist_free(k.keys);
			k.keys = NULL;
			const struct root *root = find_root(lib, s.e[i].channel);
			json_t *c = state_channel(lib, s.e[i].channel);
			if (root != NULL && c != NULL && stored_keylist(lib, c, root->key, &k.keys) != FOLIO_OK) {
				report(&k, "%s", folio_errmsg(lib->ctx));
				folio_clear_error(lib->ctx);
			}
		}
		check_edition(&k, &s.e[i]);
	}
	folio_keylist_free(k.keys);
	/* a scan that failed keeps its message: check must not look like a pass */
	if (rc == FOLIO_OK)
		scan_free(&s);
	free(k.buf);
	return rc;
}

/* ---- for parts.c: the keys of a channel and a temporary file ------------------------- */

/* The pinned root and state of a channel the library trusts, for checking
 * NAME (a parts index); FOLIO_EREJECT on ctx when it trusts no such channel. */
static int trusted_channel(folio_library *lib, folio_ctx *ctx, const char *name,
			   const char *channel, const struct root **root, json_t **c)
{
	int rc = need_state(lib);
	if (rc != FOLIO_OK)
		return folio_fail(ctx, rc, "%s", folio_errmsg(lib->ctx));
	*root = find_root(lib, channel);
	*c = state_channel(lib, channel);
	if (*root == NULL || *c == NULL || !(*root)->trusted)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': it is for channel '%s', which the library '%s' does not trust",
				  name, channel, lib->dir);
	return FOLIO_OK;
}

int folio_library_key(folio_library *lib, folio_ctx *ctx, const char *name, const char *channel,
		      const char *key_id, folio_pubkey *out, bool *unknown)
{
	*unknown = false;
	const struct root *root;
	json_t *c;
	int rc = trusted_channel(lib, ctx, name, channel, &root, &c);
	if (rc != FOLIO_OK)
		return rc;
	if (strcmp(root->key->id, key_id) == 0) {
		*out = *root->key;
		return FOLIO_OK;
	}
	struct folio_keylist *kl = NULL;
	rc = stored_keylist(lib, c, root->key, &kl);
	if (rc != FOLIO_OK)
		return folio_fail(ctx, rc, "%s", folio_errmsg(lib->ctx));
	bool revoked = false;
	const folio_pubkey *k = kl != NULL ? folio_keylist_find(kl, key_id, NULL, NULL, &revoked) : NULL;
	if (k != NULL && !revoked)
		*out = *k;
	else if (k != NULL)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which the publisher of channel '%s' revoked "
				"(key list version %llu)",
				name, key_id, channel, (unsigned long long)folio_keylist_version(kl));
	else {
		*unknown = true;
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which is neither the root key of channel "
				"'%s' (%s) nor a key of the newest key list the library '%s' accepted",
				name, key_id, channel, root->key->id, lib->dir);
	}
	folio_keylist_free(kl);
	return rc;
}

int folio_library_head_key(folio_library *lib, folio_ctx *ctx, const char *name, const char *head,
			   const char *channel, const char *key_id, struct folio_head_key *out)
{
	memset(out, 0, sizeof(*out));
	const struct root *root;
	json_t *c;
	int rc = trusted_channel(lib, ctx, name, channel, &root, &c);
	if (rc != FOLIO_OK)
		return rc;
	/* The head is checked as install checks a bundle's (the same open, the
	 * same roots, the same clock floor); only the head is read. */
	struct scan none = {0};
	int64_t floor = clock_floor(lib, &none);
	struct folio_open_opts oo = {
		.lookup = lookup, .lookup_arg = lib, .channel = channel,
		.now_floor = floor > 0 ? floor : 1, .future_margin = DEFAULT_MARGIN,
	};
	folio_bundle *b = NULL;
	struct folio_keylist *stored = NULL;
	rc = folio_bundle_open_opts(ctx, head, &oo, &b);
	if (rc != FOLIO_OK)
		return rc;
	out->head_read = true;
	const struct folio_keylist *carried = folio_bundle_keylist(b);
	bool revoked = false;
	const folio_pubkey *k = NULL;
	if (strcmp(folio_bundle_root_id(b), root->key->id) != 0) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': '%s' says it is for channel '%s' but is signed by key %s, not "
				"by key %s, the one channel '%s' is pinned to", name, head, channel,
				folio_bundle_root_id(b), root->key->id, channel);
		goto out;
	}
	if (carried == NULL) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': its head carries no key list, so it cannot vouch for key %s "
				"of '%s'", head, key_id, name);
		goto out;
	}
	/* An older list than the one accepted decides nothing: the newest
	 * list, which does not name the key, wins (section 16.3, step 4). */
	rc = stored_keylist(lib, c, root->key, &stored);
	if (rc != FOLIO_OK) {
		rc = folio_fail(ctx, rc, "%s", folio_errmsg(lib->ctx));
		goto out;
	}
	uint64_t version = folio_keylist_version(carried);
	if (stored != NULL && version <= folio_keylist_version(stored)) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which the newest key list of channel '%s' "
				"the library '%s' accepted (version %llu) does not name; '%s' carries version %llu, "
				"not a newer one", name, key_id, channel, lib->dir,
				(unsigned long long)folio_keylist_version(stored), head, (unsigned long long)version);
		goto out;
	}
	k = folio_keylist_find(carried, key_id, &out->first, &out->last, &revoked);
	if (k == NULL)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which is neither the root key of channel "
				"'%s' (%s) nor a key of the key list (version %llu) that '%s' carries",
				name, key_id, channel, root->key->id, (unsigned long long)version, head);
	else if (revoked)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which the publisher of channel '%s' revoked "
				"(key list version %llu)", name, key_id, channel, (unsigned long long)version);
	if (rc != FOLIO_OK)
		goto out;
	out->key = *k;
	out->version = version;
	size_t mlen;
	const char *manifest = folio_bundle_manifest_json(b, &mlen);
	crypto_generichash(out->manifest, FOLIO_HASH_BYTES, (const unsigned char *)manifest, mlen, NULL, 0);
out:
	folio_keylist_free(stored);
	folio_bundle_free(b);
	return rc;
}

int folio_library_temp(folio_library *lib, const char *tag, int *fd, char **path)
{
	*fd = -1;
	*path = NULL;
	int rc = need_write(lib, "install");
	if (rc != FOLIO_OK)
		return rc;
	char name[64];
	int f = -1;
	for (int attempt = 0; attempt < 100 && f < 0; attempt++) {
		snprintf(name, sizeof(name), "%s.tmp-%08x", tag, randombytes_random());
		f = openat(lib->metafd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0 && errno != EEXIST)
			return folio_fail_errno(lib->ctx, errno, "cannot write '%s/" META_DIR "/%s'", lib->dir, name);
	}
	if (f < 0)
		return folio_fail(lib->ctx, FOLIO_ESYSTEM, "cannot write in '%s/" META_DIR "': no temporary name free",
				  lib->dir);
	/* locked while in use: the leftover sweep (visit_leftovers) passes it by */
	if (flock(f, LOCK_EX | LOCK_NB) != 0 || asprintf(path, "%s/" META_DIR "/%s", lib->dir, name) < 0) {
		int err = errno;
		*path = NULL;
		unlinkat(lib->metafd, name, 0);
		close(f);
		return folio_fail_errno(lib->ctx, err, "cannot write '%s/" META_DIR "/%s'", lib->dir, name);
	}
	*fd = f;
	return FOLIO_OK;
}

folio_ctx *folio_library_ctx(const folio_library *lib)
{
	return lib->ctx;
}
