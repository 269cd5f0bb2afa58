/* SPDX-License-Identifier: ISC */
/* The manifest decoder (folio_manifest_decode) with the default limits.  A
 * manifest that decodes must encode, and that encoding must decode to the
 * same manifest; its paths must each be safe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void check_same(const struct folio_manifest *a, const struct folio_manifest *b)
{
	FUZZ_ASSERT(strcmp(a->channel, b->channel) == 0);
	FUZZ_ASSERT(strcmp(a->title, b->title) == 0);
	FUZZ_ASSERT(a->edition == b->edition);
	FUZZ_ASSERT(a->created == b->created && a->expires == b->expires);
	FUZZ_ASSERT(a->nfiles == b->nfiles);
	for (size_t i = 0; i < a->nfiles; i++) {
		const struct folio_file *f = &a->files[i], *g = &b->files[i];
		FUZZ_ASSERT(strcmp(f->path, g->path) == 0);
		FUZZ_ASSERT(f->size == g->size && f->mode == g->mode);
		FUZZ_ASSERT(memcmp(f->hash, g->hash, sizeof(f->hash)) == 0);
		FUZZ_ASSERT(strcmp(f->hex, g->hex) == 0);
		FUZZ_ASSERT(strcmp(f->type, g->type) == 0 && strcmp(f->layer, g->layer) == 0);
		FUZZ_ASSERT(f->same_as == g->same_as);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int reject_only[] = {FOLIO_EREJECT, 0};
	folio_ctx *ctx = fuzz_ctx();
	struct folio_manifest m;
	int rc = folio_manifest_decode(ctx, "fuzz.json", (const char *)data, size, &m);
	if (rc != FOLIO_OK) {
		fuzz_check_failure(ctx, rc, reject_only);
		FUZZ_ASSERT(m.files == NULL && m.channel == NULL && m.nfiles == 0);
		return 0;
	}
	FUZZ_ASSERT(folio_channel_valid(m.channel));
	FUZZ_ASSERT(m.expires > m.created && m.edition >= 1);
	for (size_t i = 0; i < m.nfiles; i++) {
		const struct folio_file *f = &m.files[i];
		FUZZ_ASSERT(folio_path_problem(f->path, folio_get_limit(ctx, FOLIO_LIMIT_PATH_LENGTH),
					       (unsigned)folio_get_limit(ctx, FOLIO_LIMIT_PATH_DEPTH)) == NULL);
		FUZZ_ASSERT(f->mode == 0644 || f->mode == 0755);
		FUZZ_ASSERT(f->same_as <= i);
		FUZZ_ASSERT(m.files[f->same_as].same_as == f->same_as);
	}
	char *comment = folio_trusted_comment(&m);
	FUZZ_ASSERT(comment != NULL && strlen(comment) <= FOLIO_COMMENT_MAX);
	free(comment);

	char *json = NULL;
	size_t len = 0;
	rc = folio_manifest_encode(ctx, &m, &json, &len);
	FUZZ_ASSERT(rc == FOLIO_OK);
	struct folio_manifest again;
	rc = folio_manifest_decode(ctx, "encoded.json", json, len, &again);
	if (rc != FOLIO_OK)
		fprintf(stderr, "fuzz: re-decoding failed: %s\n", folio_errmsg(ctx));
	FUZZ_ASSERT(rc == FOLIO_OK);
	check_same(&m, &again);
	folio_manifest_release(&again);
	fuzz_note("manifest of %zu files, round trip ok", m.nfiles);
	free(json);
	folio_manifest_release(&m);
	return 0;
}
