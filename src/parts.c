/* SPDX-License-Identifier: ISC */
/* Parts: a bundle cut into raw slices for small media, and a signed index
 * (JSON, signed like a key list) that names each slice with its size and
 * BLAKE2b-256, so that a reader can say exactly which parts to send again
 * and can put the bundle back together from parts found on several sticks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <jansson.h>
#include <sodium.h>

#include "folio-internal.h"

#define PARTS_FORMAT_NAME "folio-parts-1"
#define JSON_SAFE_MAX ((1ull << 53) - 1)
#define COPY_BUF (1u << 20)
#define NAME_MAX_BYTES 255

struct part {
	char *name;
	uint64_t size;
	uint8_t hash[FOLIO_HASH_BYTES];
	int state;
	char *path;        /* the good copy, or the first damaged one */
	char problem[160];
};

struct folio_parts {
	folio_ctx *ctx;
	char *index;       /* as given */
	char *dir;         /* the index's folder */
	char *channel;
	uint64_t edition;
	uint8_t manifest[FOLIO_HASH_BYTES];
	uint64_t bundle_size;
	uint8_t bundle_hash[FOLIO_HASH_BYTES];
	uint64_t part_size;
	size_t nparts;
	struct part *parts;
	char *base;        /* the parts' names are BASE.partNNN */
	unsigned width;    /* digits of NNN */
	bool found;        /* folio_parts_find() ran */
};

/* ---- small helpers ------------------------------------------------------------ */

/* Digits of NNN for n parts: 3, or more when needed. */
static unsigned part_width(size_t n)
{
	unsigned w = 1;
	for (size_t v = n; v >= 10; v /= 10)
		w++;
	return w < 3 ? 3 : w;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* The folder of path ("." when it has none), malloc'd. */
static char *dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *join(const char *dir, const char *name)
{
	if (strcmp(dir, ".") == 0)
		return strdup(name);
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* Whether name may name a part file: one component, UTF-8, no control
 * character, not "." or "..". */
static bool safe_base(const char *name)
{
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strlen(name) > NAME_MAX_BYTES || strchr(name, '/') != NULL || !folio_utf8_valid(name))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return false;
	return true;
}

/* The seckey's public half, to verify what it signed. */

static char *parts_comment(const char *channel, uint64_t edition, size_t nparts)
{
	char *s = NULL;
	if (asprintf(&s, "%s channel:%s edition:%llu parts:%zu", PARTS_FORMAT_NAME, channel,
		     (unsigned long long)edition, nparts) < 0)
		return NULL;
	return s;
}


/* Reads exactly len bytes (fewer only at the end of the file: *got says). */
static int read_full(int fd, void *buf, size_t len, size_t *got)
{
	char *p = buf;
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, p + *got, len - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* ctx's message with every tmp replaced by name. */
static int renamed_failure(folio_ctx *ctx, int rc, const char *tmp, const char *name)
{
	struct folio_buf b = {0};
	const char *msg = folio_errmsg(ctx), *hit;
	size_t tlen = strlen(tmp);
	while ((hit = strstr(msg, tmp)) != NULL) {
		folio_buf_addn(&b, msg, (size_t)(hit - msg));
		folio_buf_add(&b, name);
		msg = hit + tlen;
	}
	folio_buf_add(&b, msg);
	if (!b.oom)
		rc = folio_fail(ctx, rc, "%s", b.p);
	free(b.p);
	return rc;
}

/* ---- split ----------------------------------------------------------------------- */

struct output {
	char *path;  /* final name */
	char *tmp;   /* temporary name while written; NULL once renamed */
	bool placed; /* renamed to path */
};

static void outputs_free(struct output *out, size_t n, bool failed)
{
	for (size_t i = 0; out != NULL && i < n; i++) {
		if (out[i].tmp != NULL)
			unlink(out[i].tmp);
		if (failed && out[i].placed)
			unlink(out[i].path);
		free(out[i].tmp);
		free(out[i].path);
	}
	free(out);
}

/* A new temporary file beside path, mode 0644: PATH.tmp-XXXXXX. */
static int temp_beside(folio_ctx *ctx, const char *path, char **tmp)
{
	char *name = NULL;
	if (asprintf(&name, "%s.tmp-XXXXXX", path) < 0)
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", path);
	int fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) != 0) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(name);
		}
		free(name);
		folio_fail_errno(ctx, err, "cannot write '%s'", path);
		return -1;
	}
	*tmp = name;
	return fd;
}

/* Moves tmp to path; without force never over an existing file. */
static int place(folio_ctx *ctx, const char *tmp, const char *path, int force)
{
	int r = force ? rename(tmp, path) : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
	if (r != 0 && !force && (errno == EINVAL || errno == ENOSYS)) {
		r = link(tmp, path); /* refuses to overwrite too */
		if (r == 0)
			unlink(tmp);
	}
	if (r == 0)
		return FOLIO_OK;
	if (errno == EEXIST)
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': it exists (use --force to replace it)",
				  path);
	return folio_fail_errno(ctx, errno, "cannot write '%s'", path);
}

/* Writes the parts of the bundle open in fd into temporary files. */
static int write_parts(folio_ctx *ctx, const char *bundle, int fd, uint64_t size, uint64_t part_size,
		       struct output *out, size_t nparts, struct part *parts, uint8_t whole[FOLIO_HASH_BYTES])
{
	size_t bufsize = part_size < COPY_BUF ? (size_t)part_size : COPY_BUF;
	char *buf = malloc(bufsize);
	if (buf == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot split '%s'", bundle);
	crypto_generichash_state all;
	crypto_generichash_init(&all, NULL, 0, FOLIO_HASH_BYTES);
	int rc = FOLIO_OK;
	if (lseek(fd, 0, SEEK_SET) != 0)
		rc = folio_fail_errno(ctx, errno, "cannot read '%s'", bundle);
	uint64_t left = size;
	for (size_t i = 0; i < nparts && rc == FOLIO_OK; i++) {
		uint64_t want = left < part_size ? left : part_size;
		int pfd = temp_beside(ctx, out[i].path, &out[i].tmp);
		if (pfd < 0) {
			rc = folio_errcode(ctx);
			break;
		}
		crypto_generichash_state one;
		crypto_generichash_init(&one, NULL, 0, FOLIO_HASH_BYTES);
		for (uint64_t done = 0; done < want && rc == FOLIO_OK;) {
			size_t n = want - done < bufsize ? (size_t)(want - done) : bufsize, got;
			if (read_full(fd, buf, n, &got) != 0)
				rc = folio_fail_errno(ctx, errno, "cannot read '%s'", bundle);
			else if (got != n)
				rc = folio_fail(ctx, FOLIO_EREJECT, "cannot split '%s': it changed while it was read",
						bundle);
			else if (folio_write_all(pfd, buf, n) != 0)
				rc = folio_fail_errno(ctx, errno, "cannot write '%s'", out[i].tmp);
			if (rc == FOLIO_OK) {
				crypto_generichash_update(&one, (const unsigned char *)buf, n);
				crypto_generichash_update(&all, (const unsigned char *)buf, n);
				done += n;
			}
		}
		if (rc == FOLIO_OK && fsync(pfd) != 0)
			rc = folio_fail_errno(ctx, errno, "cannot write '%s'", out[i].tmp);
		if (close(pfd) != 0 && rc == FOLIO_OK)
			rc = folio_fail_errno(ctx, errno, "cannot write '%s'", out[i].tmp);
		crypto_generichash_final(&one, parts[i].hash, FOLIO_HASH_BYTES);
		parts[i].size = want;
		left -= want;
	}
	if (rc == FOLIO_OK) {
		size_t got;
		char extra;
		if (read_full(fd, &extra, 1, &got) != 0)
			rc = folio_fail_errno(ctx, errno, "cannot read '%s'", bundle);
		else if (got != 0)
			rc = folio_fail(ctx, FOLIO_EREJECT, "cannot split '%s': it changed while it was read", bundle);
	}
	crypto_generichash_final(&all, whole, FOLIO_HASH_BYTES);
	free(buf);
	return rc;
}

static int encode_index(folio_ctx *ctx, const struct folio_parts *p, const char **names,
			char **out, size_t *len)
{
	char hex[2 * FOLIO_HASH_BYTES + 1];
	json_t *root = json_object(), *bundle = json_object(), *list = json_array();
	int fail = root == NULL || bundle == NULL || list == NULL;
	fail |= json_object_set_new(root, "format", json_string(PARTS_FORMAT_NAME));
	fail |= json_object_set_new(root, "channel", json_string(p->channel));
	fail |= json_object_set_new(root, "edition", json_integer((json_int_t)p->edition));
	folio_hex(hex, p->manifest, FOLIO_HASH_BYTES);
	fail |= json_object_set_new(root, "manifest", json_string(hex));
	fail |= json_object_set_new(bundle, "size", json_integer((json_int_t)p->bundle_size));
	folio_hex(hex, p->bundle_hash, FOLIO_HASH_BYTES);
	fail |= json_object_set_new(bundle, "blake2b", json_string(hex));
	fail |= json_object_set(root, "bundle", bundle);
	fail |= json_object_set_new(root, "part_size", json_integer((json_int_t)p->part_size));
	for (size_t i = 0; i < p->nparts && !fail; i++) {
		json_t *o = json_object();
		fail |= o == NULL;
		fail |= json_object_set_new(o, "name", json_string(names[i]));
		fail |= json_object_set_new(o, "size", json_integer((json_int_t)p->parts[i].size));
		folio_hex(hex, p->parts[i].hash, FOLIO_HASH_BYTES);
		fail |= json_object_set_new(o, "blake2b", json_string(hex));
		fail |= json_array_append_new(list, o);
	}
	fail |= json_object_set(root, "parts", list);
	int rc = folio_json_line(ctx, fail ? NULL : root, "the parts index", out, len);
	json_decref(bundle);
	json_decref(list);
	json_decref(root);
	return rc;
}

/* With force: the PREFIX.partN files an earlier split left that this one
 * did not write (fewer parts, another width), so that `cat PREFIX.part*`
 * stays the bundle. */
static void remove_stale_parts(const char *prefix, const struct output *out, size_t nparts)
{
	char *dir = dir_name(prefix);
	const char *base = base_name(prefix);
	size_t blen = strlen(base);
	DIR *d = dir != NULL ? opendir(dir) : NULL;
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".part", 5) != 0)
			continue;
		const char *digits = n + blen + 5;
		if (strlen(digits) < 3 || strspn(digits, "0123456789") != strlen(digits))
			continue;
		bool ours = false;
		for (size_t i = 0; i < nparts && !ours; i++)
			ours = strcmp(base_name(out[i].path), n) == 0;
		if (!ours) {
			char *p = join(dir, n);
			if (p != NULL)
				unlink(p);
			free(p);
		}
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

int folio_bundle_split(folio_ctx *ctx, const char *path, const folio_seckey *key,
		       const folio_pubkey *verify_key, uint64_t part_size, const char *prefix,
		       int force, struct folio_split_result *result)
{
	return folio_bundle_split_with(ctx, path, key, verify_key, NULL, 0, part_size, prefix, force,
				       result);
}

int folio_bundle_split_with(folio_ctx *ctx, const char *path, const folio_seckey *key,
			    const folio_pubkey *verify_key, const char *const *sources, size_t nsources,
			    uint64_t part_size, const char *prefix, int force,
			    struct folio_split_result *result)
{
	folio_clear_error(ctx);
	if (path == NULL || key == NULL || part_size == 0)
		return folio_fail(ctx, FOLIO_EUSAGE, "split needs a bundle, a key and a part size");
	if (strcmp(path, "-") == 0)
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot split standard input: give a bundle file");
	if (prefix == NULL)
		prefix = path;
	const char *base = base_name(prefix);
	struct folio_parts p = {.ctx = ctx, .part_size = part_size};
	struct output *out = NULL;
	const char **names = NULL;
	char *json = NULL, *sig = NULL, *comment = NULL;
	size_t json_len = 0, sig_len = 0;
	folio_bundle *b = NULL;
	int rc = FOLIO_OK;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st, after;
	if (fd < 0)
		return folio_fail_errno(ctx, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		rc = folio_fail_errno(ctx, errno, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot split '%s': not a regular file", path);
		goto out;
	}
	p.bundle_size = (uint64_t)st.st_size;
	if (p.bundle_size == 0) {
		rc = folio_fail(ctx, FOLIO_EREJECT, "cannot verify '%s': it is empty", path);
		goto out;
	}
	if ((p.bundle_size - 1) / part_size + 1 > FOLIO_PARTS_MAX) {
		rc = folio_fail(ctx, FOLIO_EUSAGE,
				"cannot split '%s' into parts of %llu bytes: more than %d parts; use a larger size",
				path, (unsigned long long)part_size, FOLIO_PARTS_MAX);
		goto out;
	}
	p.nparts = (size_t)((p.bundle_size - 1) / part_size + 1);
	p.width = part_width(p.nparts);
	if (!safe_base(base) || strlen(base) + 5 + p.width > NAME_MAX_BYTES) {
		rc = folio_fail(ctx, FOLIO_EUSAGE,
				"cannot split to '%s': the parts need a plain file name (UTF-8, no control "
				"characters, at most %d bytes with .partNNN)", prefix, NAME_MAX_BYTES);
		goto out;
	}
	/* outputs: parts, then the index, then its signature (renamed last) */
	size_t nout = p.nparts + 2;
	out = calloc(nout, sizeof(*out));
	names = calloc(p.nparts ? p.nparts : 1, sizeof(*names));
	p.parts = calloc(p.nparts ? p.nparts : 1, sizeof(*p.parts));
	if (out == NULL || names == NULL || p.parts == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot split '%s'", path);
		goto out;
	}
	for (size_t i = 0; i < nout && rc == FOLIO_OK; i++) {
		int r = i < p.nparts ? asprintf(&out[i].path, "%s.part%0*zu", prefix, (int)p.width, i + 1)
			: asprintf(&out[i].path, i == p.nparts ? "%s.parts" : "%s.parts.minisig", prefix);
		if (r < 0) {
			out[i].path = NULL;
			rc = folio_fail_errno(ctx, ENOMEM, "cannot split '%s'", path);
		} else if (i < p.nparts) {
			names[i] = base_name(out[i].path);
		}
	}
	if (rc != FOLIO_OK)
		goto out;
	for (size_t i = 0; i < nout && !force; i++) {
		struct stat ex;
		if (lstat(out[i].path, &ex) == 0) {
			rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': it exists (use --force to replace it)",
					out[i].path);
			goto out;
		}
	}

	/* The bundle verifies in full before anything is written. */
	folio_pubkey *pub = NULL;
	if (verify_key == NULL)
		rc = folio_seckey_public(ctx, key, &pub);
	/* the publisher's own bundle: expiry and the clock do not matter */
	struct folio_open_opts oo = {.key = verify_key != NULL ? verify_key : pub, .future_margin = -1,
				     .sources = sources, .nsources = nsources, .any_time = true};
	if (rc == FOLIO_OK)
		rc = folio_bundle_open_opts(ctx, path, &oo, &b);
	folio_pubkey_free(pub);
	if (rc != FOLIO_OK && verify_key == NULL && strstr(folio_errmsg(ctx), ": key list: ") != NULL) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", folio_errmsg(ctx));
		rc = folio_fail(ctx, rc, "%s (it carries a key list: give its root's public key with -p)", msg);
	}
	if (rc == FOLIO_OK)
		rc = folio_bundle_verify(b);
	if (rc != FOLIO_OK)
		goto out;
	size_t mlen;
	const char *manifest = folio_bundle_manifest_json(b, &mlen);
	crypto_generichash(p.manifest, FOLIO_HASH_BYTES, (const unsigned char *)manifest, mlen, NULL, 0);
	p.edition = folio_bundle_edition(b);
	p.channel = strdup(folio_bundle_channel(b));
	if (p.channel == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot split '%s'", path);
		goto out;
	}

	rc = write_parts(ctx, path, fd, p.bundle_size, part_size, out, p.nparts, p.parts, p.bundle_hash);
	if (rc != FOLIO_OK)
		goto out;
	if (fstat(fd, &after) != 0 || after.st_size != st.st_size || after.st_ino != st.st_ino ||
	    after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
		rc = folio_fail(ctx, FOLIO_EREJECT, "cannot split '%s': it changed while it was read", path);
		goto out;
	}
	rc = encode_index(ctx, &p, names, &json, &json_len);
	if (rc == FOLIO_OK && json_len > FOLIO_PARTS_INDEX_MAX)
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': the index would be larger than %u bytes",
				out[p.nparts].path, FOLIO_PARTS_INDEX_MAX);
	if (rc == FOLIO_OK && (comment = parts_comment(p.channel, p.edition, p.nparts)) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot split '%s'", path);
	if (rc == FOLIO_OK)
		rc = folio_sig_create(ctx, key, json, json_len, comment, &sig, &sig_len);
	if (rc == FOLIO_OK)
		rc = folio_write_temp(ctx, out[p.nparts].path, json, json_len, 0644, &out[p.nparts].tmp);
	if (rc == FOLIO_OK)
		rc = folio_write_temp(ctx, out[p.nparts + 1].path, sig, sig_len, 0644, &out[p.nparts + 1].tmp);
	for (size_t i = 0; i < nout && rc == FOLIO_OK; i++) {
		rc = place(ctx, out[i].tmp, out[i].path, force);
		if (rc == FOLIO_OK) {
			free(out[i].tmp);
			out[i].tmp = NULL;
			out[i].placed = true;
		}
	}
	if (rc != FOLIO_OK)
		goto out;
	if (force)
		remove_stale_parts(prefix, out, p.nparts);
	folio_sync_parent(out[0].path);
	if (result != NULL) {
		memset(result, 0, sizeof(*result));
		snprintf(result->channel, sizeof(result->channel), "%s", p.channel);
		result->edition = p.edition;
		result->bundle_size = p.bundle_size;
		result->parts = p.nparts;
		snprintf(result->index, sizeof(result->index), "%s", out[p.nparts].path);
	}
out:
	outputs_free(out, out != NULL ? p.nparts + 2 : 0, rc != FOLIO_OK);
	free((void *)names);
	free(p.parts);
	free(p.channel);
	free(json);
	free(sig);
	free(comment);
	folio_bundle_free(b);
	close(fd);
	return rc;
}

/* ---- reading an index ------------------------------------------------------------- */

void folio_parts_free(folio_parts *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; p->parts != NULL && i < p->nparts; i++) {
		free(p->parts[i].name);
		free(p->parts[i].path);
	}
	free(p->parts);
	free(p->index);
	free(p->dir);
	free(p->channel);
	free(p->base);
	free(p);
}

const char *folio_parts_channel(const folio_parts *p) { return p->channel; }
uint64_t folio_parts_edition(const folio_parts *p) { return p->edition; }
uint64_t folio_parts_bundle_size(const folio_parts *p) { return p->bundle_size; }
size_t folio_parts_count(const folio_parts *p) { return p->nparts; }

/* Exactly the fields named, no other. */
static int exact_fields(struct folio_decoder *d, json_t *o, size_t n, const char *what)
{
	if (json_object_size(o) != n)
		return folio_decode_fail(d, "%s has fields other than the %zu it may have", what, n);
	return FOLIO_OK;
}

static int decode_hash(struct folio_decoder *d, json_t *o, const char *key, uint8_t out[FOLIO_HASH_BYTES],
		       const char *what)
{
	const char *hex;
	int rc = folio_decode_string(d, o, key, 2 * FOLIO_HASH_BYTES, &hex);
	if (rc == FOLIO_OK && folio_unhex(out, FOLIO_HASH_BYTES, hex) != 0)
		rc = folio_decode_fail(d, "%s '%s' is not 64 lower-case hex digits", what, key);
	return rc;
}

static int decode_part(struct folio_decoder *d, json_t *o, size_t i, struct folio_parts *p)
{
	struct part *pt = &p->parts[i];
	const char *name;
	int rc;
	if (!json_is_object(o))
		return folio_decode_fail(d, "part %zu is not an object", i + 1);
	if ((rc = exact_fields(d, o, 3, "a part")) ||
	    (rc = folio_decode_string(d, o, "name", NAME_MAX_BYTES, &name)) ||
	    (rc = folio_decode_uint(d, o, "size", 1, JSON_SAFE_MAX, &pt->size, NULL)) ||
	    (rc = decode_hash(d, o, "blake2b", pt->hash, "the part's")))
		return rc;
	size_t len = strlen(name), suffix = 5 + p->width;
	if (i == 0) {
		if (len <= suffix || (p->base = strndup(name, len - suffix)) == NULL || !safe_base(p->base))
			return folio_decode_fail(d, "part name '%s' is not NAME.part%0*d", name, (int)p->width, 1);
	}
	char want[NAME_MAX_BYTES + 32];
	snprintf(want, sizeof(want), "%s.part%0*zu", p->base, (int)p->width, i + 1);
	if (strcmp(name, want) != 0)
		return folio_decode_fail(d, "part %zu is named '%s', not '%s'", i + 1, name, want);
	bool last = i + 1 == p->nparts;
	if (last ? pt->size > p->part_size : pt->size != p->part_size)
		return folio_decode_fail(d, "part '%s' has %llu bytes, not %s%llu", name,
					 (unsigned long long)pt->size, last ? "at most " : "",
					 (unsigned long long)p->part_size);
	if ((pt->name = strdup(name)) == NULL)
		return folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
	pt->state = FOLIO_PART_MISSING;
	return FOLIO_OK;
}

static int decode_index(struct folio_decoder *d, const char *json, size_t len, struct folio_parts *p)
{
	json_error_t err;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return folio_decode_fail(d, "not valid JSON: %s at line %d", err.text, err.line);
	const char *format, *channel;
	json_t *bundle, *list;
	int rc = FOLIO_OK;
	if (!json_is_object(root)) {
		rc = folio_decode_fail(d, "not a JSON object");
		goto out;
	}
	if ((rc = folio_decode_string(d, root, "format", 32, &format)))
		goto out;
	if (strcmp(format, PARTS_FORMAT_NAME) != 0) {
		rc = folio_decode_fail(d, "unknown format '%s'", format);
		goto out;
	}
	if ((rc = exact_fields(d, root, 7, "the index")) ||
	    (rc = folio_decode_string(d, root, "channel", FOLIO_CHANNEL_MAX, &channel)))
		goto out;
	if (!folio_channel_valid(channel)) {
		rc = folio_decode_fail(d, "bad channel name '%s'", channel);
		goto out;
	}
	if ((rc = folio_decode_uint(d, root, "edition", 1, JSON_SAFE_MAX, &p->edition, NULL)) ||
	    (rc = decode_hash(d, root, "manifest", p->manifest, "the index's")) ||
	    (rc = folio_decode_uint(d, root, "part_size", 1, JSON_SAFE_MAX, &p->part_size, NULL)))
		goto out;
	bundle = json_object_get(root, "bundle");
	if (!json_is_object(bundle)) {
		rc = folio_decode_fail(d, "field 'bundle' is missing or not an object");
		goto out;
	}
	if ((rc = exact_fields(d, bundle, 2, "'bundle'")) ||
	    (rc = folio_decode_uint(d, bundle, "size", 1, JSON_SAFE_MAX, &p->bundle_size, NULL)) ||
	    (rc = decode_hash(d, bundle, "blake2b", p->bundle_hash, "the bundle's")))
		goto out;
	list = json_object_get(root, "parts");
	if (!json_is_array(list)) {
		rc = folio_decode_fail(d, "field 'parts' is missing or not an array");
		goto out;
	}
	size_t n = json_array_size(list);
	if (n < 1 || n > FOLIO_PARTS_MAX) {
		rc = folio_decode_fail(d, "%zu parts: an index has 1 to %d", n, FOLIO_PARTS_MAX);
		goto out;
	}
	if ((p->bundle_size - 1) / p->part_size + 1 != n) {
		rc = folio_decode_fail(d, "%zu parts of %llu bytes cannot hold a bundle of %llu bytes", n,
				       (unsigned long long)p->part_size, (unsigned long long)p->bundle_size);
		goto out;
	}
	p->parts = calloc(n, sizeof(*p->parts));
	if (p->parts == NULL) {
		rc = folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
		goto out;
	}
	p->nparts = n;
	p->width = part_width(n);
	uint64_t sum = 0;
	for (size_t i = 0; i < n && rc == FOLIO_OK; i++) {
		rc = decode_part(d, json_array_get(list, i), i, p);
		if (rc == FOLIO_OK)
			sum += p->parts[i].size;
	}
	if (rc == FOLIO_OK && sum != p->bundle_size)
		rc = folio_decode_fail(d, "the parts hold %llu bytes, the bundle %llu",
				       (unsigned long long)sum, (unsigned long long)p->bundle_size);
	if (rc == FOLIO_OK && (p->channel = strdup(channel)) == NULL)
		rc = folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
out:
	json_decref(root);
	return rc;
}

/* The channel a parts signature's trusted comment names, to choose the
 * library's key by (the comment is checked against the index later). */
static int comment_channel(folio_ctx *ctx, const char *name, const struct folio_sig *s,
			   char channel[FOLIO_CHANNEL_MAX + 1])
{
	static const char head[] = PARTS_FORMAT_NAME " channel:";
	const char *c = s->comment;
	if (strncmp(c, head, sizeof(head) - 1) != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': its trusted comment is not that of a parts index", name);
	c += sizeof(head) - 1;
	size_t n = strcspn(c, " ");
	if (n > FOLIO_CHANNEL_MAX)
		n = FOLIO_CHANNEL_MAX; /* then it is not valid: refused below */
	memcpy(channel, c, n);
	channel[n] = '\0';
	if (!folio_channel_valid(channel))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': its trusted comment names no valid channel", name);
	return FOLIO_OK;
}

/* The first copy of the part named name beside the index or in places
 * (folders, or files of that name), malloc'd; NULL when none is here. */
static char *locate(const folio_parts *p, const char *const *places, size_t n, const char *name)
{
	struct stat st;
	for (size_t j = 0; j <= n; j++) {
		char *path;
		if (j == 0)
			path = join(p->dir, name);
		else if (stat(places[j - 1], &st) == 0 && S_ISDIR(st.st_mode))
			path = join(places[j - 1], name);
		else if (strcmp(base_name(places[j - 1]), name) == 0)
			path = strdup(places[j - 1]);
		else
			continue;
		if (path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return path;
		free(path);
	}
	return NULL;
}

/* Appends the file at path to fd; *total counts the bytes in fd. */
static int append_file(folio_ctx *ctx, int fd, const char *path, const char *tmp, char *buf, uint64_t *total)
{
	int in = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return folio_fail_errno(ctx, errno, "cannot read '%s'", path);
	int rc = FOLIO_OK;
	for (;;) {
		size_t got;
		if (read_full(in, buf, COPY_BUF, &got) != 0)
			rc = folio_fail_errno(ctx, errno, "cannot read '%s'", path);
		else if (folio_write_all(fd, buf, got) != 0)
			rc = folio_fail_errno(ctx, errno, "cannot write '%s'", tmp);
		else
			*total += got;
		if (rc != FOLIO_OK || got < COPY_BUF)
			break;
	}
	close(in);
	return rc;
}

/* Tiny parts: the head may run past part 1.  Parts 1 to 2, 4, 8, ... are
 * joined into a temporary file, while they are here and the head's limits
 * are not passed, and each join is tried.  On failure ctx keeps the last
 * join's word, or part 1's when no join could be tried. */
static int key_from_joined(folio_parts *p, folio_library *lib, const char *channel, const char *key_id,
			   const char *const *places, size_t n, const char *stem, unsigned width,
			   size_t nparts, struct folio_head_key *hk)
{
	folio_ctx *ctx = p->ctx;
	uint64_t cap = ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE] + 2 * FOLIO_SIGNATURE_MAX + FOLIO_KEYS_MAX +
		       FOLIO_BUNDLE_INFO_MAX + COPY_BUF, joined = 0;
	char msg[2048];
	snprintf(msg, sizeof(msg), "%s", folio_errmsg(ctx));
	int failed = folio_errcode(ctx), rc = FOLIO_OK, fd = -1;
	bool verified = false;
	const char *dir = getenv("TMPDIR");
	char *tmp = NULL, *buf = malloc(COPY_BUF);
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (buf == NULL || asprintf(&tmp, "%s/folio-head-XXXXXX", dir) < 0) {
		tmp = NULL;
		rc = folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", p->index);
	} else if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = folio_fail_errno(ctx, errno, "cannot write '%s'", tmp);
		free(tmp);
		tmp = NULL;
	}
	size_t have = 0;
	for (size_t want = 2; rc == FOLIO_OK && !verified && have < nparts && joined < cap; want *= 2) {
		size_t before = have;
		while (rc == FOLIO_OK && have < want && have < nparts && joined < cap) {
			char name[NAME_MAX_BYTES + 32];
			snprintf(name, sizeof(name), "%s.part%0*zu", stem, (int)width, have + 1);
			char *part = locate(p, places, n, name);
			if (part == NULL)
				break;
			rc = append_file(ctx, fd, part, tmp, buf, &joined);
			free(part);
			have++;
		}
		if (rc != FOLIO_OK || have == before)
			break; /* the next part is not here: nothing more to try */
		rc = folio_library_head_key(lib, ctx, p->index, tmp, channel, key_id, hk);
		verified = rc == FOLIO_OK;
		if (verified)
			break;
		char what[NAME_MAX_BYTES + 64];
		snprintf(what, sizeof(what), "%s.part%0*u to %s.part%0*zu, joined", stem, (int)width, 1u, stem,
			 (int)width, have);
		failed = renamed_failure(ctx, rc, tmp, what);
		snprintf(msg, sizeof(msg), "%s", folio_errmsg(ctx));
		rc = FOLIO_OK;
		if (hk->head_read || failed == FOLIO_ESYSTEM)
			break; /* a whole head said no, or the system failed: that word stands */
	}
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(buf);
	if (rc != FOLIO_OK || verified)
		return rc;
	return folio_fail(ctx, failed, "%s", msg);
}

/* The index is signed by a key the library does not know yet: the first
 * edition of a channel that delegates signing (section 15), whose key list
 * comes with the bundle.  The bundle's head (manifest, signature, key list)
 * is at its start, in frame 1: part 1 holds it, or with tiny parts the
 * first few, joined.  The parts are found by the names the index's own
 * name gives (NAME.parts: NAME.partNNN, NNN as wide as the signed comment's
 * count of parts makes it), not by the index, which is not read before its
 * signature verifies.  The head needs no trust in them: it verifies on its
 * own, with the library's roots. */
static int key_from_head(folio_parts *p, folio_library *lib, const struct folio_sig *s, const char *channel,
			 const char *key_id, const char *const *places, size_t n, struct folio_head_key *hk)
{
	folio_ctx *ctx = p->ctx;
	memset(hk, 0, sizeof(*hk));
	const char *index = base_name(p->index), *count = strstr(s->comment, " parts:");
	size_t ilen = strlen(index);
	unsigned long long nparts = count != NULL ? strtoull(count + 7, NULL, 10) : 0;
	if (nparts < 1 || nparts > FOLIO_PARTS_MAX)
		nparts = 1;
	if (ilen <= 6 || strcmp(index + ilen - 6, ".parts") != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': signed by key %s, which the library does not know yet; "
				  "the key list that names it comes with part 1, found by the index's name: "
				  "NAME.parts, its parts NAME.partNNN", p->index, key_id);
	char *stem = strndup(index, ilen - 6), name[NAME_MAX_BYTES + 32];
	if (stem == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", p->index);
	unsigned width = part_width((size_t)nparts);
	snprintf(name, sizeof(name), "%s.part%0*u", stem, (int)width, 1u);
	char *first = locate(p, places, n, name);
	int rc;
	struct stat st;
	if (first == NULL)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': signed by key %s, which the library does not know yet; the "
				"key list that names it comes with part 1, '%s', which is not here: the index's key "
				"cannot be checked until part 1 is here", p->index, key_id, name);
	else
		rc = folio_library_head_key(lib, ctx, p->index, first, channel, key_id, hk);
	/* no whole head in part 1: with tiny parts, it goes on in the next */
	bool partial_head = rc != FOLIO_OK && first != NULL && !hk->head_read &&
			    folio_errcode(ctx) != FOLIO_ESYSTEM;
	if (partial_head && nparts > 1 && stat(first, &st) == 0 &&
	    (uint64_t)st.st_size < ctx->limits[FOLIO_LIMIT_MANIFEST_SIZE] + FOLIO_KEYS_MAX)
		rc = key_from_joined(p, lib, channel, key_id, places, n, stem, width, (size_t)nparts, hk);
	if (rc != FOLIO_OK && partial_head && !hk->head_read && folio_errcode(ctx) != FOLIO_ESYSTEM) {
		char msg[2048];
		snprintf(msg, sizeof(msg), "%s", folio_errmsg(ctx));
		rc = folio_fail(ctx, rc, "cannot verify '%s': signed by key %s, which the library does not know "
				"yet; the bundle's head, whose key list would name it, is not whole and good in "
				"the first parts here (%s)", p->index, key_id, msg);
	}
	free(first);
	free(stem);
	return rc;
}

int folio_parts_open(folio_ctx *ctx, const char *path, const folio_pubkey *key, folio_library *lib,
		     const char *const *places, size_t nplaces, folio_parts **out)
{
	folio_clear_error(ctx);
	*out = NULL;
	if (path == NULL || (key == NULL && lib == NULL))
		return folio_fail(ctx, FOLIO_EUSAGE, "a parts index and a public key or library are needed");
	char *json = NULL, *sig = NULL, *sig_path = NULL, *comment = NULL;
	size_t len = 0, siglen = 0;
	folio_parts *p = calloc(1, sizeof(*p));
	if (p == NULL || asprintf(&sig_path, "%s.minisig", path) < 0) {
		free(p);
		return folio_fail_errno(ctx, ENOMEM, "cannot read '%s'", path);
	}
	p->ctx = ctx;
	p->index = strdup(path);
	p->dir = dir_name(path);
	int rc = p->index == NULL || p->dir == NULL ? folio_fail_errno(ctx, ENOMEM, "cannot read '%s'", path)
						      : FOLIO_OK;
	if (rc == FOLIO_OK)
		rc = folio_read_small_file(ctx, path, FOLIO_PARTS_INDEX_MAX, &json, &len);
	if (rc == FOLIO_OK) {
		struct stat st;
		if (stat(sig_path, &st) != 0 && errno == ENOENT)
			rc = folio_fail(ctx, FOLIO_EREJECT, "cannot verify '%s': its signature '%s' is missing",
					path, sig_path);
		else
			rc = folio_read_small_file(ctx, sig_path, FOLIO_SIGNATURE_MAX, &sig, &siglen);
	}
	struct folio_sig s;
	if (rc == FOLIO_OK)
		rc = folio_sig_parse(ctx, path, sig, siglen, &s);
	folio_pubkey chosen;
	struct folio_head_key hk;
	bool from_head = false;
	char id[17];
	if (rc == FOLIO_OK && key == NULL) {
		char channel[FOLIO_CHANNEL_MAX + 1];
		bool unknown = false;
		folio_keyid_format(id, s.keyid);
		rc = comment_channel(ctx, path, &s, channel);
		if (rc == FOLIO_OK)
			rc = folio_library_key(lib, ctx, path, channel, id, &chosen, &unknown);
		if (rc != FOLIO_OK && unknown) {
			rc = key_from_head(p, lib, &s, channel, id, places, nplaces, &hk);
			from_head = rc == FOLIO_OK;
			if (from_head)
				chosen = hk.key;
		}
		key = &chosen;
	}
	/* Nothing of the index is read before its signature verifies. */
	if (rc == FOLIO_OK)
		rc = folio_sig_verify(ctx, path, &s, key, json, len);
	struct folio_decoder d = {ctx, path, "parts index"};
	if (rc == FOLIO_OK)
		rc = decode_index(&d, json, len, p);
	if (rc == FOLIO_OK && (comment = parts_comment(p->channel, p->edition, p->nparts)) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", path);
	if (rc == FOLIO_OK && strcmp(comment, s.comment) != 0)
		rc = folio_decode_fail(&d, "trusted comment does not match the index");
	/* A key vouched for by a bundle's head signs that bundle's index only
	 * (no index matched with another bundle's part 1), and only editions
	 * its range holds. */
	if (rc == FOLIO_OK && from_head && sodium_memcmp(p->manifest, hk.manifest, sizeof(hk.manifest)) != 0)
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': it is not the index of the bundle whose part 1 is here (its "
				"manifest is another); get the index and the parts of one bundle", path);
	if (rc == FOLIO_OK && from_head && (p->edition < hk.first || p->edition > hk.last))
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot verify '%s': edition %llu is outside the editions key %s may sign "
				"(%llu to %llu)", path, (unsigned long long)p->edition, id,
				(unsigned long long)hk.first, (unsigned long long)hk.last);
	free(comment);
	free(json);
	free(sig);
	free(sig_path);
	if (rc != FOLIO_OK) {
		folio_parts_free(p);
		return rc;
	}
	*out = p;
	return FOLIO_OK;
}

/* ---- finding the parts ---------------------------------------------------------------- */

int folio_parts_part(const folio_parts *p, size_t i, struct folio_part_info *out)
{
	if (i >= p->nparts)
		return FOLIO_EUSAGE;
	const struct part *pt = &p->parts[i];
	out->name = pt->name;
	out->size = pt->size;
	out->state = pt->state;
	out->path = pt->path;
	out->problem = pt->problem;
	return FOLIO_OK;
}

size_t folio_parts_good(const folio_parts *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nparts; i++)
		n += p->parts[i].state == FOLIO_PART_GOOD;
	return n;
}

/* The part a file name is, or nparts for none. */
static size_t part_of(const folio_parts *p, const char *name)
{
	size_t blen = strlen(p->base);
	if (strncmp(name, p->base, blen) != 0 || strncmp(name + blen, ".part", 5) != 0)
		return p->nparts;
	const char *digits = name + blen + 5;
	if (strlen(digits) != p->width || strspn(digits, "0123456789") != p->width)
		return p->nparts;
	size_t n = (size_t)strtoul(digits, NULL, 10);
	return n >= 1 && n <= p->nparts ? n - 1 : p->nparts;
}

/* Checks the copy of part i at path: size, then BLAKE2b-256. */
static void try_copy(folio_parts *p, size_t i, const char *path, char *buf)
{
	struct part *pt = &p->parts[i];
	if (pt->state == FOLIO_PART_GOOD)
		return;
	char problem[sizeof(pt->problem)] = "";
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return;
	if (fd < 0) {
		snprintf(problem, sizeof(problem), "cannot be read: %s", strerror(errno));
	} else if (fstat(fd, &st) != 0) {
		snprintf(problem, sizeof(problem), "cannot be read: %s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(problem, sizeof(problem), "not a regular file");
	} else if ((uint64_t)st.st_size != pt->size) {
		snprintf(problem, sizeof(problem), "it has %llu bytes, not %llu",
			 (unsigned long long)st.st_size, (unsigned long long)pt->size);
	} else {
		crypto_generichash_state h;
		crypto_generichash_init(&h, NULL, 0, FOLIO_HASH_BYTES);
		uint64_t done = 0;
		while (done < pt->size) {
			size_t got;
			size_t want = pt->size - done < COPY_BUF ? (size_t)(pt->size - done) : COPY_BUF;
			if (read_full(fd, buf, want, &got) != 0 || got != want) {
				snprintf(problem, sizeof(problem), "cannot be read: %s",
					 got != want ? "it got shorter" : strerror(errno));
				break;
			}
			crypto_generichash_update(&h, (const unsigned char *)buf, got);
			done += got;
		}
		uint8_t hash[FOLIO_HASH_BYTES];
		crypto_generichash_final(&h, hash, sizeof(hash));
		if (problem[0] == '\0' && sodium_memcmp(hash, pt->hash, sizeof(hash)) != 0)
			snprintf(problem, sizeof(problem), "its bytes differ from the index (BLAKE2b)");
	}
	if (fd >= 0)
		close(fd);
	if (problem[0] != '\0' && pt->state == FOLIO_PART_DAMAGED)
		return; /* the first damaged copy is the one reported */
	char *copy = strdup(path);
	if (copy == NULL)
		return; /* counts as not found */
	free(pt->path);
	pt->path = copy;
	pt->state = problem[0] == '\0' ? FOLIO_PART_GOOD : FOLIO_PART_DAMAGED;
	snprintf(pt->problem, sizeof(pt->problem), "%s", problem);
}

/* Looks in folder dir for every part not found good yet. */
static int try_folder(folio_parts *p, const char *dir, char *buf)
{
	for (size_t i = 0; i < p->nparts; i++) {
		if (p->parts[i].state == FOLIO_PART_GOOD)
			continue;
		char *path = join(dir, p->parts[i].name);
		if (path == NULL)
			return folio_fail_errno(p->ctx, ENOMEM, "cannot look for the parts of '%s'", p->index);
		try_copy(p, i, path, buf);
		free(path);
	}
	return FOLIO_OK;
}

int folio_parts_find(folio_parts *p, const char *const *places, size_t n)
{
	folio_ctx *ctx = p->ctx;
	folio_clear_error(ctx);
	for (size_t j = 0; j < n; j++) {
		struct stat st;
		if (stat(places[j], &st) != 0)
			return errno == ENOENT ? folio_fail(ctx, FOLIO_EUSAGE, "cannot look in '%s': it does not exist",
							    places[j])
					       : folio_fail_errno(ctx, errno, "cannot look in '%s'", places[j]);
	}
	char *buf = malloc(COPY_BUF);
	if (buf == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot look for the parts of '%s'", p->index);
	for (size_t i = 0; i < p->nparts; i++) {
		struct part *pt = &p->parts[i];
		free(pt->path);
		pt->path = NULL;
		pt->state = FOLIO_PART_MISSING;
		pt->problem[0] = '\0';
	}
	int rc = try_folder(p, p->dir, buf);
	for (size_t j = 0; j < n && rc == FOLIO_OK; j++) {
		struct stat st;
		if (stat(places[j], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = try_folder(p, places[j], buf);
			continue;
		}
		size_t i = part_of(p, base_name(places[j]));
		if (i < p->nparts)
			try_copy(p, i, places[j], buf);
	}
	free(buf);
	p->found = rc == FOLIO_OK;
	return rc;
}

/* ---- installing from parts -------------------------------------------------------------- */

/* Copies the good parts into fd, in order, checking each again. */
static int assemble(folio_ctx *ctx, folio_parts *p, int fd, const char *tmp)
{
	char *buf = malloc(COPY_BUF);
	if (buf == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", tmp);
	crypto_generichash_state all;
	crypto_generichash_init(&all, NULL, 0, FOLIO_HASH_BYTES);
	int rc = FOLIO_OK;
	bool complete = true;
	for (size_t i = 0; i < p->nparts && rc == FOLIO_OK; i++) {
		struct part *pt = &p->parts[i];
		if (pt->state != FOLIO_PART_GOOD) {
			complete = false;
			continue;
		}
		int in = open(pt->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (in < 0) {
			rc = folio_fail_errno(ctx, errno, "cannot read '%s'", pt->path);
			break;
		}
		crypto_generichash_state one;
		crypto_generichash_init(&one, NULL, 0, FOLIO_HASH_BYTES);
		for (uint64_t done = 0; done < pt->size && rc == FOLIO_OK;) {
			size_t want = pt->size - done < COPY_BUF ? (size_t)(pt->size - done) : COPY_BUF, got;
			if (read_full(in, buf, want, &got) != 0)
				rc = folio_fail_errno(ctx, errno, "cannot read '%s'", pt->path);
			else if (got != want)
				rc = folio_fail(ctx, FOLIO_EREJECT, "cannot install '%s': part '%s' changed while "
						"it was read", p->index, pt->path);
			else if (folio_write_all(fd, buf, got) != 0)
				rc = folio_fail_errno(ctx, errno, "cannot write '%s'", tmp);
			if (rc == FOLIO_OK) {
				crypto_generichash_update(&one, (const unsigned char *)buf, got);
				crypto_generichash_update(&all, (const unsigned char *)buf, got);
				done += got;
			}
		}
		close(in);
		uint8_t hash[FOLIO_HASH_BYTES];
		crypto_generichash_final(&one, hash, sizeof(hash));
		if (rc == FOLIO_OK && sodium_memcmp(hash, pt->hash, sizeof(hash)) != 0)
			rc = folio_fail(ctx, FOLIO_EREJECT, "cannot install '%s': part '%s' changed while it "
					"was read", p->index, pt->path);
	}
	uint8_t whole[FOLIO_HASH_BYTES];
	crypto_generichash_final(&all, whole, sizeof(whole));
	if (rc == FOLIO_OK && complete && sodium_memcmp(whole, p->bundle_hash, sizeof(whole)) != 0)
		rc = folio_fail(ctx, FOLIO_EREJECT, "cannot install '%s': the parts do not make the bundle "
				"the index describes", p->index);
	free(buf);
	return rc;
}

int folio_library_install_parts(folio_library *lib, folio_parts *p, const struct folio_install_options *o,
				struct folio_install_result *result)
{
	folio_ctx *ctx = folio_library_ctx(lib);
	folio_clear_error(ctx);
	if (!p->found)
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot install '%s': its parts were not looked for",
				  p->index);
	size_t good = folio_parts_good(p);
	if (good < p->nparts && (o == NULL || !o->partial)) {
		struct folio_buf b = {0};
		size_t listed = 0;
		for (size_t i = 0; i < p->nparts; i++) {
			if (p->parts[i].state == FOLIO_PART_GOOD)
				continue;
			if (listed++ == 10) {
				folio_buf_add(&b, ", ...");
				break;
			}
			folio_buf_add(&b, listed > 1 ? ", " : "");
			folio_buf_add(&b, p->parts[i].name);
			folio_buf_add(&b, p->parts[i].state == FOLIO_PART_MISSING ? " (missing)" : " (damaged)");
		}
		int rc = folio_fail(ctx, FOLIO_EREJECT,
				    "cannot install '%s': %zu of its %zu parts %s missing or damaged: %s; "
				    "get them again (or install what there is with --partial)",
				    p->index, p->nparts - good, p->nparts, p->nparts - good == 1 ? "is" : "are",
				    b.oom ? "(out of memory)" : b.p);
		free(b.p);
		return rc;
	}
	if (good == 0)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot install '%s': none of its %zu parts is here and good",
				  p->index, p->nparts);
	int fd;
	char *tmp;
	int rc = folio_library_temp(lib, "parts", &fd, &tmp);
	if (rc != FOLIO_OK)
		return rc;
	rc = assemble(ctx, p, fd, tmp);
	if (rc == FOLIO_OK) {
		rc = folio_library_install(lib, tmp, o, result);
		if (rc != FOLIO_OK)
			rc = renamed_failure(ctx, rc, tmp, p->index);
	}
	unlink(tmp);
	close(fd); /* after the unlink: no sweep may take it while it is named */
	free(tmp);
	return rc;
}
