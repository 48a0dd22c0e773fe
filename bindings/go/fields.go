package dgen

/*
#include "result.h"

static dgen_go_result dgen_go_param_bounds(uint32_t field, double *min, double *max) {
	return dgen_go_result_of(dgen_param_bounds(field, min, max));
}

static dgen_go_result dgen_go_config_check(const dgen_config *cfg) {
	return dgen_go_result_of(dgen_config_check(cfg));
}
*/
import "C"

// Field names a setting the library checks: a Config field, a storage
// option or a vector argument, numbered as the C enum dgen_field.
type Field uint32

// The fields, as C numbers them.
const (
	FieldSize          Field = C.DGEN_FIELD_SIZE
	FieldDedupRatio    Field = C.DGEN_FIELD_DEDUP_RATIO
	FieldCompressRatio Field = C.DGEN_FIELD_COMPRESS_RATIO
	FieldDedupUnit     Field = C.DGEN_FIELD_DEDUP_UNIT
	FieldSeed          Field = C.DGEN_FIELD_SEED
	FieldThreads       Field = C.DGEN_FIELD_THREADS
	FieldNumaMode      Field = C.DGEN_FIELD_NUMA_MODE
	FieldNumaNode      Field = C.DGEN_FIELD_NUMA_NODE
	FieldCompressor    Field = C.DGEN_FIELD_COMPRESSOR
	FieldOffset        Field = C.DGEN_FIELD_OFFSET
	FieldLength        Field = C.DGEN_FIELD_LENGTH
	FieldJobs          Field = C.DGEN_FIELD_JOBS
	FieldBlockSize     Field = C.DGEN_FIELD_BLOCK_SIZE
	FieldIodepth       Field = C.DGEN_FIELD_IODEPTH
)

// ParamBounds returns the smallest and largest values a numeric field
// accepts: the numbers the library's checks and messages use. DedupUnit and
// BlockSize are also multiples of 4096; a named compressor may cap
// CompressRatio lower (Config.Check says so). A field that is not a number
// (NumaNode) is ErrInvalidConfig.
func ParamBounds(f Field) (min, max float64, err error) {
	var lo, hi C.double
	if err := callError(C.dgen_go_param_bounds(C.uint32_t(f), &lo, &hi)); err != nil {
		return 0, 0, err
	}
	return float64(lo), float64(hi), nil
}

// Check tells whether New would accept the config, without making a
// generator: nil, or the error New would return for the first bad field.
func (cfg Config) Check() error {
	c, bad := cfg.toC()
	if err := configCheck(&c); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	return nil
}

// configCheck is dgen_config_check with its message.
func configCheck(c *C.dgen_config) error {
	return callError(C.dgen_go_config_check(c))
}
