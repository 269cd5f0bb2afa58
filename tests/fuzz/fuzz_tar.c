/* SPDX-License-Identifier: ISC */
/* The whole reader on tar bytes: the input is compressed into one zstd frame
 * (level 1, with a checksum, as folio writes frames) and unpacked as a
 * bundle.  Mutating the tar rather than the zstd stream reaches far more of
 * the tar and manifest handling. */
#include <stdlib.h>

#include <zstd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ZSTD_CCtx *cctx;
	if (cctx == NULL) {
		cctx = ZSTD_createCCtx();
		FUZZ_ASSERT(cctx != NULL);
		FUZZ_ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1)));
		FUZZ_ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
	}
	size_t cap = ZSTD_compressBound(size);
	uint8_t *bundle = malloc(cap);
	FUZZ_ASSERT(bundle != NULL);
	size_t len = ZSTD_compress2(cctx, bundle, cap, data, size);
	FUZZ_ASSERT(!ZSTD_isError(len));
	fuzz_unpack(bundle, len);
	free(bundle);
	return 0;
}
