/* SPDX-License-Identifier: ISC */
/* Key lists (FORMAT.md section 15): a channel's root key names the keys
 * that may sign its editions, each for a range of edition numbers.  The
 * list is JSON through jansson, signed like a manifest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "folio-internal.h"

#define KEYS_FORMAT_NAME "folio-keys-1"
#define KEYS_MAX_KEYS 64
#define PUBKEY_BYTES 42 /* "Ed" | key id | Ed25519 public key */

struct keylist_key {
	folio_pubkey pub; /* id, key id bytes and public key */
	uint64_t first, last;
	int64_t revoked; /* -1: not revoked */
};

struct folio_keylist {
	char *channel;
	uint64_t version;
	int64_t created;
	size_t nkeys;
	struct keylist_key keys[KEYS_MAX_KEYS];
	char signer[17]; /* the key id the signature names */
	char *json, *sig;  /* the exact bytes, NUL-terminated */
	size_t json_len, sig_len;
};

void folio_keylist_free(struct folio_keylist *kl)
{
	if (kl == NULL)
		return;
	free(kl->channel);
	free(kl->json);
	free(kl->sig);
	free(kl);
}

const char *folio_keylist_channel(const struct folio_keylist *kl) { return kl->channel; }
uint64_t folio_keylist_version(const struct folio_keylist *kl) { return kl->version; }
int64_t folio_keylist_created(const struct folio_keylist *kl) { return kl->created; }
const char *folio_keylist_signer_id(const struct folio_keylist *kl) { return kl->signer; }
size_t folio_keylist_count(const struct folio_keylist *kl) { return kl->nkeys; }

int folio_keylist_key(const struct folio_keylist *kl, size_t i, const char **id,
		      uint64_t *first, uint64_t *last, int64_t *revoked)
{
	if (i >= kl->nkeys)
		return FOLIO_EUSAGE;
	const struct keylist_key *k = &kl->keys[i];
	if (id != NULL)
		*id = k->pub.id;
	if (first != NULL)
		*first = k->first;
	if (last != NULL)
		*last = k->last;
	if (revoked != NULL)
		*revoked = k->revoked;
	return FOLIO_OK;
}

/* The index of key key_id, or nkeys when the list does not name it. */
static size_t find_index(const struct folio_keylist *kl, const char *key_id)
{
	size_t i = 0;
	while (i < kl->nkeys && strcmp(kl->keys[i].pub.id, key_id) != 0)
		i++;
	return i;
}

static const struct keylist_key *find(const struct folio_keylist *kl, const char *key_id)
{
	size_t i = find_index(kl, key_id);
	return i < kl->nkeys ? &kl->keys[i] : NULL;
}

const folio_pubkey *folio_keylist_find(const struct folio_keylist *kl, const char *key_id,
				       uint64_t *first, uint64_t *last, bool *revoked)
{
	const struct keylist_key *k = find(kl, key_id);
	if (k == NULL)
		return NULL;
	if (first != NULL)
		*first = k->first;
	if (last != NULL)
		*last = k->last;
	if (revoked != NULL)
		*revoked = k->revoked >= 0;
	return &k->pub;
}

int folio_keylist_allows(folio_ctx *ctx, const char *name, const struct folio_keylist *kl,
			 const char *key_id, uint64_t edition)
{
	const struct keylist_key *k = find(kl, key_id);
	if (k == NULL)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': signed by key %s, which the key list of channel '%s' (version %llu) does not name",
				  name, key_id, kl->channel, (unsigned long long)kl->version);
	if (k->first <= edition && edition <= k->last)
		return FOLIO_OK;
	if (k->revoked >= 0)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': signed by key %s, which the publisher revoked (key list version %llu); ask for a newer edition",
				  name, key_id, (unsigned long long)kl->version);
	if (k->last < k->first)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': edition %llu is outside the editions key %s may sign (none, key list version %llu)",
				  name, (unsigned long long)edition, key_id,
				  (unsigned long long)kl->version);
	return folio_fail(ctx, FOLIO_EREJECT,
			  "cannot verify '%s': edition %llu is outside the editions key %s may sign (%llu to %llu)",
			  name, (unsigned long long)edition, key_id, (unsigned long long)k->first,
			  (unsigned long long)k->last);
}

/* ---- the trusted comment ---------------------------------------------------- */

static char *keys_comment(const char *channel, uint64_t version, int64_t created)
{
	char when[32];
	folio_time_format(when, created);
	size_t size = strlen(channel) + 128;
	char *s = malloc(size);
	if (s != NULL)
		snprintf(s, size, "%s channel:%s version:%llu created:%s", KEYS_FORMAT_NAME,
			 channel, (unsigned long long)version, when);
	return s;
}

/* ---- decoding ----------------------------------------------------------------- */

static int decode_key(struct folio_decoder *d, json_t *o, size_t i, struct keylist_key *k)
{
	if (!json_is_object(o))
		return folio_decode_fail(d, "key %zu is not an object", i + 1);
	const char *id, *line;
	uint64_t revoked = 0;
	bool has_revoked;
	int rc;
	if ((rc = folio_decode_string(d, o, "id", 16, &id)) ||
	    (rc = folio_decode_string(d, o, "key", 56, &line)) ||
	    (rc = folio_decode_uint(d, o, "first", 1, FOLIO_JSON_INT_MAX, &k->first, NULL)) ||
	    (rc = folio_decode_uint(d, o, "last", 0, FOLIO_JSON_INT_MAX, &k->last, NULL)) ||
	    (rc = folio_decode_uint(d, o, "revoked", 0, FOLIO_JSON_INT_MAX, &revoked, &has_revoked)))
		return rc;
	uint8_t bin[PUBKEY_BYTES];
	if (!folio_base64_exact(bin, sizeof(bin), line, strlen(line)) || memcmp(bin, "Ed", 2) != 0)
		return folio_decode_fail(d, "key '%s' is not a minisign Ed25519 public key", id);
	memcpy(k->pub.keyid, bin + 2, 8);
	memcpy(k->pub.pk, bin + 10, 32);
	folio_keyid_format(k->pub.id, k->pub.keyid);
	if (strcmp(id, k->pub.id) != 0)
		return folio_decode_fail(d, "id '%s' is not the key id of its key (%s)", id, k->pub.id);
	k->revoked = has_revoked ? (int64_t)revoked : -1;
	return FOLIO_OK;
}

static int decode(struct folio_decoder *d, const char *json, size_t len, struct folio_keylist *kl)
{
	json_error_t err;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return folio_decode_fail(d, "not valid JSON: %s at line %d", err.text, err.line);
	int rc = FOLIO_OK;
	const char *format, *channel;
	uint64_t created;
	json_t *keys;
	if (!json_is_object(root)) {
		rc = folio_decode_fail(d, "not a JSON object");
		goto out;
	}
	if ((rc = folio_decode_string(d, root, "format", 32, &format)))
		goto out;
	if (strcmp(format, KEYS_FORMAT_NAME) != 0) {
		rc = folio_decode_fail(d, "unknown format '%s'", format);
		goto out;
	}
	if ((rc = folio_decode_string(d, root, "channel", FOLIO_CHANNEL_MAX, &channel)))
		goto out;
	if (!folio_channel_valid(channel)) {
		rc = folio_decode_fail(d, "bad channel name '%s'", channel);
		goto out;
	}
	if ((rc = folio_decode_uint(d, root, "version", 1, FOLIO_JSON_INT_MAX, &kl->version, NULL)) ||
	    (rc = folio_decode_uint(d, root, "created", 0, FOLIO_JSON_INT_MAX, &created, NULL)))
		goto out;
	kl->created = (int64_t)created;
	keys = json_object_get(root, "keys");
	if (keys == NULL || !json_is_array(keys)) {
		rc = folio_decode_fail(d, "field 'keys' is missing or not an array");
		goto out;
	}
	size_t n = json_array_size(keys);
	if (n < 1 || n > KEYS_MAX_KEYS) {
		rc = folio_decode_fail(d, "%zu keys: a list holds 1 to %d", n, KEYS_MAX_KEYS);
		goto out;
	}
	for (size_t i = 0; i < n && rc == FOLIO_OK; i++) {
		rc = decode_key(d, json_array_get(keys, i), i, &kl->keys[i]);
		for (size_t j = 0; j < i && rc == FOLIO_OK; j++)
			if (strcmp(kl->keys[j].pub.id, kl->keys[i].pub.id) == 0)
				rc = folio_decode_fail(d, "key %s is listed twice", kl->keys[i].pub.id);
	}
	if (rc != FOLIO_OK)
		goto out;
	kl->nkeys = n;
	kl->channel = strdup(channel);
	if (kl->channel == NULL)
		rc = folio_fail_errno(d->ctx, ENOMEM, "cannot verify '%s'", d->name);
out:
	json_decref(root);
	return rc;
}

/* folio_sig_parse and folio_sig_verify say "cannot verify 'NAME': WHAT";
 * here that becomes "cannot verify 'NAME': key list: WHAT". */
static int about_key_list(folio_ctx *ctx, const char *name, int rc)
{
	char prefix[1100];
	snprintf(prefix, sizeof(prefix), "cannot verify '%s': ", name);
	size_t n = strlen(prefix);
	const char *msg = folio_errmsg(ctx);
	if (strncmp(msg, prefix, n) != 0)
		return rc;
	char what[1024];
	snprintf(what, sizeof(what), "%s", msg + n);
	return folio_fail(ctx, rc, "cannot verify '%s': key list: %s", name, what);
}

/* Parses (and with root, verifies) a key list and its signature.  Nothing
 * of the JSON is read before the signature is checked. */
static int parse(folio_ctx *ctx, const char *name, const char *json, size_t len,
		 const char *sig, size_t siglen, const folio_pubkey *root, struct folio_keylist **out)
{
	*out = NULL;
	if (len > FOLIO_KEYS_MAX)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot verify '%s': key list larger than %d bytes", name, FOLIO_KEYS_MAX);
	struct folio_sig s;
	int rc = folio_sig_parse(ctx, name, sig, siglen, &s);
	if (rc == FOLIO_OK && root != NULL)
		rc = folio_sig_verify(ctx, name, &s, root, json, len);
	if (rc != FOLIO_OK)
		return about_key_list(ctx, name, rc);
	struct folio_keylist *kl = calloc(1, sizeof(*kl));
	if (kl == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", name);
	folio_keyid_format(kl->signer, s.keyid);
	struct folio_decoder d = {ctx, name, "key list"};
	rc = decode(&d, json, len, kl);
	char *comment = NULL;
	if (rc == FOLIO_OK && (comment = keys_comment(kl->channel, kl->version, kl->created)) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", name);
	if (rc == FOLIO_OK && strcmp(comment, s.comment) != 0)
		rc = folio_decode_fail(&d, "trusted comment does not match the list");
	free(comment);
	if (rc == FOLIO_OK) {
		kl->json = malloc(len + 1);
		kl->sig = malloc(siglen + 1);
		if (kl->json == NULL || kl->sig == NULL) {
			rc = folio_fail_errno(ctx, ENOMEM, "cannot verify '%s'", name);
		} else {
			memcpy(kl->json, json, len);
			kl->json[len] = '\0';
			kl->json_len = len;
			memcpy(kl->sig, sig, siglen);
			kl->sig[siglen] = '\0';
			kl->sig_len = siglen;
		}
	}
	if (rc != FOLIO_OK) {
		folio_keylist_free(kl);
		return rc;
	}
	*out = kl;
	return FOLIO_OK;
}

int folio_keylist_parse(folio_ctx *ctx, const char *name, const char *json, size_t len,
			const char *sig, size_t siglen, const folio_pubkey *root,
			struct folio_keylist **out)
{
	*out = NULL;
	if (root == NULL)
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot verify '%s': no trusted key", name);
	return parse(ctx, name, json, len, sig, siglen, root, out);
}

int folio_keylist_sig_keyid(folio_ctx *ctx, const char *name, const char *sig, size_t siglen,
			    char id[17])
{
	struct folio_sig s;
	int rc = folio_sig_parse(ctx, name, sig, siglen, &s);
	if (rc != FOLIO_OK)
		return about_key_list(ctx, name, rc);
	folio_keyid_format(id, s.keyid);
	return FOLIO_OK;
}

const char *folio_keylist_json(const struct folio_keylist *kl, size_t *len)
{
	if (len != NULL)
		*len = kl->json_len;
	return kl->json;
}

const char *folio_keylist_sig(const struct folio_keylist *kl, size_t *len)
{
	if (len != NULL)
		*len = kl->sig_len;
	return kl->sig;
}

static char *sig_path_of(const char *path)
{
	size_t size = strlen(path) + sizeof(".minisig");
	char *p = malloc(size);
	if (p != NULL)
		snprintf(p, size, "%s.minisig", path);
	return p;
}

int folio_keylist_load(folio_ctx *ctx, const char *path, const folio_pubkey *root,
		       struct folio_keylist **out)
{
	*out = NULL;
	char *sig_path = sig_path_of(path), *json = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	if (sig_path == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot read '%s'", path);
	int rc = folio_read_small_file(ctx, path, FOLIO_KEYS_MAX, &json, &len);
	if (rc == FOLIO_OK)
		rc = folio_read_small_file(ctx, sig_path, FOLIO_SIGNATURE_MAX, &sig, &siglen);
	if (rc == FOLIO_OK)
		rc = parse(ctx, path, json, len, sig, siglen, root, out);
	free(json);
	free(sig);
	free(sig_path);
	return rc;
}

/* ---- writing ------------------------------------------------------------------ */

static int encode(folio_ctx *ctx, const struct folio_keylist *kl, char **out, size_t *len)
{
	json_t *root = json_object(), *keys = json_array();
	int fail = root == NULL || keys == NULL;
	fail |= json_object_set_new(root, "format", json_string(KEYS_FORMAT_NAME));
	fail |= json_object_set_new(root, "channel", json_string(kl->channel));
	fail |= json_object_set_new(root, "version", json_integer((json_int_t)kl->version));
	fail |= json_object_set_new(root, "created", json_integer(kl->created));
	for (size_t i = 0; i < kl->nkeys && !fail; i++) {
		const struct keylist_key *k = &kl->keys[i];
		uint8_t bin[PUBKEY_BYTES];
		char b64[sodium_base64_ENCODED_LEN(PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		memcpy(bin, "Ed", 2);
		memcpy(bin + 2, k->pub.keyid, 8);
		memcpy(bin + 10, k->pub.pk, 32);
		sodium_bin2base64(b64, sizeof(b64), bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
		json_t *o = json_object();
		fail |= o == NULL;
		fail |= json_object_set_new(o, "id", json_string(k->pub.id));
		fail |= json_object_set_new(o, "key", json_string(b64));
		fail |= json_object_set_new(o, "first", json_integer((json_int_t)k->first));
		fail |= json_object_set_new(o, "last", json_integer((json_int_t)k->last));
		if (k->revoked >= 0)
			fail |= json_object_set_new(o, "revoked", json_integer(k->revoked));
		fail |= json_array_append_new(keys, o);
	}
	fail |= json_object_set(root, "keys", keys);
	int rc = folio_json_line(ctx, fail ? NULL : root, "the key list", out, len);
	json_decref(keys);
	json_decref(root);
	return rc;
}

/* Writes data to a temporary file beside path, fsyncs it and renames it
 * over path. */
static int replace_file(folio_ctx *ctx, const char *path, const char *data, size_t len)
{
	char *tmp;
	int rc = folio_write_temp(ctx, path, data, len, 0644, &tmp);
	if (rc != FOLIO_OK)
		return rc;
	if (rename(tmp, path) != 0) {
		rc = folio_fail_errno(ctx, errno, "cannot write '%s'", path);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int64_t creation_time(folio_ctx *ctx, int *rc)
{
	*rc = FOLIO_OK;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde != NULL && *sde != '\0') {
		char *end;
		errno = 0;
		long long t = strtoll(sde, &end, 10);
		if (errno != 0 || *end != '\0' || t < 0 || (unsigned long long)t > FOLIO_JSON_INT_MAX) {
			*rc = folio_fail(ctx, FOLIO_EUSAGE, "SOURCE_DATE_EPOCH '%s' is not a time", sde);
			return 0;
		}
		return t;
	}
	return (int64_t)time(NULL);
}

/* The list at path as root signed it, or (must_exist false) a new empty one
 * for channel when there is none. */
static int open_for_update(folio_ctx *ctx, const char *path, const folio_seckey *root,
			   const char *channel, bool must_exist, struct folio_keylist **out)
{
	*out = NULL;
	if (channel == NULL || !folio_channel_valid(channel))
		return folio_fail(ctx, FOLIO_EUSAGE, "channel '%s' is not [a-z0-9][a-z0-9._-]{0,63}",
				  channel != NULL ? channel : "");
	struct stat st;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		if (must_exist)
			return folio_fail(ctx, FOLIO_EUSAGE,
					  "cannot change '%s': it does not exist (folio-pack delegate makes it)",
					  path);
		struct folio_keylist *kl = calloc(1, sizeof(*kl));
		if (kl == NULL || (kl->channel = strdup(channel)) == NULL) {
			folio_keylist_free(kl);
			return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", path);
		}
		*out = kl;
		return FOLIO_OK;
	}
	folio_pubkey pub = {0};
	memcpy(pub.keyid, root->keyid, sizeof(pub.keyid));
	memcpy(pub.pk, root->sk + 32, sizeof(pub.pk));
	memcpy(pub.id, root->id, sizeof(pub.id));
	struct folio_keylist *kl;
	int rc = folio_keylist_load(ctx, path, &pub, &kl);
	if (rc != FOLIO_OK)
		return rc;
	if (strcmp(kl->channel, channel) != 0) {
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot change '%s': it is the key list of channel '%s', not '%s'",
				path, kl->channel, channel);
		folio_keylist_free(kl);
		return rc;
	}
	if (kl->version >= FOLIO_JSON_INT_MAX) {
		folio_keylist_free(kl);
		return folio_fail(ctx, FOLIO_EUSAGE, "cannot change '%s': its version is at the maximum", path);
	}
	*out = kl;
	return FOLIO_OK;
}

/* The next version of kl, signed by root, written to path and path.minisig. */
static int commit(folio_ctx *ctx, const char *path, const folio_seckey *root, struct folio_keylist *kl,
		  int64_t created)
{
	kl->version++;
	kl->created = created;
	char *json = NULL, *sig = NULL, *comment = NULL, *sig_path = sig_path_of(path);
	size_t len = 0, siglen = 0;
	int rc = sig_path == NULL ? folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", path) : FOLIO_OK;
	if (rc == FOLIO_OK)
		rc = encode(ctx, kl, &json, &len);
	if (rc == FOLIO_OK && len > FOLIO_KEYS_MAX)
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot write '%s': the list would be larger than %d bytes",
				path, FOLIO_KEYS_MAX);
	if (rc == FOLIO_OK && (comment = keys_comment(kl->channel, kl->version, kl->created)) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", path);
	if (rc == FOLIO_OK)
		rc = folio_sig_create(ctx, root, json, len, comment, &sig, &siglen);
	if (rc == FOLIO_OK)
		rc = replace_file(ctx, path, json, len);
	if (rc == FOLIO_OK)
		rc = replace_file(ctx, sig_path, sig, siglen);
	if (rc == FOLIO_OK)
		folio_sync_parent(path);
	free(json);
	free(sig);
	free(comment);
	free(sig_path);
	return rc;
}

int folio_keys_delegate(folio_ctx *ctx, const char *path, const folio_seckey *root,
			const folio_pubkey *day, const char *channel, uint64_t first, uint64_t last)
{
	folio_clear_error(ctx);
	if (first < 1 || first > FOLIO_JSON_INT_MAX || last > FOLIO_JSON_INT_MAX)
		return folio_fail(ctx, FOLIO_EUSAGE,
				  "the first edition must be 1 to 2^53-1 and the last 0 to 2^53-1");
	int rc;
	int64_t created = creation_time(ctx, &rc);
	if (rc != FOLIO_OK)
		return rc;
	struct folio_keylist *kl;
	rc = open_for_update(ctx, path, root, channel, false, &kl);
	if (rc != FOLIO_OK)
		return rc;
	size_t i = find_index(kl, day->id);
	if (i == KEYS_MAX_KEYS)
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot change '%s': it already names %d keys, the most a list holds",
				path, KEYS_MAX_KEYS);
	if (rc == FOLIO_OK) {
		struct keylist_key *k = &kl->keys[i];
		if (i == kl->nkeys)
			kl->nkeys++;
		k->pub = *day;
		k->first = first;
		k->last = last;
		k->revoked = -1;
		rc = commit(ctx, path, root, kl, created);
	}
	folio_keylist_free(kl);
	return rc;
}

int folio_keys_revoke(folio_ctx *ctx, const char *path, const folio_seckey *root,
		      const char *key_id, const char *channel, int64_t after)
{
	folio_clear_error(ctx);
	int rc;
	int64_t created = creation_time(ctx, &rc);
	if (rc != FOLIO_OK)
		return rc;
	struct folio_keylist *kl;
	rc = open_for_update(ctx, path, root, channel, true, &kl);
	if (rc != FOLIO_OK)
		return rc;
	size_t i = find_index(kl, key_id);
	struct keylist_key *k = i < kl->nkeys ? &kl->keys[i] : NULL;
	if (k == NULL) {
		rc = folio_fail(ctx, FOLIO_EUSAGE, "cannot revoke key %s: the key list '%s' (version %llu) does not name it",
				key_id, path, (unsigned long long)kl->version);
	} else {
		k->revoked = created;
		if (after < 0)
			k->last = 0;
		else if ((uint64_t)after < k->last)
			k->last = (uint64_t)after;
		rc = commit(ctx, path, root, kl, created);
	}
	folio_keylist_free(kl);
	return rc;
}
