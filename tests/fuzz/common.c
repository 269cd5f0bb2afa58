/* SPDX-License-Identifier: ISC */
/* Helpers shared by the fuzz harnesses: the test key, the context, the
 * checks every failure must pass, and the whole unpack path on bytes. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

const char fuzz_test_pub[] =
	"untrusted comment: minisign public key 6100CC97C9C90BEA\n"
	"RWTqC8nJl8wAYQy81OOXlYU/L1ItlVaHV3Ev8PB5A64b9eZz2DVQKWq6\n";

/* Small enough that one input costs milliseconds, not a full tmpfs; the
 * zstd window keeps its default, which folio-pack's bundles use. */
static const struct {
	enum folio_limit which;
	uint64_t value;
} unpack_limits[] = {
	{FOLIO_LIMIT_MANIFEST_SIZE, 1u << 20},
	{FOLIO_LIMIT_FILE_SIZE, 1u << 20},
	{FOLIO_LIMIT_TOTAL_SIZE, 4u << 20},
	{FOLIO_LIMIT_FILE_COUNT, 4096},
};

static folio_ctx *ctx;
static folio_pubkey *test_key;
static char *scratch; /* this process's scratch directory */

_Noreturn void fuzz_abort(const char *file, int line, const char *what)
{
	fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", file, line, what);
	if (ctx != NULL && folio_errmsg(ctx)[0] != '\0')
		fprintf(stderr, "fuzz: last message: %s\n", folio_errmsg(ctx));
	abort();
}

void fuzz_note(const char *fmt, ...)
{
	static int debug = -1;
	if (debug < 0)
		debug = getenv("FUZZ_DEBUG") != NULL && strcmp(getenv("FUZZ_DEBUG"), "1") == 0;
	if (!debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

folio_ctx *fuzz_ctx(void)
{
	if (ctx == NULL) {
		ctx = folio_new();
		FUZZ_ASSERT(ctx != NULL);
	}
	folio_clear_error(ctx);
	return ctx;
}

const folio_pubkey *fuzz_test_key(void)
{
	if (test_key == NULL) {
		int rc = folio_pubkey_parse(fuzz_ctx(), "test.pub", fuzz_test_pub,
					    strlen(fuzz_test_pub), &test_key);
		FUZZ_ASSERT(rc == FOLIO_OK);
	}
	return test_key;
}

void fuzz_check_failure(folio_ctx *c, int rc, const int *allowed)
{
	bool known = false;
	for (; *allowed != 0; allowed++)
		known |= rc == *allowed;
	if (!known)
		fprintf(stderr, "fuzz: unexpected code %d: %s\n", rc, folio_errmsg(c));
	FUZZ_ASSERT(known);
	FUZZ_ASSERT(folio_errcode(c) == rc);
	fuzz_note("%d: %s", rc, folio_errmsg(c));
	const char *msg = folio_errmsg(c);
	FUZZ_ASSERT(msg[0] != '\0');
	for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

/* ---- scratch space ---------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_scratch(void)
{
	if (scratch != NULL)
		nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* FUZZ_TMPDIR, else /dev/shm (tmpfs: no disk writes), else TMPDIR or /tmp. */
static const char *scratch_dir(void)
{
	if (scratch != NULL)
		return scratch;
	const char *base = getenv("FUZZ_TMPDIR");
	if (base == NULL)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	if (base == NULL)
		base = "/tmp";
	size_t size = strlen(base) + 32;
	scratch = malloc(size);
	FUZZ_ASSERT(scratch != NULL);
	snprintf(scratch, size, "%s/folio-fuzz-XXXXXX", base);
	FUZZ_ASSERT(mkdtemp(scratch) != NULL);
	atexit(remove_scratch);
	return scratch;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	FUZZ_ASSERT(d != NULL);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static size_t tree_files;

static int count_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	/* only folders and regular files, ever */
	FUZZ_ASSERT(type == FTW_F || type == FTW_D);
	FUZZ_ASSERT(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode));
	tree_files += S_ISREG(st->st_mode);
	return 0;
}

/* A successful unpack wrote exactly the manifest's files but the missing
 * ones (a layer, a delta), the two under .folio/ (four with a key list) and
 * .folio/missing when files are missing, each regular, with its declared
 * size and mode. */
static void check_unpacked(folio_bundle *b, const char *dest)
{
	int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	FUZZ_ASSERT(dfd >= 0);
	size_t n = folio_bundle_file_count(b), nmissing = folio_bundle_missing_count(b);
	for (size_t i = 0; i < n; i++) {
		const char *path;
		uint64_t size;
		unsigned mode;
		FUZZ_ASSERT(folio_bundle_file(b, i, &path, &size, NULL, NULL, &mode) == FOLIO_OK);
		struct stat st;
		bool missing = false;
		for (size_t k = 0; k < nmissing && !missing; k++)
			missing = strcmp(folio_bundle_missing(b, k), path) == 0;
		if (missing) {
			FUZZ_ASSERT(fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0);
			continue;
		}
		FUZZ_ASSERT(fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
		FUZZ_ASSERT(S_ISREG(st.st_mode));
		FUZZ_ASSERT((uint64_t)st.st_size == size);
		FUZZ_ASSERT((st.st_mode & 07777) == mode);
	}
	size_t mlen;
	folio_bundle_manifest_json(b, &mlen);
	struct stat st;
	FUZZ_ASSERT(fstatat(dfd, FOLIO_MANIFEST_PATH, &st, AT_SYMLINK_NOFOLLOW) == 0);
	FUZZ_ASSERT(S_ISREG(st.st_mode) && (uint64_t)st.st_size == mlen);
	/* and the key list with its signature, when the bundle carries one */
	size_t klen = 0;
	if (folio_bundle_keylist_json(b, &klen) != NULL) {
		FUZZ_ASSERT(fstatat(dfd, FOLIO_KEYS_PATH, &st, AT_SYMLINK_NOFOLLOW) == 0);
		FUZZ_ASSERT(S_ISREG(st.st_mode) && (uint64_t)st.st_size == klen);
		FUZZ_ASSERT(fstatat(dfd, FOLIO_KEYS_SIGNATURE_PATH, &st, AT_SYMLINK_NOFOLLOW) == 0);
	}
	FUZZ_ASSERT((fstatat(dfd, FOLIO_MISSING_PATH, &st, AT_SYMLINK_NOFOLLOW) == 0) == (nmissing > 0));
	close(dfd);
	tree_files = 0;
	FUZZ_ASSERT(nftw(dest, count_file, 16, FTW_PHYS) == 0);
	FUZZ_ASSERT(tree_files == n - nmissing + 2 + (folio_bundle_keys_version(b) > 0 ? 2 : 0) +
				  (nmissing > 0));
}

/* Opens the bundle; on failure checks the failure and returns NULL. */
static folio_bundle *open_bundle(folio_ctx *c, const char *path)
{
	static const int reject_only[] = {FOLIO_EREJECT, 0};
	folio_bundle *b = NULL;
	int rc = folio_bundle_open(c, path, fuzz_test_key(), NULL, &b);
	if (rc != FOLIO_OK) {
		FUZZ_ASSERT(b == NULL);
		fuzz_check_failure(c, rc, reject_only);
		return NULL;
	}
	/* the getters of an open bundle describe a sane edition */
	FUZZ_ASSERT(folio_channel_valid(folio_bundle_channel(b)));
	FUZZ_ASSERT(folio_bundle_title(b) != NULL);
	FUZZ_ASSERT(folio_bundle_edition(b) >= 1);
	FUZZ_ASSERT(folio_bundle_expires(b) > folio_bundle_created(b));
	/* the chain starts at the trusted key; with a key list, the list is
	 * signed by it and names the key that signed the manifest */
	FUZZ_ASSERT(strcmp(folio_bundle_root_id(b), folio_pubkey_id(fuzz_test_key())) == 0);
	if (folio_bundle_keys_version(b) == 0) {
		FUZZ_ASSERT(strcmp(folio_bundle_key_id(b), folio_pubkey_id(fuzz_test_key())) == 0);
		FUZZ_ASSERT(folio_bundle_keylist(b) == NULL);
	} else {
		const struct folio_keylist *kl = folio_bundle_keylist(b);
		uint64_t first, last;
		FUZZ_ASSERT(kl != NULL);
		FUZZ_ASSERT(strcmp(folio_keylist_channel(kl), folio_bundle_channel(b)) == 0);
		FUZZ_ASSERT(folio_keylist_find(kl, folio_bundle_key_id(b), &first, &last, NULL) != NULL);
		FUZZ_ASSERT(first <= folio_bundle_edition(b) && folio_bundle_edition(b) <= last);
	}
	return b;
}

void fuzz_unpack(const uint8_t *bundle, size_t size)
{
	static const int reject_only[] = {FOLIO_EREJECT, 0};
	folio_ctx *c = fuzz_ctx();
	for (size_t i = 0; i < sizeof(unpack_limits) / sizeof(unpack_limits[0]); i++)
		FUZZ_ASSERT(folio_set_limit(c, unpack_limits[i].which, unpack_limits[i].value) == 0);
	const char *dir = scratch_dir();

	/* the bundle as a file only this process sees, never on disk */
	int fd = memfd_create("bundle", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0);
	for (size_t done = 0; done < size;) {
		ssize_t w = write(fd, bundle + done, size - done);
		FUZZ_ASSERT(w > 0);
		done += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	size_t dlen = strlen(dir) + 8;
	char *dest = malloc(dlen);
	FUZZ_ASSERT(dest != NULL);
	snprintf(dest, dlen, "%s/out", dir);

	/* 1: verify, writing nothing */
	folio_bundle *b = open_bundle(c, path);
	if (b == NULL)
		goto out;
	int verified = folio_bundle_verify(b);
	char verdict[sizeof(c->msg)];
	snprintf(verdict, sizeof(verdict), "%s", folio_errmsg(c));
	if (verified != FOLIO_OK)
		fuzz_check_failure(c, verified, reject_only);
	/* an incomplete edition (a delta, a layer, a patch verify could not
	 * apply) may be judged otherwise by unpack, which writes what it has
	 * and so can apply patches against contents of the bundle */
	bool incomplete = folio_bundle_missing_count(b) > 0;
	folio_bundle_free(b);

	/* 2: unpack into a new folder: the same verdict (but for an incomplete
	 * edition), and nothing written on failure */
	b = open_bundle(c, path);
	FUZZ_ASSERT(b != NULL);
	int rc = folio_bundle_unpack(b, dest, 0);
	if (rc != FOLIO_OK || verified != FOLIO_OK) {
		if (rc != verified && !incomplete)
			fprintf(stderr, "fuzz: verify said: %s\nfuzz: unpack said: %s\n",
				verdict, folio_errmsg(c));
		FUZZ_ASSERT(rc == verified || incomplete);
		if (rc != FOLIO_OK) {
			fuzz_check_failure(c, rc, reject_only);
			FUZZ_ASSERT(rc != verified || strcmp(verdict, folio_errmsg(c)) == 0 || incomplete);
			folio_bundle_free(b);
			goto out;
		}
	}
	check_unpacked(b, dest);
	fuzz_note("unpacked %zu files", folio_bundle_file_count(b));
	folio_bundle_free(b);

	/* 3: the same bundle again, over it, with FOLIO_FORCE: still whole,
	 * no staging left beside it */
	b = open_bundle(c, path);
	FUZZ_ASSERT(b != NULL);
	rc = folio_bundle_unpack(b, dest, FOLIO_FORCE);
	if (rc != FOLIO_OK)
		fprintf(stderr, "fuzz: unpack --force over the same edition: %s\n", folio_errmsg(c));
	FUZZ_ASSERT(rc == FOLIO_OK);
	check_unpacked(b, dest);
	folio_bundle_free(b);
	FUZZ_ASSERT(count_entries(dir) == 1);
	FUZZ_ASSERT(nftw(dest, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
out:
	free(dest);
	close(fd);
	/* nothing left behind: no destination, no staging */
	FUZZ_ASSERT(count_entries(dir) == 0);
}
