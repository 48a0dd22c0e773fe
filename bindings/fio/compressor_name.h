/*
 * Compressor names as the engine's dgen_compressor option and dgen_ref take
 * them: the names the dgen command and the Rust library use, mapped to
 * dgen_config.compressor values. One table, so both agree.
 */
#ifndef DGEN_FIO_COMPRESSOR_NAME_H
#define DGEN_FIO_COMPRESSOR_NAME_H

#include <stdint.h>
#include <strings.h>

#include "dgen.h"

/* What a wrong name is told, after "NAME=VALUE: ". */
#define DGEN_COMPRESSOR_NAMES "must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb"

/* Sets *out to the DGEN_COMPRESSOR_* value of `name` (any case); 0 or 1 (unknown). */
static inline int dgen_compressor_from_name(const char *name, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t value;
	} names[] = {
		{ "auto", DGEN_COMPRESSOR_AUTO },     { "zstd", DGEN_COMPRESSOR_ZSTD },
		{ "lz4", DGEN_COMPRESSOR_LZ4 },       { "gzip", DGEN_COMPRESSOR_GZIP },
		{ "snappy", DGEN_COMPRESSOR_SNAPPY }, { "lzo", DGEN_COMPRESSOR_LZO },
		{ "lzjb", DGEN_COMPRESSOR_LZJB },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*out = names[i].value;
			return 0;
		}
	}
	return 1;
}

#endif
