/* SPDX-License-Identifier: ISC */
/* The whole reader on bundle bytes: zstd, tar, the signed head, the manifest
 * and every entry, into a scratch folder (see fuzz_unpack in common.c). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_unpack(data, size);
	return 0;
}
