/* SPDX-License-Identifier: ISC */
/* minisign-format keys and prehashed Ed25519 signatures. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "folio-internal.h"

#ifdef FOLIO_FUZZING /* FUZZ BUILDS ONLY (make fuzz, check-fuzz); never defined otherwise */
/* Random bytes never carry a valid Ed25519 signature: the check runs, its
 * result is ignored, so that fuzzed bundles reach the parsers behind it. */
static int verify_ignored(const unsigned char *sig, const unsigned char *m,
			  unsigned long long mlen, const unsigned char *pk)
{
	int r = crypto_sign_verify_detached(sig, m, mlen, pk);
	(void)r;
	return 0;
}
#define crypto_sign_verify_detached verify_ignored
#endif

#define PUBKEY_BYTES 42   /* "Ed" | key id | public key */
#define SECKEY_BYTES 158  /* see docs/FORMAT.md */
#define SIG_BYTES 74      /* "ED" | key id | signature */
#define KEY_FILE_MAX 4096
#define SCRYPT_MEMLIMIT_MAX (2ull << 30) /* refuse keys that ask for more */
#define SCRYPT_OPSLIMIT_MAX (1ull << 32)

struct seckey_blob {
	uint8_t sig_alg[2];
	uint8_t kdf_alg[2];
	uint8_t chk_alg[2];
	uint8_t salt[32];
	uint8_t opslimit[8];
	uint8_t memlimit[8];
	/* the part scrypt encrypts: */
	uint8_t keyid[8];
	uint8_t sk[64];
	uint8_t chk[32];
};
#define SECRET_PART_BYTES (8 + 64 + 32)
_Static_assert(sizeof(struct seckey_blob) == SECKEY_BYTES, "packed layout");

void folio_keyid_format(char out[17], const uint8_t keyid[8])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02X", keyid[7 - i]);
}

int folio_read_small_file(folio_ctx *ctx, const char *path, size_t max,
			  char **out, size_t *len)
{
	/* O_NONBLOCK: a FIFO must not hang us; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return folio_fail_errno(ctx, errno, "cannot open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return folio_fail_errno(ctx, err, "cannot read '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return folio_fail(ctx, FOLIO_EREJECT, "cannot read '%s': not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return folio_fail(ctx, FOLIO_EREJECT, "cannot read '%s': larger than %zu bytes",
				  path, max);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return folio_fail_errno(ctx, ENOMEM, "cannot read '%s'", path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return folio_fail_errno(ctx, err, "cannot read '%s'", path);
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return FOLIO_OK;
}

int folio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int folio_write_temp(folio_ctx *ctx, const char *path, const void *data, size_t len,
		     unsigned mode, char **tmp)
{
	size_t size = strlen(path) + 16;
	char *name = malloc(size);
	if (name == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", path);
	snprintf(name, size, "%s.tmp-XXXXXX", path);
	int fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		free(name);
		return folio_fail_errno(ctx, err, "cannot write '%s'", path);
	}
	int err = 0;
	if (fchmod(fd, (mode_t)mode) != 0 || folio_write_all(fd, data, len) != 0)
		err = errno;
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		unlink(name);
		free(name);
		return folio_fail_errno(ctx, err, "cannot write '%s'", path);
	}
	*tmp = name;
	return FOLIO_OK;
}

void folio_sync_parent(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return;
	char *slash = strrchr(copy, '/');
	if (slash != NULL)
		slash[slash == copy] = '\0';
	int fd = open(slash == NULL ? "." : copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Splits data into lines ending in "\n" or "\r\n" (the last may lack its
 * end).  Refuses NUL and a CR anywhere else.  Returns the line count, or -1
 * with *why set. */
static int split_lines(const char *data, size_t len, const char **starts,
		       size_t *lens, int max_lines, const char **why)
{
	int n = 0;
	size_t i = 0;
	while (i < len) {
		if (n == max_lines) {
			*why = "too many lines";
			return -1;
		}
		size_t start = i;
		while (i < len && data[i] != '\n') {
			if (data[i] == '\0') {
				*why = "NUL byte";
				return -1;
			}
			if (data[i] == '\r' && !(i + 1 < len && data[i + 1] == '\n')) {
				*why = "carriage return inside a line";
				return -1;
			}
			i++;
		}
		size_t end = i;
		if (end > start && data[end - 1] == '\r')
			end--;
		starts[n] = data + start;
		lens[n] = end - start;
		n++;
		if (i < len)
			i++; /* the '\n' */
	}
	return n;
}

static bool base64_exact(uint8_t *out, size_t want, const char *b64, size_t len)
{
	/* libsodium 1.0.18 reads bytes above 0x7f as '/': check the alphabet
	 * first. */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	for (size_t i = 0; i < len; i++)
		if (b64[i] == '\0' || strchr(alphabet, b64[i]) == NULL)
			return false;
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, want, b64, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return got == want && end == b64 + len;
}

bool folio_base64_exact(uint8_t *out, size_t want, const char *b64, size_t len)
{
	return base64_exact(out, want, b64, len);
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);
	return len >= plen && memcmp(s, prefix, plen) == 0;
}

/* Lines 1 and 2 of a key file: comment and base64 payload. */
static int parse_key_text(folio_ctx *ctx, const char *name, const char *data,
			  size_t len, uint8_t *bin, size_t want)
{
	const char *starts[3];
	size_t lens[3];
	const char *why = NULL;
	int n = split_lines(data, len, starts, lens, 3, &why);
	if (n < 0)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot load key '%s': %s", name, why);
	if (n == 3 && lens[2] != 0)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot load key '%s': too many lines", name);
	if (n < 2)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot load key '%s': too few lines", name);
	if (!starts_with(starts[0], lens[0], "untrusted comment: "))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot load key '%s': first line is not an untrusted comment", name);
	if (!base64_exact(bin, want, starts[1], lens[1]))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot load key '%s': second line is not base64 of %zu bytes",
				  name, want);
	return FOLIO_OK;
}

int folio_pubkey_parse(folio_ctx *ctx, const char *name, const char *data,
		       size_t len, folio_pubkey **out)
{
	uint8_t bin[PUBKEY_BYTES];
	int rc = parse_key_text(ctx, name, data, len, bin, sizeof(bin));
	if (rc != FOLIO_OK)
		return rc;
	if (memcmp(bin, "Ed", 2) != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot load key '%s': not an Ed25519 public key", name);
	folio_pubkey *key = calloc(1, sizeof(*key));
	if (key == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot load key '%s'", name);
	memcpy(key->keyid, bin + 2, 8);
	memcpy(key->pk, bin + 10, 32);
	folio_keyid_format(key->id, key->keyid);
	*out = key;
	return FOLIO_OK;
}

int folio_pubkey_load(folio_ctx *ctx, const char *path, folio_pubkey **out)
{
	char *data;
	size_t len;
	int rc = folio_read_small_file(ctx, path, KEY_FILE_MAX, &data, &len);
	if (rc != FOLIO_OK)
		return rc;
	rc = folio_pubkey_parse(ctx, path, data, len, out);
	free(data);
	return rc;
}

int folio_seckey_public(folio_ctx *ctx, const folio_seckey *key, folio_pubkey **out)
{
	folio_pubkey *pub = calloc(1, sizeof(*pub));
	if (pub == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot use key %s", key->id);
	memcpy(pub->keyid, key->keyid, sizeof(pub->keyid));
	memcpy(pub->pk, key->sk + 32, sizeof(pub->pk));
	memcpy(pub->id, key->id, sizeof(pub->id));
	*out = pub;
	return FOLIO_OK;
}

void folio_pubkey_free(folio_pubkey *key)
{
	free(key);
}

const char *folio_pubkey_id(const folio_pubkey *key)
{
	return key->id;
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static void seckey_checksum(uint8_t out[32], const struct seckey_blob *blob)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, blob->sig_alg, 2);
	crypto_generichash_update(&st, blob->keyid, 8);
	crypto_generichash_update(&st, blob->sk, 64);
	crypto_generichash_final(&st, out, 32);
}

/* XORs the secret part of blob with the scrypt stream of passphrase. */
static int scrypt_xor(folio_ctx *ctx, const char *name, struct seckey_blob *blob,
		      const char *passphrase)
{
	uint64_t ops = load_le64(blob->opslimit), mem = load_le64(blob->memlimit);
	if (ops > SCRYPT_OPSLIMIT_MAX || mem > SCRYPT_MEMLIMIT_MAX)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot load key '%s': unreasonable scrypt limits", name);
	uint8_t *stream = sodium_malloc(SECRET_PART_BYTES);
	if (stream == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot load key '%s'", name);
	if (crypto_pwhash_scryptsalsa208sha256(stream, SECRET_PART_BYTES, passphrase,
					       strlen(passphrase), blob->salt, ops,
					       (size_t)mem) != 0) {
		sodium_free(stream);
		return folio_fail_errno(ctx, ENOMEM,
					"cannot derive the key of '%s' (scrypt)", name);
	}
	uint8_t *secret = blob->keyid;
	for (size_t i = 0; i < SECRET_PART_BYTES; i++)
		secret[i] ^= stream[i];
	sodium_free(stream);
	return FOLIO_OK;
}

int folio_seckey_parse(folio_ctx *ctx, const char *name, const char *data,
		       size_t len, const char *passphrase, folio_seckey **out)
{
	struct seckey_blob *blob = sodium_malloc(sizeof(*blob));
	folio_seckey *key = sodium_malloc(sizeof(*key));
	int rc = FOLIO_OK;
	if (blob == NULL || key == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot load key '%s'", name);
		goto out;
	}
	rc = parse_key_text(ctx, name, data, len, (uint8_t *)blob, sizeof(*blob));
	if (rc != FOLIO_OK)
		goto out;
	if (memcmp(blob->sig_alg, "Ed", 2) != 0 || memcmp(blob->chk_alg, "B2", 2) != 0) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot load key '%s': not an Ed25519 secret key", name);
		goto out;
	}
	bool encrypted = memcmp(blob->kdf_alg, "Sc", 2) == 0;
	if (!encrypted && memcmp(blob->kdf_alg, "\0\0", 2) != 0) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot load key '%s': unknown key derivation", name);
		goto out;
	}
	if (encrypted) {
		if (passphrase == NULL) {
			rc = folio_fail(ctx, FOLIO_ENEEDPASS,
					"key '%s' is encrypted: a passphrase is needed", name);
			goto out;
		}
		rc = scrypt_xor(ctx, name, blob, passphrase);
		if (rc != FOLIO_OK)
			goto out;
	}
	uint8_t chk[32];
	seckey_checksum(chk, blob);
	/* minisign -W leaves the checksum of an unencrypted key zero. */
	bool zero_chk = sodium_is_zero(blob->chk, sizeof(blob->chk));
	if (sodium_memcmp(chk, blob->chk, 32) != 0 && (encrypted || !zero_chk)) {
		rc = folio_fail(ctx, FOLIO_EREJECT, encrypted
				? "cannot load key '%s': wrong passphrase"
				: "cannot load key '%s': checksum does not match", name);
		goto out;
	}
	/* The public half must belong to the seed, or signatures would not verify. */
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, blob->sk);
	bool consistent = sodium_memcmp(pk, blob->sk + 32, 32) == 0;
	sodium_memzero(sk, sizeof(sk));
	if (!consistent) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot load key '%s': public half does not match the secret key", name);
		goto out;
	}
	memcpy(key->keyid, blob->keyid, 8);
	memcpy(key->sk, blob->sk, 64);
	folio_keyid_format(key->id, key->keyid);
	*out = key;
	key = NULL;
out:
	sodium_free(blob);
	sodium_free(key);
	return rc;
}

int folio_seckey_load(folio_ctx *ctx, const char *path, const char *passphrase,
		      folio_seckey **out)
{
	char *data;
	size_t len;
	int rc = folio_read_small_file(ctx, path, KEY_FILE_MAX, &data, &len);
	if (rc != FOLIO_OK)
		return rc;
	rc = folio_seckey_parse(ctx, path, data, len, passphrase, out);
	sodium_memzero(data, len);
	free(data);
	return rc;
}

void folio_seckey_free(folio_seckey *key)
{
	sodium_free(key); /* wipes */
}

const char *folio_seckey_id(const folio_seckey *key)
{
	return key->id;
}

/* ---- key generation ------------------------------------------------------ */

static char *base64_line(const uint8_t *bin, size_t len)
{
	size_t size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(size);
	if (out != NULL)
		sodium_bin2base64(out, size, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* Moves tmp to path; without force, never over an existing file. */
static int install_file(folio_ctx *ctx, const char *tmp, const char *path, int force)
{
	int r = force ? rename(tmp, path) : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
	if (r != 0 && !force && (errno == EINVAL || errno == ENOSYS)) {
		/* no RENAME_NOREPLACE here: link() also refuses to overwrite */
		r = link(tmp, path);
		if (r == 0)
			unlink(tmp);
	}
	if (r != 0) {
		int err = errno;
		if (err == EEXIST)
			return folio_fail(ctx, FOLIO_EUSAGE,
					  "cannot write '%s': it exists (use --force to replace it)", path);
		return folio_fail_errno(ctx, err, "cannot write '%s'", path);
	}
	return FOLIO_OK;
}

int folio_keygen(folio_ctx *ctx, const char *path, const char *passphrase,
		 int force, char keyid_out[17])
{
	size_t plen = strlen(path) + 5;
	char *key_path = malloc(plen), *pub_path = malloc(plen);
	struct seckey_blob *blob = sodium_malloc(sizeof(*blob));
	char *key_text = NULL, *pub_text = NULL, *b64 = NULL, *key_tmp = NULL, *pub_tmp = NULL;
	int rc = FOLIO_OK;
	if (key_path == NULL || pub_path == NULL || blob == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot generate a key");
		goto out;
	}
	snprintf(key_path, plen, "%s.key", path);
	snprintf(pub_path, plen, "%s.pub", path);
	if (!force) {
		const char *existing = access(key_path, F_OK) == 0 ? key_path
				     : access(pub_path, F_OK) == 0 ? pub_path : NULL;
		if (existing != NULL) {
			rc = folio_fail(ctx, FOLIO_EUSAGE,
					"cannot write '%s': it exists (use --force to replace it)",
					existing);
			goto out;
		}
	}

	memset(blob, 0, sizeof(*blob));
	memcpy(blob->sig_alg, "Ed", 2);
	memcpy(blob->chk_alg, "B2", 2);
	randombytes_buf(blob->keyid, 8);
	uint8_t pk[32];
	crypto_sign_keypair(pk, blob->sk);
	seckey_checksum(blob->chk, blob);
	char id[17];
	folio_keyid_format(id, blob->keyid);

	uint8_t pub[PUBKEY_BYTES];
	memcpy(pub, "Ed", 2);
	memcpy(pub + 2, blob->keyid, 8);
	memcpy(pub + 10, pk, 32);

	if (passphrase != NULL) {
		memcpy(blob->kdf_alg, "Sc", 2);
		randombytes_buf(blob->salt, sizeof(blob->salt));
		store_le64(blob->opslimit, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE);
		store_le64(blob->memlimit, crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
		rc = scrypt_xor(ctx, key_path, blob, passphrase);
		if (rc != FOLIO_OK)
			goto out;
	}

	size_t tsize = 512;
	key_text = sodium_malloc(tsize);
	pub_text = malloc(tsize);
	if (key_text == NULL || pub_text == NULL || (b64 = base64_line((uint8_t *)blob, sizeof(*blob))) == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot generate a key");
		goto out;
	}
	snprintf(key_text, tsize, "untrusted comment: folio secret key %s\n%s\n", id, b64);
	sodium_memzero(b64, strlen(b64));
	free(b64);
	if ((b64 = base64_line(pub, sizeof(pub))) == NULL) {
		rc = folio_fail_errno(ctx, ENOMEM, "cannot generate a key");
		goto out;
	}
	snprintf(pub_text, tsize, "untrusted comment: minisign public key %s\n%s\n", id, b64);

	rc = folio_write_temp(ctx, key_path, key_text, strlen(key_text), 0600, &key_tmp);
	if (rc == FOLIO_OK)
		rc = folio_write_temp(ctx, pub_path, pub_text, strlen(pub_text), 0644, &pub_tmp);
	if (rc == FOLIO_OK)
		rc = install_file(ctx, key_tmp, key_path, force);
	if (rc == FOLIO_OK) {
		free(key_tmp);
		key_tmp = NULL;
		rc = install_file(ctx, pub_tmp, pub_path, force);
		if (rc != FOLIO_OK && !force)
			unlink(key_path); /* both files or neither */
	}
	if (rc == FOLIO_OK && keyid_out != NULL)
		memcpy(keyid_out, id, 17);
out:
	if (key_tmp != NULL)
		unlink(key_tmp);
	if (pub_tmp != NULL)
		unlink(pub_tmp);
	free(key_tmp);
	free(pub_tmp);
	free(b64);
	sodium_free(key_text);
	free(pub_text);
	sodium_free(blob);
	free(key_path);
	free(pub_path);
	return rc;
}

/* ---- signatures ---------------------------------------------------------- */

int folio_sig_parse(folio_ctx *ctx, const char *name, const char *data,
		    size_t len, struct folio_sig *out)
{
	const char *starts[5];
	size_t lens[5];
	const char *why = NULL;
	if (len > FOLIO_SIGNATURE_MAX)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot verify '%s': signature too large", name);
	if (len == 0 || data[len - 1] != '\n')
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: no final newline", name);
	int n = split_lines(data, len, starts, lens, 4, &why);
	if (n < 0)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot verify '%s': malformed signature: %s",
				  name, why);
	if (n != 4)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: %d lines instead of 4", name, n);
	if (!starts_with(starts[0], lens[0], "untrusted comment: "))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: no untrusted comment", name);
	uint8_t bin[SIG_BYTES];
	if (!base64_exact(bin, sizeof(bin), starts[1], lens[1]))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: bad signature line", name);
	if (memcmp(bin, "Ed", 2) == 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': legacy signature (not prehashed) refused", name);
	if (memcmp(bin, "ED", 2) != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': unknown signature algorithm", name);
	static const char tc[] = "trusted comment: ";
	if (!starts_with(starts[2], lens[2], tc))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: no trusted comment", name);
	size_t clen = lens[2] - (sizeof(tc) - 1);
	if (clen > FOLIO_COMMENT_MAX)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': trusted comment too long", name);
	if (!base64_exact(out->global, sizeof(out->global), starts[3], lens[3]))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': malformed signature: bad global signature line", name);
	memcpy(out->keyid, bin + 2, 8);
	memcpy(out->sig, bin + 10, 64);
	memcpy(out->comment, starts[2] + sizeof(tc) - 1, clen);
	out->comment[clen] = '\0';
	out->comment_len = clen;
	return FOLIO_OK;
}

int folio_sig_verify(folio_ctx *ctx, const char *name, const struct folio_sig *sig,
		     const folio_pubkey *key, const void *msg, size_t msglen)
{
	if (memcmp(sig->keyid, key->keyid, 8) != 0) {
		char id[17];
		folio_keyid_format(id, sig->keyid);
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': signed by key %s, not by the trusted key %s",
				  name, id, key->id);
	}
	uint8_t hash[crypto_generichash_BYTES_MAX];
	crypto_generichash(hash, sizeof(hash), msg, msglen, NULL, 0);
	if (crypto_sign_verify_detached(sig->sig, hash, sizeof(hash), key->pk) != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': signature does not match key %s", name, key->id);
	uint8_t global_msg[64 + FOLIO_COMMENT_MAX];
	memcpy(global_msg, sig->sig, 64);
	memcpy(global_msg + 64, sig->comment, sig->comment_len);
	if (crypto_sign_verify_detached(sig->global, global_msg, 64 + sig->comment_len,
					key->pk) != 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': trusted comment does not match its signature", name);
	return FOLIO_OK;
}

int folio_sig_create(folio_ctx *ctx, const folio_seckey *key, const void *msg,
		     size_t msglen, const char *trusted_comment, char **out,
		     size_t *outlen)
{
	size_t clen = strlen(trusted_comment);
	if (clen > FOLIO_COMMENT_MAX || strpbrk(trusted_comment, "\r\n") != NULL)
		return folio_fail(ctx, FOLIO_EUSAGE, "trusted comment too long or not one line");
	uint8_t hash[crypto_generichash_BYTES_MAX];
	crypto_generichash(hash, sizeof(hash), msg, msglen, NULL, 0);
	uint8_t bin[SIG_BYTES];
	memcpy(bin, "ED", 2);
	memcpy(bin + 2, key->keyid, 8);
	crypto_sign_detached(bin + 10, NULL, hash, sizeof(hash), key->sk);
	uint8_t global_msg[64 + FOLIO_COMMENT_MAX], global[64];
	memcpy(global_msg, bin + 10, 64);
	memcpy(global_msg + 64, trusted_comment, clen);
	crypto_sign_detached(global, NULL, global_msg, 64 + clen, key->sk);

	char *sig_b64 = base64_line(bin, sizeof(bin)), *global_b64 = base64_line(global, sizeof(global));
	size_t size = clen + 512;
	char *text = malloc(size);
	if (sig_b64 == NULL || global_b64 == NULL || text == NULL) {
		free(sig_b64);
		free(global_b64);
		free(text);
		return folio_fail_errno(ctx, ENOMEM, "cannot sign");
	}
	int n = snprintf(text, size,
			 "untrusted comment: signature from minisign secret key\n%s\n"
			 "trusted comment: %s\n%s\n",
			 sig_b64, trusted_comment, global_b64);
	free(sig_b64);
	free(global_b64);
	*out = text;
	*outlen = (size_t)n;
	return FOLIO_OK;
}
