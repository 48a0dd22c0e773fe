/*
 * libdgen as a fio external ioengine.
 *
 * A file engine whose writes carry libdgen data: before each write, the
 * buffer is filled with dgen_fill_at() at the I/O's file offset. A file's
 * bytes therefore depend only on the offsets written and the dgen_* options,
 * never on block size, queue depth, access order, numjobs or the number of
 * fio processes: they are exactly the bytes of an endless libdgen stream
 * (config size 0) with the same options.
 *
 * With dgen_overwrite=new (the default), a unit's first write is those
 * bytes and each later write of it the unit's next version, claimed in a
 * write state shared by the run's jobs (state.c).
 *
 * I/O goes through io_uring (uring.c) when the job asks for a queue depth
 * above 1, and through pread/pwrite (like fio's psync) otherwise or when
 * io_uring is not available. Reads can be checked against the same stream
 * (dgen_verify=1), and dgen_null=1 generates without any I/O, to measure
 * generation alone.
 *
 * Built against the headers of the fio it is loaded into (FIO_IOOPS_VERSION
 * must match); see README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "fio.h"
#include "optgroup.h"

#include "engine.h"

/* Stands in for "whole device" in null mode, where no file is looked at. */
#define NULL_MODE_FILE_SIZE (1ULL << 62)

/*
 * "must be a number from 1.0 to 1024.0": the bounds the library gives for
 * field, in its words, so no limit is copied here. Returns buf.
 */
static const char *bounds_text(uint32_t field, char *buf, size_t len)
{
	double min = 0, max = 0;

	if (dgen_param_bounds(field, &min, &max) != DGEN_STATUS_OK)
		snprintf(buf, len, "is out of range");
	else if (field == DGEN_FIELD_DEDUP_UNIT)
		snprintf(buf, len, "must be a multiple of 4096 from %.0f to %.0f",
			 min, max);
	else
		snprintf(buf, len, "must be a number from %.1f to %.1f", min, max);
	return buf;
}

/*
 * One random seed per fio run. It is drawn when fio loads the engine, in the
 * process that parses the job file and before it starts the jobs, so every
 * job of the run (numjobs clones, forked processes or threads, and later
 * job sections such as a verifying read) shares it.
 */
static uint64_t run_seed;

__attribute__((constructor)) static void draw_run_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
		/* Only a kernel without getrandom (or a seccomp filter) gets
		 * here; a varying value still beats a constant. */
		s = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
	}
	run_seed = s;
}

/* fio strips blanks around values, but job files may still carry some. */
static bool only_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * A number too large or too small for a double (1e400, 1e-400) is still a
 * number: it is reported as out of range, with the bounds the library
 * gives for a value on that side.
 */
static int parse_ratio(const char *opt, dgen_field field, const char *text,
		       double *out)
{
	char bounds[128];
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || !only_blanks(end)) {
		log_err("fio: dgen: %s=%s is not a number\n", opt, text);
		return 1;
	}
	if (errno == ERANGE && (fabs(v) == HUGE_VAL || v == 0.0)) {
		log_err("fio: dgen: %s=%s is out of range: %s %s\n", opt, text,
			field == DGEN_FIELD_DEDUP_RATIO ? "dedup_ratio" :
							  "compress_ratio",
			bounds_text(field, bounds, sizeof(bounds)));
		return 1;
	}
	*out = v;
	return 0;
}

static int parse_seed(const char *text, uint64_t *out)
{
	const char *p = skip_blanks(text);
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(p, &end, 0);
	/* strtoull accepts "-1" as 2^64-1; a seed is not negative. */
	if (*p == '-' || end == p || !only_blanks(end) || errno == ERANGE) {
		log_err("fio: dgen: dgen_seed=%s is not a whole number from 0 to "
			"18446744073709551615\n", text);
		return 1;
	}
	*out = v;
	return 0;
}

/*
 * A size in fio's own syntax (8k, 1m, 0x2000), read by fio's parser so that
 * it means what it means in bs= or size=. The option is kept as text so that
 * a message shows it as written, and so that fio never takes a '-' in it
 * for a range and parses the value twice.
 */
static int parse_dedup_unit(const char *text, uint32_t *out)
{
	/* fio's size parser looks up kb_base through its last argument; a
	 * pointer to zeros makes it use the default (1024), which is what fio
	 * does for every engine option. */
	uint32_t no_options[4] = { 0 };
	const char *p = skip_blanks(text);
	char bounds[128];
	long long v;

	if (*p == '-') {
		log_err("fio: dgen: dgen_dedup_unit=%s: %s\n", text,
			bounds_text(DGEN_FIELD_DEDUP_UNIT, bounds, sizeof(bounds)));
		return 1;
	}
	if (check_str_bytes(p, &v, no_options)) {
		log_err("fio: dgen: dgen_dedup_unit=%s is not a size (for example "
			"8k)\n", text);
		return 1;
	}
	if (v < 0 || (unsigned long long)v > UINT32_MAX) {
		log_err("fio: dgen: dgen_dedup_unit=%s: %s\n", text,
			bounds_text(DGEN_FIELD_DEDUP_UNIT, bounds, sizeof(bounds)));
		return 1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_compressor(const char *text, uint32_t *out)
{
	/* The library's names and message, as every face takes them. */
	if (dgen_compressor_from_name(skip_blanks(text), out) != DGEN_STATUS_OK) {
		log_err("fio: dgen: dgen_compressor=%s: %s\n", text,
			dgen_last_error());
		return 1;
	}
	return 0;
}

static int parse_io_mode(const char *text, enum dgen_io_mode *out)
{
	const char *p;

	*out = DGEN_IO_AUTO;
	if (!text)
		return 0;
	p = skip_blanks(text);
	if (strcmp(p, "auto") == 0)
		return 0;
	if (strcmp(p, "io_uring") == 0) {
		*out = DGEN_IO_URING;
		return 0;
	}
	if (strcmp(p, "psync") == 0) {
		*out = DGEN_IO_PSYNC;
		return 0;
	}
	log_err("fio: dgen: dgen_io=%s: must be auto, io_uring or psync\n", text);
	return 1;
}

/*
 * dgen_part=I/N, read by the library: it takes what `dgen --part` and
 * Python's part= take, and says what is wrong in the same words.
 */
static int parse_part(const char *text, uint64_t *index, uint64_t *count)
{
	if (dgen_part_parse(text, index, count) != DGEN_STATUS_OK) {
		log_err("fio: dgen: dgen_part=%s: %s\n", text, dgen_last_error());
		return 1;
	}
	return 0;
}

/*
 * Turns the options into a libdgen config. Only fields given are set; the
 * rest keep the library's defaults. The stream is endless (size 0) so that
 * content depends on the offset alone, and single threaded because fio's
 * own jobs are the parallelism and each fill is one I/O.
 */
int dgen_options_to_config(const struct dgen_fio_options *o, dgen_config *cfg,
			   bool *seed_given)
{
	dgen_config_init(cfg);
	cfg->size = 0;
	cfg->threads = 1;
	if (o->dedup &&
	    parse_ratio("dgen_dedup", DGEN_FIELD_DEDUP_RATIO, o->dedup, &cfg->dedup_ratio))
		return 1;
	if (o->compress && parse_ratio("dgen_compress", DGEN_FIELD_COMPRESS_RATIO,
				       o->compress, &cfg->compress_ratio))
		return 1;
	if (o->dedup_unit && parse_dedup_unit(o->dedup_unit, &cfg->dedup_unit))
		return 1;
	if (o->compressor && parse_compressor(o->compressor, &cfg->compressor))
		return 1;
	*seed_given = o->seed != NULL;
	if (o->seed) {
		if (parse_seed(o->seed, &cfg->seed))
			return 1;
	} else {
		cfg->seed = run_seed;
	}
	cfg->has_seed = true;
	return 0;
}

/*
 * Called by fio's parser right after it stores one option, so a bad value
 * stops fio while it reads the job file, before any job starts. Each option
 * is checked alone (the others at their defaults), so the message names the
 * option that was wrong; init() checks the whole set again per job.
 */
static int check_option(const struct fio_option *fo, void *data)
{
	const struct dgen_fio_options *given = data;
	struct dgen_fio_options one = { 0 };
	dgen_generator *gen = NULL;
	enum dgen_io_mode mode;
	uint64_t index, count;
	const char *text;
	dgen_config cfg;
	bool seed_given, same;

	switch (fo->off1) {
	case offsetof(struct dgen_fio_options, dedup):
		text = one.dedup = given->dedup;
		break;
	case offsetof(struct dgen_fio_options, compress):
		text = one.compress = given->compress;
		break;
	case offsetof(struct dgen_fio_options, seed):
		text = one.seed = given->seed;
		break;
	case offsetof(struct dgen_fio_options, dedup_unit):
		text = one.dedup_unit = given->dedup_unit;
		break;
	case offsetof(struct dgen_fio_options, compressor):
		text = one.compressor = given->compressor;
		break;
	case offsetof(struct dgen_fio_options, io):
		return parse_io_mode(given->io, &mode);
	case offsetof(struct dgen_fio_options, part):
		return given->part ? parse_part(given->part, &index, &count) : 0;
	case offsetof(struct dgen_fio_options, overwrite):
		return dgen_parse_overwrite(given->overwrite, &same);
	default:
		return 0;
	}
	if (dgen_options_to_config(&one, &cfg, &seed_given))
		return 1;
	if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s=%s: %s\n", fo->name, text, dgen_last_error());
		return 1;
	}
	dgen_free(gen);
	return 0;
}

static int set_sqpoll_cpu(void *data, unsigned long long *val)
{
	struct dgen_fio_options *o = data;

	o->sqpoll_cpu = (unsigned int)*val;
	o->sqpoll_cpu_set = 1;
	return 0;
}

/*
 * What every option of the engine's struct has: its names, its fio type,
 * where fio stores it, its help, and the engine's category.
 */
#define OPTION_FIELDS(opt_name, long_name, opt_type, field, help_text)	\
	.name	= opt_name,						\
	.lname	= long_name,						\
	.type	= opt_type,						\
	.off1	= offsetof(struct dgen_fio_options, field),		\
	.help	= help_text,						\
	.category = FIO_OPT_C_ENGINE,					\
	.group	= FIO_OPT_G_INVALID

/*
 * A dgen_* option that fio keeps as the text given, for the engine to parse.
 * Every one is checked by check_option() as soon as fio stores it, so a bad
 * value stops fio while it reads the job file.
 */
#define TEXT_OPTION(opt_name, long_name, field, help_text)		\
	{								\
		OPTION_FIELDS(opt_name, long_name, FIO_OPT_STR_STORE,	\
			      field, help_text),			\
		.verify	= check_option,					\
	}

/* An option that is on when named, as fio's own io_uring engine has them. */
#define FLAG_OPTION(opt_name, long_name, field, help_text)		\
	{								\
		OPTION_FIELDS(opt_name, long_name, FIO_OPT_STR_SET,	\
			      field, help_text),			\
	}

/* An option set to 0 or 1, off unless given. */
#define BOOL_OPTION(opt_name, long_name, field, help_text)		\
	{								\
		OPTION_FIELDS(opt_name, long_name, FIO_OPT_BOOL, field,	\
			      help_text),				\
		.def	= "0",						\
	}

static struct fio_option options[] = {
	TEXT_OPTION("dgen_dedup", "dgen dedup ratio", dedup,
		    "Dedup ratio of written data: total / distinct dedup "
		    "units, 1.0 to 1024.0, fractions allowed (default 1)"),
	TEXT_OPTION("dgen_compress", "dgen compression ratio", compress,
		    "Compression ratio of written data for LZ-family "
		    "compressors, 1.0 to 32.0, fractions allowed (default 1)"),
	TEXT_OPTION("dgen_compressor", "dgen compressor", compressor,
		    "Compressor dgen_compress is calibrated for: auto (the "
		    "geometric mean of zstd-1 and lz4 hits it), zstd, lz4, gzip, "
		    "snappy, lzo or lzjb (default auto)"),
	/* Text, read with fio's size parser: see parse_dedup_unit(). */
	TEXT_OPTION("dgen_dedup_unit", "dgen dedup unit", dedup_unit,
		    "Dedup unit in bytes (e.g. 8k): a multiple of 4k up to "
		    "64m (default 4k)"),
	TEXT_OPTION("dgen_seed", "dgen seed", seed,
		    "Seed of the data, 0 to 2^64-1 (default: one random seed "
		    "per fio run, shared by its jobs and printed)"),
	BOOL_OPTION("dgen_verify", "dgen verify reads", verify,
		    "Check every read: against the write state when the job "
		    "has one (a verdict per class at the job's end), else "
		    "against the data the same options write (a wrong byte "
		    "fails the I/O with EILSEQ)"),
	BOOL_OPTION("dgen_null", "dgen null mode", null_io,
		    "Fill write buffers but do no I/O and touch no file but "
		    "the run's state, to measure generation alone (needs "
		    "size=)"),
	TEXT_OPTION("dgen_part", "dgen part", part,
		    "Run on part I of N (from 0, e.g. 1/4) of the job's range "
		    "(offset= and size=, or the file or device from offset=), "
		    "split in 4k blocks as dgen --part splits it (default: the "
		    "whole range)"),
	TEXT_OPTION("dgen_overwrite", "dgen overwrite", overwrite,
		    "new: each write of a dedup unit carries the unit's next "
		    "version, recorded in a write state, so overwrites write "
		    "new bytes and dgen_verify=1 finds lost writes; same: the "
		    "same bytes on every pass (default new)"),
	TEXT_OPTION("dgen_state", "dgen write state file", state,
		    "Write state file for dgen_overwrite=new, shared by the "
		    "run's jobs and kept for later runs to continue and verify "
		    "(created when missing; default: one for this run only, "
		    "in $TMPDIR)"),
	TEXT_OPTION("dgen_io", "dgen I/O path", io,
		    "auto: io_uring when iodepth > 1 and the kernel allows "
		    "it, else pread/pwrite; io_uring: always io_uring (the "
		    "job fails without it); psync: pread/pwrite (default auto)"),
	FLAG_OPTION("fixedbufs", "Fixed (pre-mapped) IO buffers", fixedbufs,
		    "io_uring: register the I/O buffers with the kernel "
		    "once, as fio's io_uring engine does (default off)"),
	FLAG_OPTION("sqthread_poll", "Kernel SQ thread polling", sqpoll,
		    "io_uring: a kernel thread picks up submissions, saving "
		    "the system call per batch but busy on a CPU (default off)"),
	{
		.name	= "sqthread_poll_cpu",
		.lname	= "SQ Thread Poll CPU",
		.type	= FIO_OPT_INT,
		.cb	= set_sqpoll_cpu,
		.help	= "io_uring: the CPU the sqthread_poll thread runs on",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= NULL,
	},
};

/* Jobs that must find their data in place: they read and never write it,
 * or they check what they read. */
static bool job_needs_existing_data(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;

	return (td_read(td) && !td_write(td)) || o->verify;
}

/*
 * dgen_part splits one range: offset= and size= in bytes, or without size=
 * the file or device from offset= on. fio's other ways of placing a job
 * would move it off the part, or split a range other than the one given.
 */
static int check_part_job(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;
	const struct thread_options *to = &td->o;
	const char *with = NULL;

	if (to->nr_files > 1)
		with = "more than one file (nrfiles=, or several names in "
		       "filename=)";
	else if (to->offset_increment || to->offset_increment_percent)
		with = "offset_increment=";
	else if (to->start_offset_percent || to->start_offset_nz)
		with = "offset= in percent or zones";
	else if (to->size_percent || to->size_nz)
		with = "size= in percent or zones";
	else if (to->file_size_low)
		with = "filesize=";
	else if (to->file_append)
		with = "file_append=1";
	if (!with)
		return 0;
	log_err("fio: dgen: %s: dgen_part=%s cannot be used with %s: it splits "
		"the one range that offset= and size= give in bytes (without "
		"size=, the file or device from offset= on)\n", to->name,
		o->part, with);
	return 1;
}

/*
 * Checks what the option parser cannot see alone: combinations with fio's
 * own options, and where the job runs. Called from get_file_size(), which
 * fio runs before it lays out any file, and again from init().
 */
static int check_job(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;
	enum dgen_io_mode mode;

	if (is_backend && !o->seed) {
		/* Each fio server would draw a seed of its own, and servers
		 * writing parts of one target would make a mix of datasets. */
		log_err("fio: dgen: %s: this job runs on a fio server (fio "
			"--client) without dgen_seed, and each server would draw "
			"its own seed: give every server the same dgen_seed\n",
			td->o.name);
		return 1;
	}
	if (o->part && check_part_job(td))
		return 1;
	if (dgen_state_check_job(td))
		return 1;
	if (td->flags & TD_F_DO_VERIFY) {
		/* fio's verify= writes its own headers into every block, which
		 * would make the data no longer libdgen's. */
		log_err("fio: dgen: verify= cannot be used with this engine, "
			"whose written data must stay exactly libdgen's; set "
			"verify=0 and check reads with dgen_verify=1\n");
		return 1;
	}
	if (o->null_io && o->verify) {
		log_err("fio: dgen: dgen_verify=1 needs data read back, and "
			"dgen_null=1 does no I/O: use one or the other\n");
		return 1;
	}
	if (o->null_io && !td->o.size && !td->o.file_size_low) {
		log_err("fio: dgen: dgen_null=1 needs size= (or filesize=) "
			"since no file is looked at\n");
		return 1;
	}
	if (parse_io_mode(o->io, &mode))
		return 1;
	if (mode == DGEN_IO_URING && td->o.io_submit_mode == IO_MODE_OFFLOAD) {
		/* Offload submits from other threads than the one reaping. */
		log_err("fio: dgen: dgen_io=io_uring cannot be used with "
			"io_submit_mode=offload\n");
		return 1;
	}
	return 0;
}

/*
 * The I/O path of a job: io_uring when it is asked for, or (auto) when the
 * job wants a queue depth above 1 and fio submits from the job's thread.
 */
static bool wants_uring(struct thread_data *td, enum dgen_io_mode mode)
{
	const struct dgen_fio_options *o = td->eo;

	if (o->null_io || mode == DGEN_IO_PSYNC)
		return false;
	if (mode == DGEN_IO_URING)
		return true;
	return td->o.iodepth > 1 && td->o.io_submit_mode != IO_MODE_OFFLOAD;
}

static int dgen_init(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;
	enum dgen_io_mode mode;
	struct dgen_job *job;
	const char *why;
	dgen_config cfg;
	dgen_status st;
	bool seed_given;
	int ret;

	if (check_job(td) || dgen_options_to_config(o, &cfg, &seed_given) ||
	    parse_io_mode(o->io, &mode))
		return 1;

	job = calloc(1, sizeof(*job));
	if (!job) {
		td_verror(td, ENOMEM, "dgen init");
		return 1;
	}
	st = dgen_create(&cfg, &job->gen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s\n", dgen_last_error());
		free(job);
		return 1;
	}
	job->verify = o->verify != 0;
	job->null_io = o->null_io != 0;
	td->io_ops_data = job;

	if (wants_uring(td, mode)) {
		ret = dgen_uring_create(td, o, td->o.iodepth, &job->uring, &why);
		if (ret < 0 && mode == DGEN_IO_URING) {
			log_err("fio: dgen: %s: dgen_io=io_uring, but io_uring "
				"cannot be used here (%s: %s)\n",
				td->o.name, why, strerror(-ret));
			return 1;
		}
		if (ret < 0 && td->subjob_number == 0)
			log_info("dgen: %s: io_uring cannot be used here (%s: %s); "
				 "this job does its I/O with pread/pwrite, one at "
				 "a time, instead of at iodepth=%u\n",
				 td->o.name, why, strerror(-ret), td->o.iodepth);
	}
	if (job->uring) {
		job->nr_io_us = td->o.iodepth;
		job->io_us = calloc(job->nr_io_us, sizeof(*job->io_us));
		if (!job->io_us) {
			td_verror(td, ENOMEM, "dgen init");
			return 1;
		}
	} else {
		/* fio then runs the job as it runs psync: one I/O at a time,
		 * each complete when queue() returns. */
		td->flags |= (unsigned long long)FIO_SYNCIO << TD_ENG_FLAG_SHIFT;
		if ((o->fixedbufs || o->sqpoll) && td->subjob_number == 0)
			log_info("dgen: %s: fixedbufs and sqthread_poll apply to "
				 "io_uring only; this job uses pread/pwrite\n",
				 td->o.name);
	}

	/*
	 * fio would scramble buffers after prep() and refill them before it;
	 * prep() writes every byte, so scrambling would corrupt the data and
	 * refilling only wastes time.
	 */
	td->flags &= ~(TD_F_SCRAMBLE_BUFFERS | TD_F_REFILL_BUFFERS);
	if (td_write(td) && td->subjob_number == 0 &&
	    (td->o.refill_buffers || td->o.compress_percentage ||
	     td->o.dedupe_percentage || td->o.buffer_pattern_bytes ||
	     td->o.zero_buffers))
		log_info("dgen: %s: fio's buffer options (refill_buffers, "
			 "buffer_compress_percentage, dedupe_percentage, "
			 "buffer_pattern, zero_buffers) have no effect here: the "
			 "dgen_* options set the data\n", td->o.name);

	if (job->null_io) {
		/* From here on fio treats the job like its null engine: no
		 * cache invalidation, fadvise or I/O scheduler on the file. */
		td->flags |= (unsigned long long)FIO_DISKLESSIO << TD_ENG_FLAG_SHIFT;
	}

	/* check_job() refused a job without a seed on a fio server. */
	if (!seed_given && td->subjob_number == 0)
		log_info("dgen: %s: random seed %" PRIu64
			 " (repeat with dgen_seed=%" PRIu64 ")\n",
			 td->o.name, cfg.seed, cfg.seed);
	return 0;
}

/* fio hands over each io_u once it has made it, before post_init(). */
static int dgen_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct dgen_job *job = td->io_ops_data;

	if (job->uring && io_u->index < job->nr_io_us)
		job->io_us[io_u->index] = io_u;
	return 0;
}

static int dgen_post_init(struct thread_data *td)
{
	struct dgen_job *job = td->io_ops_data;
	int ret;

	if (!job->uring)
		return 0;
	ret = dgen_uring_register_buffers(td, job);
	if (ret < 0) {
		log_err("fio: dgen: %s: fixedbufs: registering %u buffers of %llu "
			"bytes failed: %s%s\n", td->o.name, job->nr_io_us,
			td_max_bs(td), strerror(-ret),
			ret == -ENOMEM ? " (the locked-memory limit, ulimit -l, "
					 "may be too low)" : "");
		td_verror(td, -ret, "io_uring_register_buffers");
		return 1;
	}
	return 0;
}

static void dgen_cleanup(struct thread_data *td)
{
	struct dgen_job *job = td->io_ops_data;

	if (!job) {
		dgen_state_sweep_run(td, NULL);
		return;
	}
	/* The ring first: tearing it down waits for what is in flight. */
	dgen_uring_free(job->uring);
	job->uring = NULL;
	dgen_state_end(td, job);
	dgen_state_sweep_run(td, job);
	dgen_free(job->gen);
	free(job->io_us);
	free(job);
	td->io_ops_data = NULL;
}

/*
 * Writes are filled here rather than in queue(): fio calls prep() right
 * before queue() for every I/O, and takes the I/O's start time after it, so
 * generation stays outside fio's latency figures, as fio's own buffer
 * filling does. init() turned off the only later change fio makes to write
 * buffers (scramble_buffers) and refused the other (verify= headers).
 */
static int dgen_prep(struct thread_data *td, struct io_u *io_u)
{
	struct dgen_job *job = td->io_ops_data;
	dgen_status st;

	if (job->state)
		return dgen_state_prep(td, job, io_u);
	if (io_u->ddir != DDIR_WRITE)
		return 0;
	st = dgen_fill_at(job->gen, io_u->offset, io_u->xfer_buf,
			  io_u->xfer_buflen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s: fill at offset %llu: %s\n",
			io_u->file->file_name, io_u->offset, dgen_last_error());
		td_verror(td, EIO, "dgen_fill_at");
		return 1;
	}
	return 0;
}

void dgen_verify_read(struct thread_data *td, struct dgen_job *job,
		      struct io_u *io_u, size_t len)
{
	const unsigned char *buf = io_u->xfer_buf;
	uint64_t bad = 0;
	unsigned char want = 0;
	char words[sizeof(td->verror)];
	dgen_status st;

	if (job->check) {
		dgen_state_verify_read(td, job, io_u, len);
		return;
	}
	st = dgen_verify_at(job->gen, io_u->offset, buf, len, &bad);
	if (st == DGEN_STATUS_OK)
		return;
	if (st != DGEN_STATUS_MISMATCH) {
		log_err("fio: dgen: %s: verify at offset %llu: %s\n",
			io_u->file->file_name, io_u->offset, dgen_last_error());
		io_u->error = EIO;
		return;
	}
	if (dgen_fill_at(job->gen, bad, &want, 1) != DGEN_STATUS_OK)
		want = 0;
	log_err("fio: dgen: verify failed: file %s, offset %" PRIu64
		" (0x%" PRIx64 "): expected 0x%02x, got 0x%02x\n",
		io_u->file->file_name, bad, bad, want,
		buf[bad - io_u->offset]);
	/*
	 * fio describes a failed I/O by its errno alone (EILSEQ reads as
	 * "Invalid or incomplete multibyte or wide character"). Recording the
	 * error first, in words, puts the offset in the job's summary on
	 * fio's standard output too; fio keeps the first error a job records.
	 */
	snprintf(words, sizeof(words),
		 "data differs at offset %" PRIu64 " (0x%" PRIx64 ")", bad, bad);
	td_vmsg(td, EILSEQ, words, "dgen_verify");
	io_u->error = EILSEQ;
}

/* One I/O with pread/pwrite, complete on return. */
static enum fio_q_status queue_sync(struct thread_data *td,
				    struct dgen_job *job, struct io_u *io_u)
{
	struct fio_file *f = io_u->file;
	ssize_t ret;

	/* fio counts submissions itself only for engines without commit(). */
	io_u_mark_submit(td, 1);
	io_u_mark_complete(td, 1);

	if (job->null_io) {
		if (job->state)
			dgen_state_done(td, job, io_u);
		return FIO_Q_COMPLETED;
	}

	if (io_u->ddir == DDIR_READ) {
		ret = pread(f->fd, io_u->xfer_buf, io_u->xfer_buflen, io_u->offset);
		if (ret > 0 && job->verify)
			dgen_verify_read(td, job, io_u, (size_t)ret);
	} else if (io_u->ddir == DDIR_WRITE) {
		ret = pwrite(f->fd, io_u->xfer_buf, io_u->xfer_buflen, io_u->offset);
	} else if (io_u->ddir == DDIR_TRIM) {
		do_io_u_trim(td, io_u);
		return FIO_Q_COMPLETED;
	} else {
		ret = do_io_u_sync(td, io_u);
	}

	if (ret < 0)
		io_u->error = errno;
	else if (ret != (ssize_t)io_u->xfer_buflen && !io_u->error)
		/* fio issues the rest again at the advanced offset. */
		io_u->resid = io_u->xfer_buflen - ret;

	if (io_u->error) {
		io_u_log_error(td, io_u);
		td_verror(td, io_u->error, "xfer");
	}
	if (job->state)
		dgen_state_done(td, job, io_u);
	return FIO_Q_COMPLETED;
}

static enum fio_q_status dgen_queue(struct thread_data *td, struct io_u *io_u)
{
	struct dgen_job *job = td->io_ops_data;

	fio_ro_check(td, io_u);
	if (job->uring)
		return dgen_uring_queue(td, job, io_u);
	return queue_sync(td, job, io_u);
}

static int dgen_commit(struct thread_data *td)
{
	struct dgen_job *job = td->io_ops_data;

	return job->uring ? dgen_uring_commit(td, job) : 0;
}

static int dgen_getevents(struct thread_data *td, unsigned int min,
			  unsigned int max, const struct timespec *t)
{
	struct dgen_job *job = td->io_ops_data;

	return job->uring ? dgen_uring_getevents(td, job, min, max) : 0;
}

static struct io_u *dgen_event(struct thread_data *td, int event)
{
	struct dgen_job *job = td->io_ops_data;

	return job->uring ? dgen_uring_event(td, job, event) : NULL;
}

/*
 * A job decides on its write state when it first opens its file: only then
 * are its range (the dataset the state describes) and, for a job that only
 * checks reads, the run's state known.
 */
static int dgen_open_file(struct thread_data *td, struct fio_file *f)
{
	struct dgen_job *job = td->io_ops_data;
	int ret;

	if (job && job->null_io) {
		f->fd = -1;
		ret = 0;
	} else {
		ret = generic_open_file(td, f);
	}
	/* fio's main process also opens files, to lay them out. */
	if (ret || !job || job->state_opened)
		return ret;
	if (dgen_state_open_job(td, job, f)) {
		/* fio wants a file that failed to open closed. */
		if (f->fd != -1)
			close(f->fd);
		f->fd = -1;
		return 1;
	}
	return 0;
}

static int dgen_close_file(struct thread_data *td, struct fio_file *f)
{
	struct dgen_job *job = td->io_ops_data;

	if (job && job->null_io) {
		f->fd = -1;
		return 0;
	}
	return generic_close_file(td, f);
}

/*
 * Where this job's range of a regular file ends, and whether fio would lay
 * the file out (truncate it and fill it with its own bytes) to reach it:
 * the same sums as fio's setup_files(), which runs right after fio has
 * asked every file's size.
 */
static bool fio_would_lay_out(struct thread_data *td, struct fio_file *f,
			      uint64_t *end)
{
	const struct thread_options *o = &td->o;
	const uint64_t real = f->real_file_size, bs = td_min_bs(td);
	uint64_t off, io;

	*end = 0;
	if (f->filetype != FIO_TYPE_FILE || o->create_on_open)
		return false;
	off = get_start_offset(td, f);
	if (!o->file_size_low) {
		uint64_t fs = o->nr_files ? o->size / o->nr_files : 0;

		io = fs;
		/* fio gives the first files one block more when size does
		 * not divide evenly. */
		if (fs * o->nr_files < o->size && bs &&
		    f->fileno < (o->size - fs * o->nr_files) / bs)
			io += bs;
		if (!io) {
			if (off > real)
				return false; /* fio reports it */
			io = real - off;
		}
	} else if (real < o->file_size_low || real > o->file_size_high) {
		if (o->file_size_low != o->file_size_high) {
			/* A random size from the range: above the file's
			 * whenever the file is below the range. */
			*end = o->file_size_low;
			return real < o->file_size_low;
		}
		if (off > o->file_size_low)
			return false; /* fio reports it */
		io = o->file_size_low - off;
	} else {
		io = real - off;
	}
	if (o->size_percent && o->size_percent != 100) {
		uint64_t file_size = io + off;

		io = file_size * o->size_percent / 100;
		if (io > file_size - off)
			io = file_size - off;
		if (bs)
			io -= io % bs;
	}
	*end = off + io;
	return *end > real;
}

/*
 * A writing job on a part of a regular file makes the file reach the part's
 * end itself when the file is shorter (or missing). fio would lay it out
 * instead: remove it and create it anew, losing what the jobs of other fio
 * servers or processes have already written into their parts. Growing a
 * file keeps every byte in it, whichever job gets there first, and a file
 * is never shortened.
 */
static int grow_for_part(struct thread_data *td, struct fio_file *f,
			 uint64_t end)
{
	struct stat st;
	int fd, err = 0;

	if (fio_file_size_known(f) && f->real_file_size >= end)
		return 0;
	fd = open(f->file_name, O_WRONLY | (td->o.allow_create ? O_CREAT : 0),
		  0644);
	if (fd < 0)
		err = errno;
	else if (fstat(fd, &st) < 0)
		err = errno;
	else if ((uint64_t)st.st_size < end && ftruncate(fd, (off_t)end) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		log_err("fio: dgen: %s: dgen_part: cannot make %s %" PRIu64
			" bytes long: %s\n", td->o.name, f->file_name, end,
			strerror(err));
		return 1;
	}
	if (f->real_file_size < end)
		f->real_file_size = end;
	fio_file_set_size_known(f);
	return 0;
}

/*
 * fio issues only whole blocks of at least the job's smallest block size,
 * so a part that is not a whole number of them would end in bytes that
 * are never written (or read): such a part is refused.
 */
static int part_fits_blocks(struct thread_data *td, uint64_t part_offset,
			    uint64_t part_length, uint64_t count)
{
	const struct dgen_fio_options *o = td->eo;
	enum fio_ddir ddirs[] = { DDIR_READ, DDIR_WRITE };
	unsigned long long bs;
	unsigned int i;

	for (i = 0; i < sizeof(ddirs) / sizeof(ddirs[0]); i++) {
		if ((ddirs[i] == DDIR_READ && !td_read(td)) ||
		    (ddirs[i] == DDIR_WRITE && !td_write(td)))
			continue;
		bs = td->o.min_bs[ddirs[i]];
		if (!bs || part_length % bs == 0)
			continue;
		log_err("fio: dgen: %s: dgen_part=%s is %" PRIu64 " bytes at "
			"offset %" PRIu64 ", not a whole number of %llu-byte "
			"blocks, and fio would leave its last %" PRIu64 " bytes "
			"undone: make size= a multiple of %" PRIu64 " x bs, so "
			"that every part is size/%" PRIu64 ", or use a bs that "
			"divides every part\n", td->o.name, o->part, part_length,
			part_offset, bs, (uint64_t)(part_length % bs), count,
			count);
		return 1;
	}
	return 0;
}

/*
 * Moves the job's offset= and size= to its dgen_part of the range they
 * give (without size=, the file or device from offset= on), once fio knows
 * the file's size and before it uses them: fio places the job's I/O from
 * them right after it has asked every file's size. The split is the
 * library's (dgen_part_range), so the parts are those of `dgen --part`.
 */
static int take_part(struct thread_data *td, struct fio_file *f)
{
	struct dgen_fio_options *o = td->eo;
	struct thread_options *to = &td->o;
	uint64_t index, count, offset, length, part_offset, part_length;

	if (!o->part)
		return 0;
	if (!o->part_applied) {
		if (parse_part(o->part, &index, &count))
			goto fail;
		offset = to->start_offset;
		length = to->size;
		if (!length)
			length = f->real_file_size > offset ?
				 f->real_file_size - offset : 0;
		if (dgen_part_range(offset, length, index, count, &part_offset,
				    &part_length) != DGEN_STATUS_OK) {
			log_err("fio: dgen: %s: dgen_part=%s: %s%s%s%s\n",
				to->name, o->part, dgen_last_error(),
				to->size ? "" : " (without size=, the range is "
				"what ", to->size ? "" : f->file_name,
				to->size ? "" : " holds from offset= on)");
			goto fail;
		}
		if (part_fits_blocks(td, part_offset, part_length, count))
			goto fail;
		to->start_offset = part_offset;
		to->size = part_length;
		o->part_end = offset + length;
		o->part_applied = 1;
		if (td->subjob_number == 0)
			log_info("dgen: %s: dgen_part=%s: offset=%" PRIu64
				 " size=%" PRIu64 " (of %" PRIu64 " bytes at "
				 "offset %" PRIu64 ")\n", to->name, o->part,
				 part_offset, part_length, length, offset);
	}
	if (f->filetype == FIO_TYPE_FILE && !o->null_io &&
	    !job_needs_existing_data(td) &&
	    grow_for_part(td, f, to->start_offset + to->size))
		goto fail;
	return 0;
fail:
	td_vmsg(td, EINVAL, "bad dgen_part", "dgen");
	return 1;
}

/*
 * fio asks every file's size before it lays out any file. A job that
 * reads data in place (read-only, or dgen_verify=1) must never let fio
 * write the file: it refuses here, with the file untouched. A job with
 * dgen_part takes its part here.
 */
static int dgen_get_file_size(struct thread_data *td, struct fio_file *f)
{
	const struct dgen_fio_options *o = td->eo;
	uint64_t end;
	int ret;

	/* fio's main process sizes every file before any job starts (unless
	 * create_serialize=0), and no job has run init() there yet. */
	if (!td->io_ops_data)
		dgen_state_mark_readers(td);
	if (check_job(td)) {
		/* Any error but ENOENT stops fio's file setup. */
		td_verror(td, EINVAL, "dgen options");
		return 1;
	}
	/* fio asks for sizes before init(), so read the option itself. */
	if (o->null_io) {
		f->real_file_size = NULL_MODE_FILE_SIZE;
		fio_file_set_size_known(f);
		return take_part(td, f);
	}
	ret = generic_get_file_size(td, f);
	if (!job_needs_existing_data(td)) {
		if (!o->part || (ret && td->error != ENOENT))
			return ret;
		/* A missing file is created at the part's end. */
		if (ret) {
			td_clear_error(td);
			f->real_file_size = 0;
		}
		return take_part(td, f);
	}
	if (ret && td->error == ENOENT) {
		td_clear_error(td);
		log_err("fio: dgen: %s: %s does not exist; a job that %s needs "
			"the data in place, and fio would create the file with "
			"its own bytes: write it first\n", td->o.name,
			f->file_name,
			o->verify ? "verifies (dgen_verify=1)" : "only reads");
		td_vmsg(td, EINVAL, "no file to read", "dgen");
		return 1;
	}
	if (ret)
		return ret;
	if (take_part(td, f))
		return 1;
	if (fio_would_lay_out(td, f, &end)) {
		log_err("fio: dgen: %s: %s holds %llu bytes, but this job's range "
			"ends at %" PRIu64 "; a job that %s never writes, and fio "
			"would lay the file out anew with its own bytes: write "
			"the file first, or keep size=/offset= within it\n",
			td->o.name, f->file_name, (unsigned long long)f->real_file_size, end,
			o->verify ? "verifies (dgen_verify=1)" : "only reads");
		td_vmsg(td, EINVAL, "file shorter than the job's range", "dgen");
		return 1;
	}
	return 0;
}

static int dgen_unlink_file(struct thread_data *td, struct fio_file *f)
{
	const struct dgen_fio_options *o = td->eo;

	if (o && o->null_io)
		return 0;
	if (unlink(f->file_name) < 0)
		return errno;
	return 0;
}

/*
 * The symbol fio looks up in an external engine. It is declared
 * asynchronous; init() marks the jobs that take the pread/pwrite path
 * synchronous (FIO_SYNCIO) for fio. Trims run synchronously on both paths,
 * and the io_uring path stamps each I/O's issue time when it submits it.
 */
struct ioengine_ops ioengine = {
	.name			= "dgen",
	.version		= FIO_IOOPS_VERSION,
	.flags			= FIO_ASYNCIO_SYNC_TRIM | FIO_ASYNCIO_SETS_ISSUE_TIME,
	.init			= dgen_init,
	.post_init		= dgen_post_init,
	.io_u_init		= dgen_io_u_init,
	.cleanup		= dgen_cleanup,
	.prep			= dgen_prep,
	.queue			= dgen_queue,
	.commit			= dgen_commit,
	.getevents		= dgen_getevents,
	.event			= dgen_event,
	.open_file		= dgen_open_file,
	.close_file		= dgen_close_file,
	.get_file_size		= dgen_get_file_size,
	.unlink_file		= dgen_unlink_file,
	.options		= options,
	.option_struct_size	= sizeof(struct dgen_fio_options),
};
