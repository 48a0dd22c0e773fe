/*
 * dgen_ref: writes the first BYTES bytes of the libdgen stream that the fio
 * engine writes for the same options, read in order with dgen_fill (the
 * engine fills each I/O with dgen_fill_at, so a match also shows that the
 * stream and random access agree).
 *
 * usage: dgen_ref OUT BYTES DEDUP COMPRESS DEDUP_UNIT SEED [COMPRESSOR]
 *   BYTES and DEDUP_UNIT in bytes; the stream is endless (config size 0),
 *   as in the engine. COMPRESSOR is a name as dgen_compressor takes it
 *   (auto when left out).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen.h"

#define CHUNK (1u << 20)

static int parse_u64(const char *what, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '-' || end == s || *end || errno) {
		fprintf(stderr, "dgen_ref: %s=%s is not a whole number\n", what, s);
		return 1;
	}
	*out = v;
	return 0;
}

static int parse_double(const char *what, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end || errno) {
		fprintf(stderr, "dgen_ref: %s=%s is not a number\n", what, s);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	dgen_generator *gen = NULL;
	dgen_config cfg;
	uint64_t bytes, unit, done = 0;
	unsigned char *buf;
	FILE *out;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: %s OUT BYTES DEDUP COMPRESS DEDUP_UNIT SEED "
			"[COMPRESSOR]\n", argv[0]);
		return 2;
	}
	dgen_config_init(&cfg);
	cfg.size = 0;
	cfg.has_seed = true;
	if (parse_u64("BYTES", argv[2], &bytes) ||
	    parse_double("DEDUP", argv[3], &cfg.dedup_ratio) ||
	    parse_double("COMPRESS", argv[4], &cfg.compress_ratio) ||
	    parse_u64("DEDUP_UNIT", argv[5], &unit) ||
	    parse_u64("SEED", argv[6], &cfg.seed))
		return 2;
	if (unit > UINT32_MAX) {
		fprintf(stderr, "dgen_ref: DEDUP_UNIT=%s is too large\n", argv[5]);
		return 2;
	}
	cfg.dedup_unit = (uint32_t)unit;
	if (argc == 8 &&
	    dgen_compressor_from_name(argv[7], &cfg.compressor) != DGEN_STATUS_OK) {
		fprintf(stderr, "dgen_ref: COMPRESSOR=%s: %s\n", argv[7],
			dgen_last_error());
		return 2;
	}

	if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) {
		fprintf(stderr, "dgen_ref: %s\n", dgen_last_error());
		return 1;
	}
	buf = malloc(CHUNK);
	out = fopen(argv[1], "wb");
	if (!buf || !out) {
		fprintf(stderr, "dgen_ref: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (done < bytes) {
		size_t want = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
		size_t got = 0;

		if (dgen_fill(gen, buf, want, &got) != DGEN_STATUS_OK || got != want) {
			fprintf(stderr, "dgen_ref: fill at %llu: %s\n",
				(unsigned long long)done, dgen_last_error());
			return 1;
		}
		if (fwrite(buf, 1, got, out) != got) {
			fprintf(stderr, "dgen_ref: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		done += got;
	}
	if (fclose(out) != 0) {
		fprintf(stderr, "dgen_ref: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	free(buf);
	dgen_free(gen);
	return 0;
}
